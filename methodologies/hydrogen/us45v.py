"""``hydrogen.us45v`` — the US clean hydrogen production credit (docs/method-hydrogen.md).

Legal basis: 26 U.S.C. §45V(b) (applicable percentage by lifecycle GHG rate, kgCO2e per
kg H2, well-to-gate; the applicable amount rounded to the nearest 0.1 cent), §45V(b)(3)
(inflation adjustment of the $0.60, itself rounded to the nearest 0.1 cent) and
§45V(e)(1) (×5 when the prevailing wage and apprenticeship requirements are met); the
yearly factors as the IRS publishes them (Notice 2024-45 for 2023 and 2024, Notice
2025-37 for 2025).

Case and formulas::

    {"methodology": "hydrogen.us45v", "lifecycle_kg_per_kg": 1.2, "prevailing_wage": true,
     "production_kg": 1000,                  # optional: total credit
     "production_year": 2024,                # optional: takes the published factor
     "inflation_adjustment_factor": 1.0}     # optional (§45V(b)(3)), default 1

    rate < 0.45 → 100 %;  0.45 ≤ rate < 1.5 → 33.4 %;  1.5 ≤ rate < 2.5 → 25 %;
    2.5 ≤ rate ≤ 4 → 20 %;  rate > 4 → 0     (a negative rate is valid: 100 %)
    adjusted base     = round(0.60 USD × IAF, 0.1 cent)                  (§45V(b)(3))
    applicable amount = round(percentage × adjusted base, 0.1 cent)      (§45V(b)(1))
    credit per kg     = applicable amount × (5 with prevailing wage, else 1)

Both roundings are needed to give the amounts the IRS publishes: for 2024 (factor 1.0364)
the base is $0.622 and the 25 % tier 0.25 × 0.622 = 0.1555 → **$0.156** (Notice 2024-45);
rounding only once (0.25 × 0.60 × 1.0364 = 0.15546 → $0.155) would miss it by a tenth of
a cent.  The worked example of docs/method-hydrogen.md (1.2 kg/kg with prevailing wage,
factor 1) gives round(0.334 × 0.60) = 0.200, × 5 = **1.0** USD/kg.  ``production_year`` takes the
published factor of that year (:data:`US45V_INFLATION_FACTORS`); a year without one is
refused (give ``inflation_adjustment_factor``), and a factor that contradicts the year's
published one is refused.  The arithmetic is done in decimal, so the result carries no
float noise.

Outputs: ``tier_share``, ``credit_usd_per_kg``, ``base_usd_per_kg``,
``applicable_amount_usd_per_kg``, ``inflation_adjustment_factor``, ``multiplier``,
``credit_usd`` (null without ``production_kg``), ``tier`` (a label), ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.errors import CaseError
from methodologies.hydrogen.common import _seal_result
from methodologies.spec import CaseSpec, Range
from methodologies.trace import factor_item, input_item, step_item

US45V_ID = "hydrogen.us45v"
US45V_SUMMARY = "US clean hydrogen production credit tier and USD/kg (26 U.S.C. §45V)"
#: §45V(b)(2) tiers: (upper bound, bound included, applicable percentage).
US45V_TIERS: tuple[tuple[float, bool, str], ...] = (
    (0.45, False, "1"),
    (1.5, False, "0.334"),
    (2.5, False, "0.25"),
    (4.0, True, "0.2"),
)
US45V_BASE_USD_PER_KG = "0.60"
US45V_WAGE_MULTIPLIER = 5
US45V_SOURCE = "26 U.S.C. §45V(b)(1)-(3), §45V(e)(1)"
#: §45V(b)(1) and (b)(3): amounts are rounded to the nearest multiple of 0.1 cent.
US45V_ROUNDING = Decimal("0.001")
#: §45V(b)(3) inflation adjustment factors as the IRS publishes them, by production year:
#: (factor, source).  Years not listed have no factor the platform could confirm.
US45V_INFLATION_FACTORS: dict[int, tuple[str, str]] = {
    2023: ("1", "IRS Notice 2024-45 (2024-26 IRB 1747), section 3"),
    2024: ("1.0364", "IRS Notice 2024-45 (2024-26 IRB 1747), section 3"),
    2025: ("1.0611", "IRS Notice 2025-37 (GDP implicit price deflator 125.234 / 118.026)"),
}


# --------------------------------------------------------------------------- formulas


def us45v_share(lifecycle_kg_per_kg: Any) -> Any:
    """Applicable percentage [1] of §45V(b)(2) for a lifecycle rate [kgCO2e/kgH2]:
    < 0.45 → 1; [0.45, 1.5) → 0.334; [1.5, 2.5) → 0.25; [2.5, 4] → 0.2; > 4 → 0."""
    rate = np.asarray(lifecycle_kg_per_kg, dtype=np.float64)
    share = np.zeros(rate.shape)
    for bound, included, pct in reversed(US45V_TIERS):
        inside = rate <= bound if included else rate < bound
        share = np.where(inside, float(pct), share)
    return share


# --------------------------------------------------------------------------- 45V
_US45V_KEYS = frozenset(
    {
        "methodology",
        "lifecycle_kg_per_kg",
        "prevailing_wage",
        "production_kg",
        "production_year",
        "inflation_adjustment_factor",
    }
)


def normalise_us45v(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised ``hydrogen.us45v`` case: the inflation adjustment factor
    is the published one of ``production_year`` when that is given (§45V(b)(3))."""
    cf.mapping(case, "")
    cf.only_keys(case, _US45V_KEYS, "")
    wage = case.get("prevailing_wage", False)
    if not isinstance(wage, bool):
        raise CaseError("prevailing_wage", "true or false", f"got {wage!r}")
    year = None
    if case.get("production_year") is not None:
        year = cf.integer(case, "production_year", "", "calendar year (integer)")
        if year not in US45V_INFLATION_FACTORS:
            known = ", ".join(str(y) for y in sorted(US45V_INFLATION_FACTORS))
            raise CaseError(
                "production_year",
                f"a year with a published §45V(b)(3) inflation adjustment factor ({known}); "
                "for another year give inflation_adjustment_factor",
                f"no published factor for {year}",
            )
        published = float(US45V_INFLATION_FACTORS[year][0])
        given = case.get("inflation_adjustment_factor")
        if given is not None:
            value = cf.number(case, "inflation_adjustment_factor", "", "1", minimum=0.0)
            if value != published:
                raise CaseError(
                    "inflation_adjustment_factor",
                    f"{published!r}, the factor published for {year} "
                    f"({US45V_INFLATION_FACTORS[year][1]}), or leave it out",
                    f"got {value!r}",
                )
        iaf = published
    else:
        iaf = cf.number(case, "inflation_adjustment_factor", "", "1", minimum=0.0, default=1.0)
    out = {
        "inflation_adjustment_factor": iaf,
        # A negative life-cycle rate is valid (e.g. with biogenic feedstocks): 100 %.
        "lifecycle_kg_per_kg": cf.number(case, "lifecycle_kg_per_kg", "", "kgCO2e/kgH2"),
        "methodology": US45V_ID,
        "prevailing_wage": wage,
        "production_kg": cf.optional_number(case, "production_kg", "", "kg", minimum=0.0),
    }
    if year is not None:
        out["production_year"] = year
    return out


def _tier_label(rate: float) -> str:
    low = None
    for bound, included, pct in US45V_TIERS:
        if rate < bound or (included and rate == bound):
            close = "]" if included else ")"
            lower = "(−∞" if low is None else f"[{low:g}"
            return f"{lower}, {bound:g}{close} kgCO2e/kgH2 → {float(pct):.1%}"
        low = bound
    return "> 4 kgCO2e/kgH2 → no credit"


def us45v_amounts(iaf: Decimal, share: Decimal) -> tuple[Decimal, Decimal]:
    """(adjusted base, applicable amount) [USD/kg], each rounded half up to the nearest
    0.1 cent: base = round(0.60 × IAF) (§45V(b)(3)); amount = round(share × base)
    (§45V(b)(1)).  Notice 2024-45: IAF 1.0364 → base 0.622, 25 % → 0.156."""
    base = (Decimal(US45V_BASE_USD_PER_KG) * iaf).quantize(US45V_ROUNDING, ROUND_HALF_UP)
    amount = (base * share).quantize(US45V_ROUNDING, ROUND_HALF_UP)
    return base, amount


def run_us45v(case: Mapping[str, Any]) -> dict[str, Any]:
    """``hydrogen.us45v`` (see the module docstring): outputs, trace and trace_sha256."""
    norm = normalise_us45v(case)
    rate = norm["lifecycle_kg_per_kg"]
    share = float(us45v_share(rate))
    iaf = Decimal(repr(norm["inflation_adjustment_factor"]))
    base, amount = us45v_amounts(iaf, Decimal(repr(share)))
    multiplier = US45V_WAGE_MULTIPLIER if norm["prevailing_wage"] else 1
    credit_dec = amount * multiplier
    credit = float(credit_dec)
    total = None
    if norm["production_kg"] is not None:
        total = float(credit_dec * Decimal(repr(norm["production_kg"])))
    tier = _tier_label(rate)
    year = norm.get("production_year")
    reason = (
        f"lifecycle rate {rate!r} kgCO2e/kgH2: {tier}; base 0.60 × {iaf} = {base} USD/kg"
        + (f" ({year}, {US45V_INFLATION_FACTORS[year][1]})" if year is not None else "")
        + f"; applicable amount {share!r} × {base} = {amount} USD/kg (to 0.1 cent)"
        + (" × 5 (prevailing wage and apprenticeship)" if multiplier == 5 else "")
        + f" = {credit!r} USD/kg."
    )
    outputs = {
        "applicable_amount_usd_per_kg": float(amount),
        "base_usd_per_kg": float(base),
        "credit_usd": total,
        "credit_usd_per_kg": credit,
        "inflation_adjustment_factor": norm["inflation_adjustment_factor"],
        "multiplier": multiplier,
        "reason": reason,
        "tier": tier,
        "tier_share": share,
    }
    inputs = [
        input_item("lifecycle_kg_per_kg", rate, "kgCO2e/kgH2"),
        input_item("prevailing_wage", norm["prevailing_wage"], "bool"),
        input_item("inflation_adjustment_factor", norm["inflation_adjustment_factor"], "1"),
    ]
    if year is not None:
        inputs.append(input_item("production_year", year, "year"))
    if total is not None:
        inputs.append(input_item("production_kg", norm["production_kg"], "kg"))
    factors = [
        factor_item(
            "45V base amount", float(US45V_BASE_USD_PER_KG), "USD/kg", US45V_SOURCE, None, None
        ),
        factor_item("45V applicable percentage", share, "1", US45V_SOURCE, None, None),
    ]
    if year is not None:
        factors.append(
            factor_item(
                "45V inflation adjustment factor",
                norm["inflation_adjustment_factor"],
                "1",
                US45V_INFLATION_FACTORS[year][1],
                f"{year}-01-01",
                f"{year}-12-31",
            )
        )
    steps = [
        step_item(
            f"{US45V_ID}.tier",
            "share = 1 if r < 0.45; 0.334 if r < 1.5; 0.25 if r < 2.5; 0.2 if r ≤ 4; else 0",
            {"lifecycle_kg_per_kg": rate},
            share,
            "1",
        ),
        step_item(
            f"{US45V_ID}.base",
            "base = round(0.60 × IAF, 0.001)",
            {"inflation_adjustment_factor": norm["inflation_adjustment_factor"]},
            float(base),
            "USD/kg",
        ),
        step_item(
            f"{US45V_ID}.applicable_amount",
            "amount = round(share × base, 0.001)",
            {"tier_share": share, "base_usd_per_kg": float(base)},
            float(amount),
            "USD/kg",
        ),
        step_item(
            f"{US45V_ID}.credit",
            "credit = amount × (5 if prevailing wage else 1)",
            {"applicable_amount_usd_per_kg": float(amount), "multiplier": multiplier},
            credit,
            "USD/kg",
        ),
    ]
    return _seal_result(US45V_ID, inputs, factors, steps, outputs, norm)


#: Plausible ranges of the ``hydrogen.us45v`` case keys; 45V lifecycle rates can be
#: negative (e.g. captured fugitive methane feedstock).
US45V_SPEC = CaseSpec(
    {},
    ranges={
        "lifecycle_kg_per_kg": Range(-50.0, 40.0, "kgCO2e/kg H2", ((1e3, "tCO2e/kg"),)),
        "inflation_adjustment_factor": Range(0.5, 5.0, "1"),
    },
)
