"""``cbam.certificates`` — CBAM certificates due for a good, net of the free-allocation
adjustment and of a carbon price paid in the country of origin (optional view;
docs/official-tables.md §2).

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
from methodologies.spec import SEE, CaseSpec, Field, Range, Recorder, fraction

METHODOLOGY_ID = "cbam.certificates"
VERSION = "2025.2620.3"
SUMMARY = (
    "CBAM certificates and their cost for a good: max(0, SEE − SEFA − carbon price "
    "deduction), SEFA = CBAM_y × CSCF_y × (BM_g + Σ m_i × BM_i) (Reg. 2023/956 Art. 9, 31; "
    "IR 2025/2620)"
)

#: CBAM factor by year of import: the share of free allocation still given to CBAM
#: sectors (Directive 2003/87/EC Art. 10a(1a), as amended by Directive (EU) 2023/959;
#: docs/official-tables.md §2).  Years after the last entry take 0.
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
# The citation a trace carries: unchanged, since it is part of the trace's bytes.
CBAM_FACTOR_SOURCE = "Directive 2003/87/EC Art. 10a(1a) (Directive (EU) 2023/959)"
FIRST_YEAR = 2026
COLUMNS = {"A": "actual data", "B": "default values"}
#: The benchmark column of each rung of the ladder (IR 2025/2620 Annex, sections 3, 4).
COLUMN_OF_TIER = {"verified": "A", "disclosed": "A", "modelled": "A", "default": "B"}


# --------------------------------------------------------------------------- formulas


def cbam_factor(year: int) -> float:
    """CBAM_y [1]: 0.975 (2026), 0.95, 0.90, 0.775, 0.515, 0.39, 0.265, 0.14 (2033), 0 from
    2034.  Reference: Directive 2003/87/EC Art. 10a(1a); docs/official-tables.md §2."""
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
    states it; docs/official-tables.md §2)."""
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


def _year(case: Mapping[str, Any], name: str, path: str, got: dict[str, Any]) -> int:
    year = cf.integer(case, name, path, "calendar year of import (integer >= 2026)")
    cbam_factor(year)  # validates the year
    return year


def _tier(case: Mapping[str, Any], name: str, path: str, got: dict[str, Any]) -> str:
    tier = cf.text(case, name, path, "verified, disclosed, modelled or default")
    if tier not in COLUMN_OF_TIER:
        raise CaseError(name, "verified, disclosed, modelled or default", f"got {tier!r}")
    return tier


def _column(obj: Mapping[str, Any], path: str, default: str) -> str:
    column = cf.text(obj, "benchmark_column", path, "'A' (actual data) or 'B'", default=default)
    if column not in COLUMNS:
        raise CaseError(
            cf.join(path, "benchmark_column"),
            "'A' (actual data) or 'B' (default values)",
            f"got {column!r}",
        )
    return column


def _tier_column(case: Mapping[str, Any], name: str, path: str, got: dict[str, Any]) -> str:
    tier = got["see_tier"]
    column = COLUMN_OF_TIER[tier]
    if _column(case, path, column) != column:
        raise CaseError(
            name,
            f"'{column}' for an SEE of tier {tier} ({COLUMNS[column]}; IR 2025/2620 Annex)",
            f"got {case[name]!r}",
        )
    return column


def _cn(obj: Mapping[str, Any], name: str, path: str, got: dict[str, Any]) -> str | None:
    value = obj.get(name)
    return None if value is None else normalise_cn_code(value, cf.join(path, name))


def _benchmark(
    obj: Mapping[str, Any], name: str, path: str, got: dict[str, Any]
) -> tuple[float, str, str | None]:
    """(BM [tCO2e/t], its citation, route) given in ``obj`` or read from IR 2025/2620."""
    column, cn = got["benchmark_column"], got["cn_code"]
    route = cf.text(obj, "route", path, "production route letter (text)", default=None)
    if obj.get("benchmark_t_per_t") is not None:
        value = cf.number(obj, "benchmark_t_per_t", path, "tCO2e/t", minimum=0.0)
        return value, _CITATION.read(obj, "benchmark_source", path), route
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


def _precursor_column(obj: Mapping[str, Any], name: str, path: str, got: dict) -> str:
    return _column(obj, path, "B")


def _precursors(case: Mapping[str, Any], name: str, path: str, got: dict) -> list[dict]:
    raw = case.get(name) or []
    if not isinstance(raw, list):
        raise CaseError(name, "a list of precursor objects", f"got {raw!r}")
    if raw and got["benchmark_column"] == "B":
        raise CaseError(
            name,
            "no precursors with default values (column B already includes them; Q&A 3.9)",
            f"got {len(raw)} precursor(s) for an SEE of tier {got['see_tier']}",
        )
    return [_precursor(item, f"{name}[{i}]") for i, item in enumerate(raw)]


def _precursor(item: object, path: str) -> dict[str, Any]:
    got = PRECURSOR_SPEC.read(item, path)
    bm, source, route = got.pop("benchmark_t_per_t")
    return {**got, "benchmark_source": source, "benchmark_t_per_t": bm, "route": route}


_CITATION = Field(kind="citation")
_DECLARED = Field(read_by_spec=False)  # an allowed key, read with another field

#: The keys of one precursor object of a case, in the order they are read.
PRECURSOR_SPEC = CaseSpec(
    {
        "cn_code": Field(kind="custom", reader=_cn),
        "benchmark_column": Field(kind="custom", reader=_precursor_column),
        "benchmark_t_per_t": Field("tCO2e/t", kind="custom", reader=_benchmark),
        "route": _DECLARED,
        "benchmark_source": _DECLARED,
        "mass_t_per_t": Field("t/t", minimum=0.0),
    }
)

#: The keys of a ``cbam.certificates`` case: units, lower bounds and plausible ranges
#: (checked by methodologies.plausibility), in the order they are read and checked.
SPEC = CaseSpec(
    {
        "methodology": _DECLARED,
        "year": Field("calendar year", kind="custom", reader=_year),
        "see_tier": Field(kind="custom", reader=_tier),
        "benchmark_column": Field(kind="custom", reader=_tier_column),
        "cn_code": Field(kind="custom", reader=_cn),
        "benchmark_t_per_t": Field(
            "tCO2e/t",
            kind="custom",
            reader=_benchmark,
            range=Range(0.0, 25.0, "tCO2e/t", ((1e-3, "kgCO2e/t"),)),
        ),
        "route": _DECLARED,
        "benchmark_source": _DECLARED,
        "carbon_price_paid_eur_per_t": Field("EUR/t of good", kind="optional", minimum=0.0),
        "carbon_price_source": _DECLARED,
        "cscf": Field("1 (fraction)", minimum=0.0, range=fraction()),
        "cscf_source": _CITATION,
        "mass_t": Field("t", minimum=0.0, range=Range(0.0, 1e8, "t", ((1e-3, "kg"),))),
        "precursors": Field(kind="custom", reader=_precursors),
        "price_eur_per_t": Field(
            "EUR/tCO2e", kind="optional", minimum=0.0, range=Range(0.0, 1000.0, "EUR/tCO2e")
        ),
        "see_total_t_per_t": Field("tCO2e/t", minimum=0.0, range=SEE),
    }
)


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised case: benchmarks read from the bundled table are written
    in with their citation, so the trace recomputes from the case alone."""
    out = SPEC.read(case)
    bm, source, route = out.pop("benchmark_t_per_t")
    out.update(
        benchmark_source=source,
        benchmark_t_per_t=bm,
        carbon_price_source=None,
        methodology=METHODOLOGY_ID,
        route=route,
    )
    if out["cscf"] > 1.0:
        raise CaseError("cscf", "a number in [0, 1] (fraction)", f"got {out['cscf']!r}")
    if out["carbon_price_paid_eur_per_t"] is None and case.get("carbon_price_source") is not None:
        raise CaseError(
            "carbon_price_paid_eur_per_t",
            "a number in EUR/t of good beside carbon_price_source",
            "a citation without a carbon price",
        )
    if out["carbon_price_paid_eur_per_t"] is not None:
        out["carbon_price_source"] = _CITATION.read(case, "carbon_price_source", "")
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
    year, pre = norm["year"], norm["precursors"]
    see, mass, cscf, bm = (norm[k] for k in ("see_total_t_per_t", "mass_t", "cscf",
                                             "benchmark_t_per_t"))  # fmt: skip
    price, paid = norm["price_eur_per_t"], norm["carbon_price_paid_eur_per_t"]
    year_valid = (f"{year}-01-01", f"{year}-12-31")
    last = max(CBAM_FACTOR_BY_YEAR)
    rec = Recorder()
    rec.input("year", year, "calendar year of import")
    rec.input("see_total_t_per_t", see, "tCO2e/t")
    rec.input("see_tier", norm["see_tier"], "rung of the SEE")
    rec.input("mass_t", mass, "t")
    for i, p in enumerate(pre):
        rec.input(f"precursors[{i}].mass_t_per_t", p["mass_t_per_t"], "t/t")
    if price is not None:
        rec.input("price_eur_per_t", price, "EUR/tCO2e")
    factor = rec.factor(
        f"cbam_factor ({year})", cbam_factor(year), "1", CBAM_FACTOR_SOURCE,
        *(year_valid if year <= last else (f"{last + 1}-01-01", None)),
    )  # fmt: skip
    col = norm["benchmark_column"]
    rec.factor(f"benchmark (column {col})", bm, "tCO2e/t", norm["benchmark_source"])
    for i, p in enumerate(pre):
        rec.factor(f"precursors[{i}] benchmark (column {p['benchmark_column']})",
                   p["benchmark_t_per_t"], "tCO2e/t", p["benchmark_source"])  # fmt: skip
    rec.factor(f"cscf ({year})", cscf, "1", norm["cscf_source"], *year_valid)
    if paid is not None:
        rec.factor("carbon price paid in the country of origin", paid, "EUR/t",
                   norm["carbon_price_source"], *year_valid)  # fmt: skip

    sefa_g = rec.step(
        "cbam.certificates.sefa_good", "SEFA_g = CBAM_y × CSCF_y × BM_g",
        {"cbam_factor": factor, "cscf": cscf, "benchmark_t_per_t": bm},
        free_allocation_adjustment(factor, cscf, bm), "tCO2e/t",
    )  # fmt: skip
    sefa_i = [free_allocation_adjustment(factor, cscf, p["benchmark_t_per_t"]) for p in pre]
    masses = [p["mass_t_per_t"] for p in pre]
    sefa_p = precursor_adjustment(masses, sefa_i)
    if pre:
        rec.step(
            "cbam.certificates.sefa_precursors",
            "Σ_i m_i × SEFA_i, SEFA_i = CBAM_y × CSCF_y × BM_i (IR 2025/2620 Equation 4)",
            {"mass_t_per_t": masses, "sefa_i_t_per_t": sefa_i}, sefa_p, "tCO2e/t",
        )  # fmt: skip
    sefa = rec.step(
        "cbam.certificates.sefa", "SEFA = SEFA_g + Σ_i m_i × SEFA_i",
        {"sefa_good_t_per_t": sefa_g, "sefa_precursors_t_per_t": sefa_p},
        sefa_g + sefa_p, "tCO2e/t",
    )  # fmt: skip
    d = 0.0
    if paid is not None:
        d = rec.step(
            "cbam.certificates.carbon_price",
            "d = carbon price paid / certificate price (Reg. 2023/956 Art. 9)",
            {"carbon_price_paid_eur_per_t": paid, "price_eur_per_t": price},
            carbon_price_deduction(paid, price), "tCO2e/t",
        )  # fmt: skip
    per_t = rec.step(
        "cbam.certificates.per_tonne", "c = max(0, SEE − SEFA − d)",
        {"see_total_t_per_t": see, "sefa_t_per_t": sefa, "deduction_t_per_t": d},
        certificates_per_tonne(see, sefa, d), "tCO2e/t",
    )  # fmt: skip
    count = rec.step(
        "cbam.certificates.count", "C = M × c", {"mass_t": mass, "certificates_per_t": per_t},
        certificates(mass, per_t), "tCO2e",
    )  # fmt: skip
    cost = None
    if price is not None:
        cost = rec.step(
            "cbam.certificates.cost", "cost = C × price",
            {"certificates": count, "price_eur_per_t": price},
            certificate_cost(count, price), "EUR",
        )  # fmt: skip
    reason = _reason(norm, factor, sefa_g, sefa_p, d, per_t)
    outputs = {
        "benchmark_column": col,
        "benchmark_t_per_t": bm,
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
    sealed = rec.seal(METHODOLOGY_ID, VERSION, outputs, norm)
    return CertificatesResult(norm, factor, sefa_g, sefa_p, sefa, d, per_t, count, cost,
                              reason, sealed["trace"], sealed["trace_sha256"])  # fmt: skip


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute_certificates(case).as_dict()
