"""Recompute a trace and say, part by part, whether it matches (docs/auditors.md).

A trace (:mod:`methodologies.trace`) holds its whole normalised ``case``; running the
engine on that case must give the same ``methodology``, ``inputs``, ``factors``,
``steps`` and ``result``. Two kinds of part are *not* recomputed and are reported as such
rather than left to make the digests differ:

- ``provenance`` (and any other top-level key the engine does not write): citations added
  by the platform — which file, line or disclosure each input came from. They are carried
  over unchanged, so the recomputed bytes can equal the stored ones.
- ``versions`` (engine, Python, numpy): what produced the trace. A different Python or
  numpy here is not a different computation; a different *engine* version is reported,
  because the formulas may have changed.

The comparison walks the parts in a fixed order and names the first JSON path that
differs (``$.result.see_total_t_per_t``), with the stored and the recomputed value.
Pure: no Django, standard library and the engine only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes, sha256_hex

#: The parts the engine writes, in the order they are compared.
COMPUTED_PARTS = ("methodology", "case", "inputs", "factors", "steps", "result")
VERSIONS = "versions"


@dataclass
class Verification:
    """The answer: ``match`` and why; ``exit_status`` 0 on a match, 1 otherwise."""

    match: bool
    stored_sha256: str
    recomputed_sha256: str
    bytes_identical: bool
    first_difference: str | None = None
    differences: list[str] = field(default_factory=list)
    carried_over: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 0 if self.match else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "stored_sha256": self.stored_sha256,
            "recomputed_sha256": self.recomputed_sha256,
            "bytes_identical": self.bytes_identical,
            "first_difference": self.first_difference,
            "differences": self.differences,
            "carried_over": self.carried_over,
            "notes": self.notes,
        }


def _short(value: Any) -> str:
    text = canonical_bytes(value).decode("utf-8") if value is not _MISSING else "(absent)"
    return text if len(text) <= 80 else text[:77] + "..."


_MISSING = object()


def first_difference(stored: Any, recomputed: Any, path: str) -> str | None:
    """The first JSON path (keys in sorted order, as in the canonical bytes) at which
    ``stored`` and ``recomputed`` differ, with both values; None when equal."""
    if isinstance(stored, dict) and isinstance(recomputed, dict):
        for key in sorted(stored.keys() | recomputed.keys()):
            found = first_difference(
                stored.get(key, _MISSING), recomputed.get(key, _MISSING), f"{path}.{key}"
            )
            if found:
                return found
        return None
    if isinstance(stored, list) and isinstance(recomputed, list):
        for i in range(max(len(stored), len(recomputed))):
            a = stored[i] if i < len(stored) else _MISSING
            b = recomputed[i] if i < len(recomputed) else _MISSING
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    # Leaves compare as the trace holds them, by their canonical bytes (RFC 8785): a float
    # 0.0 computed here and the 0 parsed from the stored JSON are the same number.
    same = (
        stored is not _MISSING
        and recomputed is not _MISSING
        and canonical_bytes(stored) == canonical_bytes(recomputed)
    )
    if same:
        return None
    return f"{path}: stored {_short(stored)}, recomputed {_short(recomputed)}"


def verify_trace(stored: Any, stored_bytes: bytes | None = None) -> Verification:
    """Recompute ``stored`` (a parsed trace) and compare it part by part.

    ``stored_bytes`` are the bytes as downloaded, if known: their SHA-256 is the
    ``stored_sha256`` reported (otherwise that of the canonical form of ``stored``).
    Raises :class:`~methodologies.errors.MethodologyError` (or a subclass) when the trace
    holds no runnable case.
    """
    from methodologies import ENGINE_VERSION, run_case  # the package imports this module

    if not isinstance(stored, dict) or not isinstance(stored.get("case"), dict):
        raise MethodologyError("not a trace: no 'case' object to recompute from ($.case)")
    canonical = canonical_bytes(stored)
    if stored_bytes is None:
        stored_bytes = canonical
    recomputed = run_case(stored["case"])["trace"]
    extra = sorted(k for k in stored if k not in COMPUTED_PARTS and k != VERSIONS)
    for key in extra:  # cited, not computed: carried over so the bytes can match
        recomputed[key] = stored[key]
    recomputed_bytes = canonical_bytes(recomputed)
    differences: list[str] = []
    for part in COMPUTED_PARTS:
        found = first_difference(stored.get(part, _MISSING), recomputed.get(part), f"$.{part}")
        if found:
            differences.append(found)
    notes: list[str] = []
    recorded = stored.get(VERSIONS) if isinstance(stored.get(VERSIONS), dict) else {}
    here = recomputed[VERSIONS]
    if recorded.get("engine") != here["engine"]:
        differences.append(
            f"$.versions.engine: recorded engine {recorded.get('engine')!r}, this engine "
            f"{ENGINE_VERSION!r} (the formulas may differ: install the recorded version)"
        )
    for name in ("python", "numpy"):
        if recorded.get(name) != here[name]:
            notes.append(
                f"$.versions.{name}: recorded {recorded.get(name)!r}, here {here[name]!r} "
                "(not a difference in the computation; the whole bytes differ only here)"
            )
    if extra:
        notes.append(
            "not recomputed, carried over as stored: "
            + ", ".join(f"$.{k}" for k in extra)
            + " (added by the platform: citations of the evidence, the adoption record; "
            "not results of the engine)"
        )
    if canonical != stored_bytes:
        notes.append(
            "the file is not in canonical form (RFC 8785): compared as parsed; its SHA-256 "
            "is not the trace_sha256 the platform records"
        )
    return Verification(
        match=not differences,
        stored_sha256=sha256_hex(stored_bytes),
        recomputed_sha256=sha256_hex(recomputed_bytes),
        bytes_identical=recomputed_bytes == stored_bytes,
        first_difference=differences[0] if differences else None,
        differences=differences,
        carried_over=[f"$.{k}" for k in extra],
        notes=notes,
    )
