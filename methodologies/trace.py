"""Canonical traces: RFC 8785 JSON, SHA-256, and the trace's building blocks.

A trace (docs/design.md §4) is one JSON object::

    {"methodology": {"id", "version"},
     "inputs":  [{"name", "value", "unit", "evidence"?: {"ref", "sha256"},
                 "uncertainty"?: {...}}],
     "factors": [{"name", "value", "unit", "source", "valid_from", "valid_to"}],
     "steps":   [{"formula_id", "formula", "inputs": {...}, "value", "unit"}],
     "result":  {... outputs, "tier", "interval" when relevant},
     "case":    {... the complete normalised input case},
     "versions": {"engine", "python", "numpy"}}

Its bytes are the JSON Canonicalization Scheme of RFC 8785
(https://www.rfc-editor.org/rfc/rfc8785), produced by the ``rfc8785`` package, and
``trace_sha256`` is the SHA-256 of those bytes.  Because ``case`` holds the whole
normalised input, ``run_case(trace["case"])`` recomputes the same bytes.

Numbers: floats are kept at full float64 precision; RFC 8785 §3.2.2.3 serialises them
with the shortest round-tripping decimal (ECMAScript ``Number.prototype.toString``),
which is deterministic.  Values are rounded only where a regulation says so (the CBAM
default values, :mod:`methodologies.cbam_default`).  NaN and ±infinity are refused
with :class:`~methodologies.errors.TraceError`.
"""

from __future__ import annotations

import hashlib
import math
import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import rfc8785

from methodologies.errors import TraceError


def _plain(obj: Any, path: str) -> Any:
    """Return ``obj`` as plain JSON types (dict, list, str, int, float, bool, None).

    numpy scalars become Python numbers, tuples become lists; NaN, ±inf and
    unsupported types raise :class:`TraceError` naming ``path``.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        if not math.isfinite(value):
            raise TraceError(path, f"{value!r} is not allowed in a trace")
        return value
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TraceError(f"{path}.{key!r}", "object keys must be strings")
            out[key] = _plain(value, f"{path}.{key}")
        return out
    if isinstance(obj, list | tuple):
        return [_plain(value, f"{path}[{i}]") for i, value in enumerate(obj)]
    raise TraceError(path, f"unsupported type {type(obj).__name__}")


def canonical_bytes(obj: Any) -> bytes:
    """Serialise ``obj`` as RFC 8785 canonical JSON [UTF-8 bytes].

    Reference: RFC 8785, JSON Canonicalization Scheme (JCS).
    """
    try:
        return rfc8785.dumps(_plain(obj, "$"))
    except rfc8785.CanonicalizationError as exc:  # e.g. integers beyond ±2**53
        raise TraceError("$", str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex digits (FIPS 180-4)."""
    return hashlib.sha256(data).hexdigest()


def engine_versions() -> dict[str, str]:
    """Versions recorded in every trace: the engine, Python and numpy."""
    from methodologies import ENGINE_VERSION  # late import: the package imports us

    return {
        "engine": ENGINE_VERSION,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def input_item(
    name: str,
    value: Any,
    unit: str,
    evidence: Mapping[str, str] | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of ``trace["inputs"]``; ``evidence`` is ``{"ref", "sha256"}`` if known;
    ``uncertainty`` the input's normalised uncertain-number object, if it has one
    (:mod:`methodologies.uncertainty`; ``value`` is then its nominal value)."""
    item: dict[str, Any] = {"name": name, "unit": unit, "value": value}
    if evidence is not None:
        item["evidence"] = {"ref": evidence["ref"], "sha256": evidence["sha256"]}
    if uncertainty is not None:
        item["uncertainty"] = dict(uncertainty)
    return item


def factor_item(
    name: str,
    value: Any,
    unit: str,
    source: str,
    valid_from: str | None,
    valid_to: str | None,
) -> dict[str, Any]:
    """One entry of ``trace["factors"]``: a published value with its citation and validity."""
    return {
        "name": name,
        "source": source,
        "unit": unit,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "value": value,
    }


def step_item(
    formula_id: str, formula: str, inputs: Mapping[str, Any], value: Any, unit: str
) -> dict[str, Any]:
    """One entry of ``trace["steps"]``: a formula, the values it used and its result."""
    return {
        "formula": formula,
        "formula_id": formula_id,
        "inputs": dict(inputs),
        "unit": unit,
        "value": value,
    }


def build_trace(
    *,
    methodology_id: str,
    version: str,
    inputs: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    result: Mapping[str, Any],
    case: Mapping[str, Any],
) -> dict[str, Any]:
    """Assemble a trace object (see the module docstring) as plain JSON types."""
    trace = {
        "case": case,
        "factors": factors,
        "inputs": inputs,
        "methodology": {"id": methodology_id, "version": version},
        "result": result,
        "steps": steps,
        "versions": engine_versions(),
    }
    return _plain(trace, "$")


def seal(trace: Mapping[str, Any]) -> tuple[bytes, str]:
    """Canonical bytes of ``trace`` and their SHA-256 hex digest."""
    data = canonical_bytes(trace)
    return data, sha256_hex(data)
