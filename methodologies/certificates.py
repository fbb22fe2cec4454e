"""``cbam.certificates`` — CBAM certificates due for a good, net of the free-allocation
adjustment (optional view; DESIGN.md §4).

Legal basis: Regulation (EU) 2023/956, Article 31 (adjustment for free allocation in
the EU ETS); Directive 2003/87/EC, Article 10a(1a) (the CBAM factor: the share of
free allocation still given to CBAM sectors); the adjustment rules and product
benchmarks of Commission Implementing Regulation (EU) 2025/2620 (column A for goods
declared with actual data, column B with default values).

Case (JSON)::

    {"methodology": "cbam.certificates",
     "year": 2026,                      # calendar year of import, >= 2026
     "see_total_t_per_t": 2.0,          # SEE of the good [tCO2e/t] (cbam.installation
                                        # or cbam.default output)
     "mass_t": 100,                     # net mass imported [t]
     "benchmark_t_per_t": 1.5,          # BM_g [tCO2e/t] from IR 2025/2620 (caller's)
     "benchmark_column": "A",           # "A" (actual data) or "B" (default values)
     "benchmark_source": "the caller's citation: act, annex, row, column, route",
     "cscf": 1.0,                       # cross-sectoral correction factor CSCF_y [1]
     "cscf_source": "citation of the CSCF decision for that year",
     "price_eur_per_t": 80.0}           # optional certificate price [EUR/tCO2e]

The benchmark and the CSCF are REQUIRED inputs with their citation: the engine ships
no table of IR 2025/2620 values nor a CSCF for 2026 on (none could be verified
against the published act when this module was written); the caller supplies them
and the trace records the citation it gave.

Formulas::

    CBAM_y       = CBAM factor of the import year (CBAM_FACTOR_BY_YEAR) [1]
    SEFA         = CBAM_y × CSCF_y × BM_g                   [tCO2e/t]
    certificates per tonne  c = max(0, SEE − SEFA)          [tCO2e/t]
    certificates            C = M × c                       [tCO2e = certificates]
    cost                      = C × price                   [EUR]

Outputs: ``cbam_factor``, ``sefa_t_per_t``, ``certificates_per_t``
(tCO2e/t), ``certificates`` (tCO2e, one certificate per tCO2e), ``cost_eur`` (null
without a price), ``benchmark_column``, ``tier`` (``"view"``), ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from methodologies import casefields as cf
from methodologies.errors import CaseError
from methodologies.trace import build_trace, factor_item, input_item, seal, step_item

METHODOLOGY_ID = "cbam.certificates"
VERSION = "2025.2620.1"
SUMMARY = (
    "CBAM certificates and their cost for a good: max(0, SEE − CBAM_y × CSCF_y × BM_g) "
    "per tonne (Reg. 2023/956 Art. 31; IR 2025/2620)"
)

#: CBAM factor by year of import: the share of free allocation still given to CBAM
#: sectors (Directive 2003/87/EC Art. 10a(1a), as amended by Directive (EU) 2023/959;
#: DESIGN.md §4).  Years after the last entry take 0.
CBAM_FACTOR_BY_YEAR: dict[int, float] = {
    2026: 0.975,
    2027: 0.95,
    2028: 0.90,
    2029: 0.775,
    2030: 0.515,
    2031: 0.39,
    2032: 0.265,
    2033: 0.14,
}
CBAM_FACTOR_SOURCE = "Directive 2003/87/EC Art. 10a(1a) (Directive (EU) 2023/959); DESIGN.md §4"
FIRST_YEAR = 2026
COLUMNS = {"A": "actual data", "B": "default values"}

_CASE_KEYS = frozenset(
    {
        "methodology",
        "year",
        "see_total_t_per_t",
        "mass_t",
        "benchmark_t_per_t",
        "benchmark_column",
        "benchmark_source",
        "cscf",
        "cscf_source",
        "price_eur_per_t",
    }
)


# --------------------------------------------------------------------------- formulas


def cbam_factor(year: int) -> float:
    """CBAM_y [1]: 0.975 (2026), 0.95, 0.90, 0.775, 0.515, 0.39, 0.265, 0.14 (2033), 0 from
    2034.  Reference: Directive 2003/87/EC Art. 10a(1a); DESIGN.md §4."""
    if year < FIRST_YEAR:
        raise CaseError("year", "calendar year of import (integer >= 2026)", f"got {year}")
    return CBAM_FACTOR_BY_YEAR.get(year, 0.0)


def free_allocation_adjustment(cbam_factor_y: Any, cscf_y: Any, benchmark_t_per_t: Any) -> Any:
    """SEFA [tCO2e/t] = CBAM_y [1] × CSCF_y [1] × BM_g [tCO2e/t].
    Reference: Reg. (EU) 2023/956 Art. 31; IR 2025/2620."""
    return cbam_factor_y * cscf_y * benchmark_t_per_t


def certificates_per_tonne(see_t_per_t: Any, sefa_t_per_t: Any) -> Any:
    """c [tCO2e/t] = max(0, SEE − SEFA).  Reference: Reg. (EU) 2023/956 Art. 22 and 31."""
    return max(0.0, see_t_per_t - sefa_t_per_t)


def certificates(mass_t: Any, per_tonne: Any) -> Any:
    """C [tCO2e, one certificate each] = M [t] × c [tCO2e/t].
    Reference: Reg. (EU) 2023/956 Art. 22."""
    return mass_t * per_tonne


def certificate_cost(count: Any, price_eur_per_t: Any) -> Any:
    """Cost [EUR] = C [tCO2e] × price [EUR/tCO2e].  Reference: Reg. (EU) 2023/956 Art. 21."""
    return count * price_eur_per_t


# --------------------------------------------------------------------------- case


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised case (price null when absent)."""
    cf.mapping(case, "")
    cf.only_keys(case, _CASE_KEYS, "")
    year = cf.integer(case, "year", "", "calendar year of import (integer >= 2026)")
    cbam_factor(year)  # validates the year
    column = cf.text(case, "benchmark_column", "", "'A' (actual data) or 'B' (defaults)")
    if column not in COLUMNS:
        raise CaseError(
            "benchmark_column", "'A' (actual data) or 'B' (default values)", f"got {column!r}"
        )
    out = {
        "benchmark_column": column,
        "benchmark_source": cf.text(
            case, "benchmark_source", "", "citation of the IR 2025/2620 benchmark (text)"
        ),
        "benchmark_t_per_t": cf.number(case, "benchmark_t_per_t", "", "tCO2e/t", minimum=0.0),
        "cscf": cf.number(case, "cscf", "", "1 (fraction)", minimum=0.0),
        "cscf_source": cf.text(case, "cscf_source", "", "citation of the CSCF (text)"),
        "mass_t": cf.number(case, "mass_t", "", "t", minimum=0.0),
        "methodology": METHODOLOGY_ID,
        "price_eur_per_t": cf.optional_number(
            case, "price_eur_per_t", "", "EUR/tCO2e", minimum=0.0
        ),
        "see_total_t_per_t": cf.number(case, "see_total_t_per_t", "", "tCO2e/t", minimum=0.0),
        "year": year,
    }
    if out["cscf"] > 1.0:
        raise CaseError("cscf", "a number in [0, 1] (fraction)", f"got {out['cscf']!r}")
    for key in ("benchmark_source", "cscf_source"):
        if not out[key].strip():
            raise CaseError(key, "a non-empty citation (text)", "empty")
    return out


@dataclass(frozen=True)
class CertificatesResult:
    """Every intermediate of a ``cbam.certificates`` computation, and its trace."""

    case: dict[str, Any]
    cbam_factor: float
    sefa_t_per_t: float
    certificates_per_t: float
    certificates: float
    cost_eur: float | None
    reason: str
    trace: dict[str, Any]
    trace_sha256: str

    def outputs(self) -> dict[str, Any]:
        """The result's outputs, without the trace."""
        return self.trace["result"]

    def as_dict(self) -> dict[str, Any]:
        """Outputs plus ``trace`` and ``trace_sha256``: what ``run_case`` returns."""
        return {**self.outputs(), "trace": self.trace, "trace_sha256": self.trace_sha256}


def compute_certificates(case: Mapping[str, Any]) -> CertificatesResult:
    """Certificates due and their cost for one case (see the module docstring)."""
    norm = normalise_case(case)
    year, see, mass = norm["year"], norm["see_total_t_per_t"], norm["mass_t"]
    factor = cbam_factor(year)
    sefa = free_allocation_adjustment(factor, norm["cscf"], norm["benchmark_t_per_t"])
    per_t = certificates_per_tonne(see, sefa)
    count = certificates(mass, per_t)
    price = norm["price_eur_per_t"]
    cost = None if price is None else certificate_cost(count, price)
    reason = (
        f"{year}: CBAM factor {factor!r} × CSCF {norm['cscf']!r} × benchmark "
        f"{norm['benchmark_t_per_t']!r} tCO2e/t (column {norm['benchmark_column']}, "
        f"{COLUMNS[norm['benchmark_column']]}) = SEFA {sefa!r} tCO2e/t; "
        f"max(0, {see!r} − SEFA) = {per_t!r} certificates per tonne"
        + ("; SEE below SEFA: no certificates" if per_t == 0.0 else "")
        + "."
    )
    outputs = {
        "benchmark_column": norm["benchmark_column"],
        "cbam_factor": factor,
        "certificates": count,
        "certificates_per_t": per_t,
        "cost_eur": cost,
        "reason": reason,
        "sefa_t_per_t": sefa,
        "tier": "view",
    }
    last = max(CBAM_FACTOR_BY_YEAR)
    valid = (f"{year}-01-01", f"{year}-12-31") if year <= last else (f"{last + 1}-01-01", None)
    factors = [
        factor_item(f"cbam_factor ({year})", factor, "1", CBAM_FACTOR_SOURCE, *valid),
        factor_item(
            f"benchmark (column {norm['benchmark_column']})",
            norm["benchmark_t_per_t"],
            "tCO2e/t",
            norm["benchmark_source"],
            None,
            None,
        ),
        factor_item(
            f"cscf ({year})",
            norm["cscf"],
            "1",
            norm["cscf_source"],
            f"{year}-01-01",
            f"{year}-12-31",
        ),
    ]
    steps = [
        step_item(
            "cbam.certificates.sefa",
            "SEFA = CBAM_y × CSCF_y × BM_g",
            {
                "cbam_factor": factor,
                "cscf": norm["cscf"],
                "benchmark_t_per_t": norm["benchmark_t_per_t"],
            },
            sefa,
            "tCO2e/t",
        ),
        step_item(
            "cbam.certificates.per_tonne",
            "c = max(0, SEE − SEFA)",
            {"see_total_t_per_t": see, "sefa_t_per_t": sefa},
            per_t,
            "tCO2e/t",
        ),
        step_item(
            "cbam.certificates.count",
            "C = M × c",
            {"mass_t": mass, "certificates_per_t": per_t},
            count,
            "tCO2e",
        ),
    ]
    if cost is not None:
        steps.append(
            step_item(
                "cbam.certificates.cost",
                "cost = C × price",
                {"certificates": count, "price_eur_per_t": price},
                cost,
                "EUR",
            )
        )
    inputs = [
        input_item("year", year, "calendar year of import"),
        input_item("see_total_t_per_t", see, "tCO2e/t"),
        input_item("mass_t", mass, "t"),
    ]
    if price is not None:
        inputs.append(input_item("price_eur_per_t", price, "EUR/tCO2e"))
    trace = build_trace(
        methodology_id=METHODOLOGY_ID,
        version=VERSION,
        inputs=inputs,
        factors=factors,
        steps=steps,
        result=outputs,
        case=norm,
    )
    _, sha = seal(trace)
    return CertificatesResult(norm, factor, sefa, per_t, count, cost, reason, trace, sha)


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute_certificates(case).as_dict()
