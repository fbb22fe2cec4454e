"""Carbon Manifest's pure methodology engine (docs/engine.md; traces: docs/design.md §4).

Plain Python over numpy; it never imports Django.  A methodology is a module of small
formula functions; each is registered in :data:`METHODOLOGIES` by its id.  A case is a
JSON object with ``"methodology"`` and its inputs; :func:`run_case` returns the outputs
plus ``"trace"`` (the canonical record of inputs, factors, steps, result, normalised
case and versions) and ``"trace_sha256"``.  :func:`recompute` re-runs a stored trace's
case and returns the new canonical bytes and their SHA-256, which equal the stored ones.
"""

from __future__ import annotations

ENGINE_VERSION = "0.1.0"

import inspect  # noqa: E402  (ENGINE_VERSION must exist before the submodules load)
from collections.abc import Callable, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

from methodologies import (  # noqa: E402
    cbam_default,
    cbam_installation,
    certificates,
    hydrogen,
    mixture,
    modelled,
    plausibility,
    route_aluminium,
    route_cement,
    route_minerals,
    route_steel,
    satellite,
)
from methodologies.errors import CaseError, UnknownMethodologyError  # noqa: E402
from methodologies.trace import canonical_bytes, sha256_hex  # noqa: E402


@dataclass(frozen=True)
class Methodology:
    """A registered methodology: id, version, one-line summary and its ``run``."""

    id: str
    version: str
    summary: str
    run: Callable[[Mapping[str, Any]], dict[str, Any]]
    module: ModuleType

    @property
    def docstring(self) -> str:
        """The methodology module's docstring: its case keys, formulas and references."""
        return inspect.getdoc(self.module) or ""


def _register(module: ModuleType) -> Methodology:
    return Methodology(module.METHODOLOGY_ID, module.VERSION, module.SUMMARY, module.run, module)


#: Methodology id → methodology.
METHODOLOGIES: dict[str, Methodology] = {
    m.id: m
    for m in (
        _register(cbam_default),
        _register(cbam_installation),
        _register(certificates),
        _register(route_steel),
        _register(route_cement),
        _register(route_aluminium),
        _register(route_minerals),
        _register(modelled),
        _register(satellite),
        _register(mixture),
        Methodology(
            hydrogen.RFNBO_ID,
            hydrogen.VERSION,
            hydrogen.RFNBO_SUMMARY,
            hydrogen.run_rfnbo,
            hydrogen.rfnbo,
        ),
        Methodology(
            hydrogen.US45V_ID,
            hydrogen.VERSION,
            hydrogen.US45V_SUMMARY,
            hydrogen.run_us45v,
            hydrogen.us45v,
        ),
        Methodology(
            hydrogen.SMR_ID, hydrogen.VERSION, hydrogen.SMR_SUMMARY, hydrogen.run_smr, hydrogen.smr
        ),
    )
}


def run_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """Run one case: the outputs, ``trace`` (dict) and ``trace_sha256`` (hex).

    Dispatches on ``case["methodology"]``; raises :class:`CaseError` (a malformed case,
    including :class:`~methodologies.errors.ImplausibleValueError`: an input outside its
    physical range, checked here for every methodology by
    :func:`methodologies.plausibility.check`) or another
    :class:`~methodologies.errors.MethodologyError`.
    """
    if not isinstance(case, Mapping):
        raise CaseError(
            "case", "a JSON object with a 'methodology' key", f"got {type(case).__name__}"
        )
    name = case.get("methodology")
    methodology = METHODOLOGIES.get(name) if isinstance(name, str) else None
    if methodology is None:
        raise UnknownMethodologyError(name, list(METHODOLOGIES))
    plausibility.check(methodology.id, case)
    return methodology.run(case)


def recompute(trace: Mapping[str, Any]) -> tuple[bytes, str]:
    """Recompute a trace from its stored case: (canonical bytes, SHA-256 hex)."""
    if not isinstance(trace, Mapping) or not isinstance(trace.get("case"), Mapping):
        raise CaseError("trace.case", "a trace object holding its normalised case", "missing")
    data = canonical_bytes(run_case(trace["case"])["trace"])
    return data, sha256_hex(data)


__all__ = ["ENGINE_VERSION", "METHODOLOGIES", "Methodology", "recompute", "run_case"]
