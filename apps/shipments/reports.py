"""Parts of the shipment report computed by the engine: the origin's default value to
compare with, and the certificates view (as far as the bundled data allow)."""

from __future__ import annotations

from typing import Any

import methodologies
from apps.catalogue.selectors import default_value_candidates
from methodologies import certificates
from methodologies.errors import MethodologyError

BENCHMARK_MISSING = (
    "benchmark not available: the product benchmarks of IR 2025/2620 are not bundled with "
    "the project (no authoritative copy could be verified)"
)
CSCF_MISSING = "CSCF not available: no cross-sectoral correction factor for this year is bundled"


def default_comparison(*, origin: str, cn_code: str, year: int) -> dict[str, Any]:
    """The default value the engine gives (origin, CN code, year), or why there is none."""
    case = {
        "methodology": "cbam.default",
        "cn_code": cn_code,
        "origin": origin,
        "year": year,
        "default_values": default_value_candidates(origin=origin, cn_code=cn_code),
    }
    try:
        result = methodologies.run_case(case)
    except MethodologyError as exc:
        return {"available": False, "reason": str(exc)}
    return default_comparison_of(result)


def default_comparison_of(result: dict[str, Any]) -> dict[str, Any]:
    """The comparison from a ``cbam.default`` result: a fresh run's, or the ``result`` of a
    stored default estimate's trace (the same keys; a shipment on the default value for
    its origin, CN code and year is compared with the estimate it uses)."""
    return {
        "available": True,
        "see_total_t_per_t": result["see_total_t_per_t"],
        "see_direct_t_per_t": result["see_direct_t_per_t"],
        "see_indirect_t_per_t": result.get("see_indirect_t_per_t"),
        "fallback": result.get("fallback", False),
        "country": result.get("matched_country", ""),
        "markup": result.get("markup"),
        "reason": result.get("reason", ""),
    }


def certificates_view(
    *, year: int, see_total_t_per_t: float | None, mass_t: float, tier: str
) -> dict[str, Any]:
    """What ``cbam.certificates`` can say for this shipment with the bundled data.

    SEFA = CBAM_y × CSCF_y × BM_g needs the benchmark and the CSCF, which the project does
    not bundle; the view shows the CBAM factor of the year, names what is missing and
    gives the bound that holds whatever they are (SEFA ≥ 0, so certificates ≤ M × SEE).
    """
    column = "A" if tier in ("verified", "disclosed") else "B"
    out: dict[str, Any] = {
        "year": year,
        "column": column,
        "column_label": certificates.COLUMNS[column],
        "benchmark": BENCHMARK_MISSING,
        "cscf": CSCF_MISSING,
        "factor_source": certificates.CBAM_FACTOR_SOURCE,
        "methodology": certificates.METHODOLOGY_ID,
    }
    try:
        out["cbam_factor"] = certificates.cbam_factor(year)
    except MethodologyError as exc:
        out["cbam_factor"] = None
        out["factor_note"] = str(exc)
    if see_total_t_per_t is not None:
        out["upper_bound"] = certificates.certificates(
            mass_t, certificates.certificates_per_tonne(see_total_t_per_t, 0.0)
        )
    return out
