"""``cbam.certificates`` — CBAM certificates due for a good, net of the free-allocation
adjustment and of a carbon price paid in the country of origin (optional view;
DESIGN.md §4).

Legal basis: Regulation (EU) 2023/956, Article 31 (adjustment for free allocation in
the EU ETS) and Article 9 (carbon price paid in a third country); Directive 2003/87/EC,
Article 10a(1a) (the CBAM factor); the adjustment rules and the CBAM benchmarks of
Commission Implementing Regulation (EU) 2025/2620 (Annex, section 3 for goods declared
with actual data, column A; section 4 for default values, column B; Commission CBAM
Q&A of 27 May 2026, questions 3.7–3.10 and 4.32).  The platform has the benchmark
workbook of IR 2025/2620 but not the text of the act: the precursor term below is the
one the project's issue #15 names ("Equation 4: Σ m_i × SEFA_i"), and could not be
checked against the act's wording.

Case (JSON)::

    {"methodology": "cbam.certificates",
     "year": 2026,                      # calendar year of import, >= 2026
     "see_total_t_per_t": 2.0,          # SEE of the good [tCO2e/t]
     "see_tier": "verified",            # rung of that SEE: verified, disclosed or
                                        # modelled (actual data → column A) or default
                                        # (default values → column B)
     "mass_t": 100,                     # net mass imported [t]
     "cn_code": "72081000",             # 8-digit CN code; needed when the benchmark
                                        # comes from the bundled table
     "route": "C",                      # production route of a route-dependent
                                        # benchmark (the letter of IR 2025/2621 Annex I)
     "benchmark_t_per_t": 1.5,          # optional BM_g [tCO2e/t]; else bundled table
     "benchmark_column": "A",           # optional; must be the column of the tier
     "benchmark_source": "citation",    # required with benchmark_t_per_t
     "precursors": [                    # optional; actual data only (Equation 4)
        {"cn_code": "72071114",         # 8 digits
         "mass_t_per_t": 1.05,          # m_i: tonnes of precursor per tonne of good
         "route": "C",                  # as above, when route-dependent
         "benchmark_column": "B",       # optional, default B (see below)
         "benchmark_t_per_t": 1.364,    # optional; else bundled table
         "benchmark_source": "…"}],
     "cscf": 1.0,                       # cross-sectoral correction factor CSCF_y [1]
     "cscf_source": "citation of the CSCF decision for that year",
     "carbon_price_paid_eur_per_t": 4.0,  # optional: carbon price effectively paid in
                                        # the country of origin, net of rebates and
                                        # compensation, per tonne of good [EUR/t]
     "carbon_price_source": "the certified documentation (Art. 9(2))",
     "price_eur_per_t": 80.0}           # certificate price [EUR/tCO2e]; required with a
                                        # carbon price, else optional

Column and tier.  With actual data the good's own benchmark is column A (its process
only) and the precursors add their share; with default values it is column B, which
already includes the precursors (Q&A 3.9), so ``precursors`` is refused there.  A
``benchmark_column`` that is not the tier's column is an error, never a silent switch.
A precursor's benchmark is column B unless the case says A: column B is the complete
benchmark of a precursor whose own precursors are not itemised; column A counts only the
precursor's own process (right for a simple precursor, where A equals B).

Formulas::

    CBAM_y        = CBAM factor of the import year (CBAM_FACTOR_BY_YEAR)    [1]
    SEFA_g        = CBAM_y × CSCF_y × BM_g                                   [tCO2e/t]
    SEFA_i        = CBAM_y × CSCF_y × BM_i                                   [tCO2e/t]
    SEFA          = SEFA_g + Σ_i m_i × SEFA_i       (IR 2025/2620, Equation 4) [tCO2e/t]
    deduction  d  = carbon price paid [EUR/t] / certificate price [EUR/tCO2e] [tCO2e/t]
    certificates per tonne  c = max(0, SEE − SEFA − d)      (Q&A 4.32)      [tCO2e/t]
    certificates            C = M × c                                        [tCO2e]
    cost                      = C × price                                    [EUR]

The deduction converts the carbon price into certificates at the certificate price;
Art. 9(4) leaves the conversion rules (currency, yearly averages, evidence) to an
implementing act the platform does not have: the caller states the price in EUR per
tonne of good as effectively paid, and its citation goes into the trace.

Outputs: ``cbam_factor``, ``benchmark_column``, ``benchmark_t_per_t``,
``sefa_good_t_per_t``, ``sefa_precursors_t_per_t``, ``sefa_t_per_t``,
``carbon_price_deduction_t_per_t``, ``certificates_per_t`` (tCO2e/t), ``certificates``
(tCO2e, one certificate per tCO2e), ``cost_eur`` (null without a price), ``tier``
(``"view"``), ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from methodologies import casefields as cf
from methodologies import cbam_tables
from methodologies.cbam_goods import normalise_cn_code
from methodologies.errors import CaseError
from methodologies.trace import build_trace, factor_item, input_item, seal, step_item

METHODOLOGY_ID = "cbam.certificates"
VERSION = "2025.2620.2"
SUMMARY = (
    "CBAM certificates and their cost for a good: max(0, SEE − SEFA − carbon price "
    "deduction), SEFA = CBAM_y × CSCF_y × (BM_g + Σ m_i × BM_i) (Reg. 2023/956 Art. 9, 31; "
    "IR 2025/2620)"
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
#: The benchmark column of each rung of the ladder (IR 2025/2620 Annex, sections 3, 4).
COLUMN_OF_TIER = {"verified": "A", "disclosed": "A", "modelled": "A", "default": "B"}

_CASE_KEYS = frozenset(
    {
        "methodology",
        "year",
        "see_total_t_per_t",
        "see_tier",
        "mass_t",
        "cn_code",
        "route",
        "benchmark_t_per_t",
        "benchmark_column",
        "benchmark_source",
        "precursors",
        "cscf",
        "cscf_source",
        "carbon_price_paid_eur_per_t",
        "carbon_price_source",
        "price_eur_per_t",
    }
)
_PRECURSOR_KEYS = frozenset(
    {"cn_code", "mass_t_per_t", "route", "benchmark_column", "benchmark_t_per_t",
     "benchmark_source"}
)  # fmt: skip


# --------------------------------------------------------------------------- formulas


def cbam_factor(year: int) -> float:
    """CBAM_y [1]: 0.975 (2026), 0.95, 0.90, 0.775, 0.515, 0.39, 0.265, 0.14 (2033), 0 from
    2034.  Reference: Directive 2003/87/EC Art. 10a(1a); DESIGN.md §4."""
    if year < FIRST_YEAR:
        raise CaseError("year", "calendar year of import (integer >= 2026)", f"got {year}")
    return CBAM_FACTOR_BY_YEAR.get(year, 0.0)


def free_allocation_adjustment(cbam_factor_y: Any, cscf_y: Any, benchmark_t_per_t: Any) -> Any:
    """SEFA [tCO2e/t] = CBAM_y [1] × CSCF_y [1] × BM [tCO2e/t], for a good or a precursor.
    Reference: Reg. (EU) 2023/956 Art. 31; IR 2025/2620."""
    return cbam_factor_y * cscf_y * benchmark_t_per_t


def precursor_adjustment(masses_t_per_t: list[float], sefas_t_per_t: list[float]) -> float:
    """Σ_i m_i [t/t] × SEFA_i [tCO2e/t] [tCO2e/t]: the precursor term of a complex good on
    actual data.  Reference: IR 2025/2620 Annex, section 3, Equation 4 (as issue #15
    states it; DESIGN.md §4)."""
    return sum((m * e for m, e in zip(masses_t_per_t, sefas_t_per_t, strict=True)), 0.0)


def carbon_price_deduction(paid_eur_per_t: Any, price_eur_per_t: Any) -> Any:
    """d [tCO2e/t] = carbon price effectively paid [EUR/t of good] / certificate price
    [EUR/tCO2e]: the certificates the price paid stands for.  Reference: Reg. (EU)
    2023/956 Art. 9(1) (conversion rules of Art. 9(4) not adopted)."""
    return paid_eur_per_t / price_eur_per_t


def certificates_per_tonne(see_t_per_t: Any, sefa_t_per_t: Any, deduction: Any = 0.0) -> Any:
    """c [tCO2e/t] = max(0, SEE − SEFA − d): a negative obligation is zero, and is not set
    off against other goods.  Reference: Reg. (EU) 2023/956 Art. 9, 22 and 31; CBAM Q&A
    (27 May 2026) 4.32."""
    return max(0.0, see_t_per_t - sefa_t_per_t - deduction)


def certificates(mass_t: Any, per_tonne: Any) -> Any:
    """C [tCO2e, one certificate each] = M [t] × c [tCO2e/t].
    Reference: Reg. (EU) 2023/956 Art. 22."""
    return mass_t * per_tonne


def certificate_cost(count: Any, price_eur_per_t: Any) -> Any:
    """Cost [EUR] = C [tCO2e] × price [EUR/tCO2e].  Reference: Reg. (EU) 2023/956 Art. 21."""
    return count * price_eur_per_t


# --------------------------------------------------------------------------- case


def _citation(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = cf.text(obj, key, path, "a non-empty citation (text)")
    if not value.strip():
        raise CaseError(cf.join(path, key), "a non-empty citation (text)", "empty")
    return value


def _benchmark(
    obj: Mapping[str, Any], path: str, column: str, cn: str | None
) -> tuple[float, str, str | None]:
    """(BM [tCO2e/t], its citation, route) given in ``obj`` or read from IR 2025/2620."""
    route = cf.text(obj, "route", path, "production route letter (text)", default=None)
    if obj.get("benchmark_t_per_t") is not None:
        value = cf.number(obj, "benchmark_t_per_t", path, "tCO2e/t", minimum=0.0)
        return value, _citation(obj, "benchmark_source", path), route
    if obj.get("benchmark_source") is not None:
        raise CaseError(
            cf.join(path, "benchmark_t_per_t"),
            "a number in tCO2e/t beside benchmark_source",
            "a citation without a benchmark",
        )
    if cn is None:
        raise CaseError(
            cf.join(path, "cn_code"),
            "an 8-digit CN code (to read BM from IR 2025/2620) or benchmark_t_per_t",
            "missing",
        )
    try:
        found = cbam_tables.benchmark(cn, column, route)
    except cbam_tables.TableLookupError as exc:
        raise CaseError(
            cf.join(path, "route" if "route" in exc.reason else "cn_code"),
            "a CN code and route the IR 2025/2620 table lists",
            str(exc),
        ) from None
    return found.value, f"{found.source}; {found.row}", route


def _column(obj: Mapping[str, Any], path: str, default: str) -> str:
    column = cf.text(obj, "benchmark_column", path, "'A' (actual data) or 'B'", default=default)
    if column not in COLUMNS:
        raise CaseError(
            cf.join(path, "benchmark_column"),
            "'A' (actual data) or 'B' (default values)",
            f"got {column!r}",
        )
    return column


def _precursor(item: object, path: str) -> dict[str, Any]:
    cf.mapping(item, path)
    cf.only_keys(item, _PRECURSOR_KEYS, path)
    cn = normalise_cn_code(item.get("cn_code"), cf.join(path, "cn_code"))
    column = _column(item, path, "B")
    bm, source, route = _benchmark(item, path, column, cn)
    return {
        "benchmark_column": column,
        "benchmark_source": source,
        "benchmark_t_per_t": bm,
        "cn_code": cn,
        "mass_t_per_t": cf.number(item, "mass_t_per_t", path, "t/t", minimum=0.0),
        "route": route,
    }


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised case: benchmarks read from the bundled table are written
    in with their citation, so the trace recomputes from the case alone."""
    cf.mapping(case, "")
    cf.only_keys(case, _CASE_KEYS, "")
    year = cf.integer(case, "year", "", "calendar year of import (integer >= 2026)")
    cbam_factor(year)  # validates the year
    tier = cf.text(case, "see_tier", "", "verified, disclosed, modelled or default")
    if tier not in COLUMN_OF_TIER:
        raise CaseError("see_tier", "verified, disclosed, modelled or default", f"got {tier!r}")
    column = COLUMN_OF_TIER[tier]
    given = _column(case, "", column)
    if given != column:
        raise CaseError(
            "benchmark_column",
            f"'{column}' for an SEE of tier {tier} ({COLUMNS[column]}; IR 2025/2620 Annex)",
            f"got {given!r}",
        )
    cn = case.get("cn_code")
    cn = None if cn is None else normalise_cn_code(cn, "cn_code")
    bm, source, route = _benchmark(case, "", column, cn)
    raw = case.get("precursors") or []
    if not isinstance(raw, list):
        raise CaseError("precursors", "a list of precursor objects", f"got {raw!r}")
    if raw and column == "B":
        raise CaseError(
            "precursors",
            "no precursors with default values (column B already includes them; Q&A 3.9)",
            f"got {len(raw)} precursor(s) for an SEE of tier {tier}",
        )
    out = {
        "benchmark_column": column,
        "benchmark_source": source,
        "benchmark_t_per_t": bm,
        "carbon_price_paid_eur_per_t": cf.optional_number(
            case, "carbon_price_paid_eur_per_t", "", "EUR/t of good", minimum=0.0
        ),
        "carbon_price_source": None,
        "cn_code": cn,
        "cscf": cf.number(case, "cscf", "", "1 (fraction)", minimum=0.0),
        "cscf_source": _citation(case, "cscf_source", ""),
        "mass_t": cf.number(case, "mass_t", "", "t", minimum=0.0),
        "methodology": METHODOLOGY_ID,
        "precursors": [_precursor(p, f"precursors[{i}]") for i, p in enumerate(raw)],
        "price_eur_per_t": cf.optional_number(
            case, "price_eur_per_t", "", "EUR/tCO2e", minimum=0.0
        ),
        "route": route,
        "see_tier": tier,
        "see_total_t_per_t": cf.number(case, "see_total_t_per_t", "", "tCO2e/t", minimum=0.0),
        "year": year,
    }
    if out["cscf"] > 1.0:
        raise CaseError("cscf", "a number in [0, 1] (fraction)", f"got {out['cscf']!r}")
    if out["carbon_price_paid_eur_per_t"] is None and case.get("carbon_price_source") is not None:
        raise CaseError(
            "carbon_price_paid_eur_per_t",
            "a number in EUR/t of good beside carbon_price_source",
            "a citation without a carbon price",
        )
    if out["carbon_price_paid_eur_per_t"] is not None:
        out["carbon_price_source"] = _citation(case, "carbon_price_source", "")
        if not out["price_eur_per_t"]:
            raise CaseError(
                "price_eur_per_t",
                "a certificate price > 0 in EUR/tCO2e (converts the carbon price paid)",
                "missing" if out["price_eur_per_t"] is None else "zero",
            )
    return out


@dataclass(frozen=True)
class CertificatesResult:
    """Every intermediate of a ``cbam.certificates`` computation, and its trace."""

    case: dict[str, Any]
    cbam_factor: float
    sefa_good_t_per_t: float
    sefa_precursors_t_per_t: float
    sefa_t_per_t: float
    deduction_t_per_t: float
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


def _reason(norm: dict[str, Any], factor: float, sefa_g: float, sefa_p: float, d: float,
            per_t: float) -> str:  # fmt: skip
    column = norm["benchmark_column"]
    parts = [
        f"{norm['year']}: CBAM factor {factor!r} × CSCF {norm['cscf']!r} × benchmark "
        f"{norm['benchmark_t_per_t']!r} tCO2e/t (column {column}, {COLUMNS[column]}, for an "
        f"SEE of tier {norm['see_tier']}) = {sefa_g!r} tCO2e/t"
    ]
    if norm["precursors"]:
        parts.append(f"precursors Σ m_i × SEFA_i = {sefa_p!r} tCO2e/t")
    parts.append(f"SEFA {sefa_g + sefa_p!r} tCO2e/t")
    if norm["carbon_price_paid_eur_per_t"] is not None:
        parts.append(
            f"carbon price paid {norm['carbon_price_paid_eur_per_t']!r} EUR/t ÷ "
            f"{norm['price_eur_per_t']!r} EUR/tCO2e = deduction {d!r} tCO2e/t"
        )
    parts.append(
        f"max(0, {norm['see_total_t_per_t']!r} − SEFA"
        + (" − deduction" if d else "")
        + f") = {per_t!r} certificates per tonne"
        + ("; nothing due" if per_t == 0.0 else "")
    )
    return "; ".join(parts) + "."


def compute_certificates(case: Mapping[str, Any]) -> CertificatesResult:
    """Certificates due and their cost for one case (see the module docstring)."""
    norm = normalise_case(case)
    year, see, mass = norm["year"], norm["see_total_t_per_t"], norm["mass_t"]
    factor = cbam_factor(year)
    cscf = norm["cscf"]
    sefa_g = free_allocation_adjustment(factor, cscf, norm["benchmark_t_per_t"])
    pre = norm["precursors"]
    sefa_i = [free_allocation_adjustment(factor, cscf, p["benchmark_t_per_t"]) for p in pre]
    sefa_p = precursor_adjustment([p["mass_t_per_t"] for p in pre], sefa_i)
    sefa = sefa_g + sefa_p
    price = norm["price_eur_per_t"]
    paid = norm["carbon_price_paid_eur_per_t"]
    d = 0.0 if paid is None else carbon_price_deduction(paid, price)
    per_t = certificates_per_tonne(see, sefa, d)
    count = certificates(mass, per_t)
    cost = None if price is None else certificate_cost(count, price)
    reason = _reason(norm, factor, sefa_g, sefa_p, d, per_t)
    outputs = {
        "benchmark_column": norm["benchmark_column"],
        "benchmark_t_per_t": norm["benchmark_t_per_t"],
        "carbon_price_deduction_t_per_t": d,
        "cbam_factor": factor,
        "certificates": count,
        "certificates_per_t": per_t,
        "cost_eur": cost,
        "reason": reason,
        "sefa_good_t_per_t": sefa_g,
        "sefa_precursors_t_per_t": sefa_p,
        "sefa_t_per_t": sefa,
        "tier": "view",
    }
    last = max(CBAM_FACTOR_BY_YEAR)
    valid = (f"{year}-01-01", f"{year}-12-31") if year <= last else (f"{last + 1}-01-01", None)
    year_valid = (f"{year}-01-01", f"{year}-12-31")
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
        *(
            factor_item(
                f"precursors[{i}] benchmark (column {p['benchmark_column']})",
                p["benchmark_t_per_t"],
                "tCO2e/t",
                p["benchmark_source"],
                None,
                None,
            )
            for i, p in enumerate(pre)
        ),
        factor_item(f"cscf ({year})", cscf, "1", norm["cscf_source"], *year_valid),
    ]
    steps = [
        step_item(
            "cbam.certificates.sefa_good",
            "SEFA_g = CBAM_y × CSCF_y × BM_g",
            {"cbam_factor": factor, "cscf": cscf, "benchmark_t_per_t": norm["benchmark_t_per_t"]},
            sefa_g,
            "tCO2e/t",
        )
    ]
    if pre:
        steps.append(
            step_item(
                "cbam.certificates.sefa_precursors",
                "Σ_i m_i × SEFA_i, SEFA_i = CBAM_y × CSCF_y × BM_i (IR 2025/2620 Equation 4)",
                {
                    "mass_t_per_t": [p["mass_t_per_t"] for p in pre],
                    "sefa_i_t_per_t": sefa_i,
                },
                sefa_p,
                "tCO2e/t",
            )
        )
    steps.append(
        step_item(
            "cbam.certificates.sefa",
            "SEFA = SEFA_g + Σ_i m_i × SEFA_i",
            {"sefa_good_t_per_t": sefa_g, "sefa_precursors_t_per_t": sefa_p},
            sefa,
            "tCO2e/t",
        )
    )
    if paid is not None:
        steps.append(
            step_item(
                "cbam.certificates.carbon_price",
                "d = carbon price paid / certificate price (Reg. 2023/956 Art. 9)",
                {"carbon_price_paid_eur_per_t": paid, "price_eur_per_t": price},
                d,
                "tCO2e/t",
            )
        )
    steps += [
        step_item(
            "cbam.certificates.per_tonne",
            "c = max(0, SEE − SEFA − d)",
            {"see_total_t_per_t": see, "sefa_t_per_t": sefa, "deduction_t_per_t": d},
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
        input_item("see_tier", norm["see_tier"], "rung of the SEE"),
        input_item("mass_t", mass, "t"),
        *(input_item(f"precursors[{i}].mass_t_per_t", p["mass_t_per_t"], "t/t")
          for i, p in enumerate(pre)),
    ]  # fmt: skip
    if price is not None:
        inputs.append(input_item("price_eur_per_t", price, "EUR/tCO2e"))
    if paid is not None:
        factors.append(
            factor_item(
                "carbon price paid in the country of origin",
                paid,
                "EUR/t",
                norm["carbon_price_source"],
                *year_valid,
            )
        )
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
    return CertificatesResult(
        norm, factor, sefa_g, sefa_p, sefa, d, per_t, count, cost, reason, trace, sha
    )


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute_certificates(case).as_dict()
