"""What the golden-trace test records of one case: its trace digests and outcome."""

from __future__ import annotations

from typing import Any

from methodologies import METHODOLOGIES, run_case
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes, sha256_hex


def outcome(case: dict[str, Any]) -> dict[str, Any]:
    """``trace_sha256`` of the methodology's own run (no plausibility check), the SHA-256
    of that trace without its ``versions`` (the same on any Python and numpy), and what
    :func:`run_case` does with the case: the same digest, or the error it raises."""
    result = METHODOLOGIES[case["methodology"]].run(case)
    trace = dict(result["trace"])
    trace.pop("versions")
    try:
        via = run_case(case)["trace_sha256"]
    except MethodologyError as exc:
        via = f"{type(exc).__name__}: {exc}"
    return {
        "trace_sha256": result["trace_sha256"],
        "trace_sha256_without_versions": sha256_hex(canonical_bytes(trace)),
        "versions": result["trace"]["versions"],
        "run_case": via,
    }
