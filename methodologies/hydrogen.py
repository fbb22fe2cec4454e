"""Hydrogen: EU RFNBO rules, the US 45V credit, and SMR/ATR emissions (DESIGN.md §5).

Three methodologies, one module:

``hydrogen.rfnbo`` — GHG intensity and RFNBO share of electrolytic hydrogen
-----------------------------------------------------------------------------
Legal basis: Commission Delegated Regulation (EU) 2023/1184 (RFNBO rules: additionality,
temporal and geographic correlation), Art. 4 (grid electricity counted as renewable) and
Art. 6 (temporal correlation); Commission Delegated Regulation (EU) 2023/1185 (GHG
methodology; Art. 1: savings of at least 70 % against the fossil fuel comparator of
94 gCO2e/MJ, i.e. at most 28.2 gCO2e/MJ; Annex A point 1: the intensity is computed for
the output of a period, no averaging beyond it).

Case::

    {"methodology": "hydrogen.rfnbo", "period": "monthly",        # or "hourly"
     "electrolyser_efficiency": 0.6,             # MJ H2 (LHV) per MJ electricity [1]
     "renewable_electricity_mwh": [900, 800],    # per period, into the electrolyser
     "grid_electricity_mwh": [100, 200],         # per period, into the electrolyser
     "grid_intensity_g_per_kwh": [300, 250],     # the zone's intensity per period
     "auxiliary_grid_electricity_mwh": [5, 5],   # optional: grid electricity that makes
                                                 # no hydrogen (compression, cooling)
     "grid_renewable_share": [0.4, 0.45],        # optional: share of the grid electricity
                                                 # that counts as renewable (DR 2023/1184
                                                 # Art. 4), one fraction per period
     "year": 2029}                               # optional, or "period_start": [ISO 8601
                                                 # with the bidding zone's UTC offset, one
                                                 # per period]

Temporal correlation (DR 2023/1184 Art. 6): until 31 December 2029 the renewable
electricity must be matched within the same calendar month, from 1 January 2030 within the
same hour, both **in the bidding zone's local time**.  ``period_start`` carries that local
time as the offset of each ISO 8601 stamp (``2029-03-01T00:00:00+01:00`` is March in
Central European Time); a start that is not the beginning of a whole local calendar month
(monthly) or hour (hourly) is refused, and so are starts that are not increasing or that
name one period twice.  The 2030 switch is read on the local clock.  With ``year`` or
``period_start`` the engine states the rule that applies (``temporal_rule``); monthly
periods in or after 2030 are refused.  Without either the rule cannot be checked:
``temporal_rule`` is null and each value is taken as one period of the case's kind.

Per matching period p (arrays broadcast: any leading axes, e.g. installations, and the
periods on the last axis)::

    E_in[p]     = E_ren[p] + E_grid[p]                       [MWh into the electrolyser]
    H2_MJ[p]    = E_in[p] × 3600 MJ/MWh × η                   [MJ, LHV]
    H2_kg[p]    = H2_MJ[p] / 120 MJ/kg                        [kg]
    Em_g[p]     = (E_grid[p] + E_aux[p]) × 1000 kWh/MWh × I_grid[p]     [gCO2e]
    GHG[p]      = Em_g[p] / H2_MJ[p]                          [gCO2e/MJ]
    passes[p]   = GHG[p] ≤ 28.2 gCO2e/MJ                      (each period on its own)
    share[p]    = (E_ren[p] + s_grid[p] × E_grid[p]) / E_in[p]          [1]
    RFNBO_kg[p] = share[p] × H2_kg[p]   if passes[p], else 0
    rfnbo_share = Σ RFNBO_kg / Σ H2_kg
    passes      = every period that made hydrogen passes
    GHG         = Σ Em_g / Σ H2_MJ   (reported for information only: the verdict never
                  rests on an average over periods)

Renewable electricity that meets the RFNBO criteria counts zero emissions (DR 2023/1185
Annex A, point 5(b)); grid electricity counts with the zone's intensity, and counts as
renewable for the share in proportion ``s_grid`` where DR 2023/1184 Art. 4 allows it (the
intensity already values the renewable part of the grid at zero, so the emissions use the
whole grid amount).  The RFNBO share counts the electricity that goes into the hydrogen:
auxiliary electricity adds its emissions to the period's hydrogen but does not dilute the
share.  Hydrogen made in a period above the threshold is not RFNBO.  Auxiliary electricity
in a period without hydrogen is reported (``unattributed_emissions_kg``) but belongs to no
period's output.  The intensity covers the electricity input e_i only (no transport,
compression or distribution terms); it is the same for the RFNBO and non-RFNBO parts of a
period.

Outputs: ``ghg_intensity_g_per_mj``, ``ghg_intensity_kg_per_kg``, ``rfnbo_share``,
``passes``, ``failing_periods``, ``threshold_g_per_mj``, ``hydrogen_kg``,
``rfnbo_hydrogen_kg``, ``emissions_kg``, ``unattributed_emissions_kg``, ``temporal_rule``,
``periods`` (per period: ``index``, ``start`` if given, ``renewable_mwh``, ``grid_mwh``,
``grid_renewable_share``, ``auxiliary_mwh``, ``hydrogen_kg``, ``emissions_kg``,
``ghg_intensity_g_per_mj`` (null without hydrogen), ``rfnbo_share``, ``rfnbo_kg``,
``passes`` (null without hydrogen)), ``reason``.

``hydrogen.us45v`` — the US clean hydrogen production credit
------------------------------------------------------------
Legal basis: 26 U.S.C. §45V(b) (applicable percentage by lifecycle GHG rate, kgCO2e per
kg H2, well-to-gate; the applicable amount rounded to the nearest 0.1 cent), §45V(b)(3)
(inflation adjustment of the $0.60, itself rounded to the nearest 0.1 cent) and
§45V(e)(1) (×5 when the prevailing wage and apprenticeship requirements are met); the
yearly factors as the IRS publishes them (Notice 2024-45 for 2023 and 2024, Notice
2025-37 for 2025)::

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
a cent.  The DESIGN example (1.2 kg/kg with prevailing wage, factor 1) gives
round(0.334 × 0.60) = 0.200, × 5 = **1.0** USD/kg.  ``production_year`` takes the
published factor of that year (:data:`US45V_INFLATION_FACTORS`); a year without one is
refused (give ``inflation_adjustment_factor``), and a factor that contradicts the year's
published one is refused.  The arithmetic is done in decimal, so the result carries no
float noise.

Outputs: ``tier_share``, ``credit_usd_per_kg``, ``base_usd_per_kg``,
``applicable_amount_usd_per_kg``, ``inflation_adjustment_factor``, ``multiplier``,
``credit_usd`` (null without ``production_kg``), ``tier`` (a label), ``reason``.

``hydrogen.smr`` — steam methane reforming or autothermal reforming, with or without capture
-----------------------------------------------------------------------------------------
::

    {"methodology": "hydrogen.smr", "technology": "smr",       # or "atr"
     "hydrogen_t": 1000,                                      # produced [t H2]
     "natural_gas_gj_per_t": 165,         # feed + fuel per t H2 (or natural_gas_tj_per_t)
     "capture_rate": 0.0,                 # fraction of the CO2 captured and stored [0, 1]
     "electricity_mwh_per_t": 0.5, "electricity_ef_t_per_mwh": 0.4,   # optional
     "methane_leakage_rate": 0.01,        # optional, upstream (fraction of gas by mass)
     "gwp100_ch4": 29.8,                  # optional override
     "cn_code": "28041000"}               # optional (default hydrogen)

    CO2_gross  = NG [TJ/t] × 56.1 tCO2/TJ            (IPCC 2006 Vol. 2 Table 1.4)
    captured   = CO2_gross × capture_rate
    SEE_dir    = CO2_gross − captured                 [tCO2/t H2]
    SEE_indir  = E_el [MWh/t] × EF_el [tCO2/MWh]
    upstream   = NG [TJ/t] / 0.048 TJ/t × leakage × GWP100   (NCV 48.0 TJ/Gg, IPCC 2006
                 Vol. 2 Table 1.2; methane GWP100 29.8 for fossil CH4, IPCC AR6 WG1 Table 7.15)
    lifecycle  = SEE_dir + SEE_indir + upstream        [kgCO2e/kg H2]

Hydrogen (CN 2804 10 00) is an Annex II good: ``see_total_t_per_t`` = SEE_dir
(Reg. 2023/956 Annex II; :func:`methodologies.cbam_goods.is_direct_only`); the indirect
SEE is reported apart. Upstream methane is outside the CBAM boundary (not the
installation's emissions): it is reported in ``upstream_t_per_t`` and the lifecycle rate
only. Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``direct_only``, ``gross_co2_t_per_t``, ``captured_t_per_t``, ``upstream_t_per_t``,
``lifecycle_kg_per_kg``, ``ghg_intensity_g_per_mj``, ``direct_emissions_t``,
``technology``, ``tier`` (``modelled``), ``reason``.

All arithmetic is float64; the formula functions take numpy arrays and broadcast, so one
call evaluates installations × hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.cbam_goods import is_direct_only, normalise_cn_code
from methodologies.errors import CaseError
from methodologies.spec import ELECTRICITY_EF, GOOD_T, PERCENT, CaseSpec, Range, fraction
from methodologies.trace import build_trace, factor_item, input_item, seal, step_item

VERSION = "2023.1185.1"
RFNBO_ID = "hydrogen.rfnbo"
US45V_ID = "hydrogen.us45v"
SMR_ID = "hydrogen.smr"
RFNBO_SUMMARY = (
    "GHG intensity (gCO2e/MJ) and RFNBO share of electrolytic hydrogen with monthly or "
    "hourly temporal correlation (DR 2023/1184, 2023/1185)"
)
US45V_SUMMARY = "US clean hydrogen production credit tier and USD/kg (26 U.S.C. §45V)"
SMR_SUMMARY = (
    "Hydrogen from steam methane / autothermal reforming, with or without CO2 capture "
    "(IPCC 2006 natural gas factor; CBAM direct-only)"
)

#: Lower heating value of hydrogen [MJ/kg] (DR 2023/1185 Annex; DESIGN.md §5).
LHV_MJ_PER_KG = 120.0
#: Fossil fuel comparator [gCO2e/MJ] (DR 2023/1185 Annex A, point 2).
FOSSIL_COMPARATOR_G_PER_MJ = 94.0
#: Required savings against the comparator (DR 2023/1185 Art. 1; Directive 2018/2001
#: Art. 25(2) as amended): 70 %.
REQUIRED_SAVINGS = 0.70
#: 28.2 gCO2e/MJ = (1 − 0.70) × 94.
THRESHOLD_G_PER_MJ = 28.2
RFNBO_SOURCE = "DR (EU) 2023/1185 Art. 1 and Annex A (94 gCO2e/MJ comparator, 70 % savings)"
LHV_SOURCE = "DR (EU) 2023/1185 Annex (LHV of hydrogen 120 MJ/kg)"
#: The day hourly temporal correlation starts (DR 2023/1184 Art. 6).
HOURLY_FROM = datetime(2030, 1, 1, tzinfo=UTC)
#: The same day on the bidding zone's local clock (the rule is read in local time).
HOURLY_FROM_LOCAL = datetime(2030, 1, 1)
MJ_PER_MWH = 3600.0
KWH_PER_MWH = 1000.0

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

#: IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: default CO2 emission factor of natural gas.
NG_EF_T_PER_TJ = 56.1
NG_EF_SOURCE = "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4 (natural gas, 56 100 kg CO2/TJ)"
#: IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.2: net calorific value of natural gas.
NG_NCV_TJ_PER_T = 0.048
NG_NCV_SOURCE = "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.2 (natural gas, 48.0 TJ/Gg)"
#: IPCC AR6 WG1 Ch. 7 Table 7.15: GWP100 of fossil methane.
GWP100_CH4 = 29.8
GWP100_SOURCE = "IPCC AR6 WG1 Ch. 7 Table 7.15 (GWP100 of fossil CH4, 29.8)"
HYDROGEN_CN = "28041000"
TECHNOLOGIES = ("smr", "atr")


# --------------------------------------------------------------------------- formulas


def hydrogen_energy_mj(electricity_mwh: Any, efficiency: Any) -> Any:
    """H2 [MJ, LHV] = E_in [MWh] × 3600 [MJ/MWh] × η [1].
    Reference: DR (EU) 2023/1185 Annex A (energy content of the fuel, LHV)."""
    return np.asarray(electricity_mwh, dtype=np.float64) * MJ_PER_MWH * efficiency


def grid_emissions_g(grid_mwh: Any, intensity_g_per_kwh: Any) -> Any:
    """Em [gCO2e] = E_grid [MWh] × 1000 [kWh/MWh] × I_grid [gCO2e/kWh].
    Reference: DR (EU) 2023/1185 Annex A, point 5 (grid electricity)."""
    return np.asarray(grid_mwh, dtype=np.float64) * KWH_PER_MWH * intensity_g_per_kwh


def renewable_share(renewable_mwh: Any, grid_mwh: Any, auxiliary_mwh: Any = 0.0) -> Any:
    """share [1] = E_ren / (E_ren + E_grid + E_aux); 0 where no electricity.
    Reference: DR (EU) 2023/1184 Art. 3 and 6 (share of output in each period)."""
    ren = np.asarray(renewable_mwh, dtype=np.float64)
    total = ren + grid_mwh + auxiliary_mwh
    return np.divide(ren, total, out=np.zeros(np.broadcast(ren, total).shape), where=total > 0)


def ghg_intensity_g_per_mj(emissions_g: Any, energy_mj: Any, axis: int | None = -1) -> Any:
    """GHG [gCO2e/MJ] = Σ Em [g] / Σ H2 [MJ] over ``axis`` (the periods; None: per
    period), NaN without hydrogen.  Reference: DR (EU) 2023/1185 Annex A, point 1."""
    em = np.asarray(emissions_g, dtype=np.float64)
    mj = np.asarray(energy_mj, dtype=np.float64)
    if axis is not None:
        em, mj = em.sum(axis=axis), mj.sum(axis=axis)
    return np.divide(em, mj, out=np.full(np.shape(em), np.nan), where=mj > 0)


def kg_per_kg(g_per_mj: Any) -> Any:
    """kgCO2e/kgH2 = gCO2e/MJ × 120 [MJ/kg] / 1000 [g/kg]."""
    return np.asarray(g_per_mj, dtype=np.float64) * LHV_MJ_PER_KG / 1000.0


def us45v_share(lifecycle_kg_per_kg: Any) -> Any:
    """Applicable percentage [1] of §45V(b)(2) for a lifecycle rate [kgCO2e/kgH2]:
    < 0.45 → 1; [0.45, 1.5) → 0.334; [1.5, 2.5) → 0.25; [2.5, 4] → 0.2; > 4 → 0."""
    rate = np.asarray(lifecycle_kg_per_kg, dtype=np.float64)
    share = np.zeros(rate.shape)
    for bound, included, pct in reversed(US45V_TIERS):
        inside = rate <= bound if included else rate < bound
        share = np.where(inside, float(pct), share)
    return share


def reforming_co2_t_per_t(natural_gas_tj_per_t: Any, ef_t_per_tj: Any = NG_EF_T_PER_TJ) -> Any:
    """CO2_gross [tCO2/t H2] = NG [TJ/t H2] × EF [tCO2/TJ] (feed and fuel carbon of SMR/ATR).
    Reference: IPCC 2006 Vol. 2 Ch. 1 Eq. 1.1 and Table 1.4."""
    return np.asarray(natural_gas_tj_per_t, dtype=np.float64) * ef_t_per_tj


def upstream_methane_t_per_t(
    natural_gas_tj_per_t: Any, leakage_rate: Any, gwp100: Any = GWP100_CH4
) -> Any:
    """Upstream CH4 [tCO2e/t H2] = NG [TJ/t] / NCV [TJ/t gas] × leakage [t CH4/t gas] ×
    GWP100 (gas taken as methane).  References: IPCC 2006 Vol. 2 Table 1.2 (NCV 48.0 TJ/Gg);
    IPCC AR6 WG1 Table 7.15 (GWP100)."""
    gas_t = np.asarray(natural_gas_tj_per_t, dtype=np.float64) / NG_NCV_TJ_PER_T
    return gas_t * leakage_rate * gwp100


# --------------------------------------------------------------------------- helpers


def _seal_result(
    methodology_id: str,
    inputs: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    outputs: dict[str, Any],
    norm: dict[str, Any],
) -> dict[str, Any]:
    trace = build_trace(
        methodology_id=methodology_id,
        version=VERSION,
        inputs=inputs,
        factors=factors,
        steps=steps,
        result=outputs,
        case=norm,
    )
    _, sha = seal(trace)
    return {**trace["result"], "trace": trace, "trace_sha256": sha}


def _series(case: Mapping[str, Any], key: str, unit: str, n: int | None) -> list[float]:
    values = case.get(key)
    if not isinstance(values, list) or not values:
        raise CaseError(key, f"a non-empty list of numbers in {unit}", f"got {values!r}")
    if n is not None and len(values) != n:
        raise CaseError(
            key, f"{n} numbers in {unit} (one per period)", f"got {len(values)} numbers"
        )
    return [cf.to_float(v, f"{key}[{i}]", unit, minimum=0.0) for i, v in enumerate(values)]


def _fraction(case: Mapping[str, Any], key: str, default: float | None = None) -> float:
    kwargs = {} if default is None else {"default": default}
    value = cf.number(case, key, "", "1 (fraction in [0, 1])", minimum=0.0, **kwargs)
    if value > 1.0:
        raise CaseError(key, "a number in [0, 1] (fraction)", f"got {value!r}")
    return value


# --------------------------------------------------------------------------- RFNBO

_RFNBO_KEYS = frozenset(
    {
        "methodology",
        "period",
        "electrolyser_efficiency",
        "renewable_electricity_mwh",
        "grid_electricity_mwh",
        "grid_intensity_g_per_kwh",
        "auxiliary_grid_electricity_mwh",
        "grid_renewable_share",
        "year",
        "period_start",
    }
)


def _local_iso(value: object, key: str) -> datetime:
    """An ISO 8601 time with its UTC offset, kept in that offset (the zone's local time)."""
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            stamp = None
        if stamp is not None and stamp.tzinfo is not None:
            return stamp
    raise CaseError(key, "an ISO 8601 time with the bidding zone's UTC offset", f"got {value!r}")


def _stamp_text(stamp: datetime) -> str:
    return stamp.isoformat().replace("+00:00", "Z")


def check_period_starts(stamps: list[datetime], period: str) -> None:
    """Refuse starts that are not whole local calendar months (monthly) or hours (hourly),
    that do not increase, or that name one period twice.  Reference: DR (EU) 2023/1184
    Art. 6 (matching within the same calendar month, or the same hour, in the bidding
    zone's local time)."""
    for i, stamp in enumerate(stamps):
        key = f"period_start[{i}]"
        if stamp.minute or stamp.second or stamp.microsecond:
            raise CaseError(
                key,
                f"the start of a whole {'calendar month' if period == 'monthly' else 'hour'}"
                " in the bidding zone's local time (DR 2023/1184 Art. 6)",
                f"{_stamp_text(stamp)} is not on the hour",
            )
        if period == "monthly" and (stamp.day != 1 or stamp.hour != 0):
            raise CaseError(
                key,
                "the start of a whole calendar month in the bidding zone's local time "
                "(day 1, 00:00; DR 2023/1184 Art. 6)",
                f"{_stamp_text(stamp)} is not the start of a calendar month",
            )
        if i and stamp <= stamps[i - 1]:
            raise CaseError(
                key, "period starts in increasing order", "not after the previous period"
            )
        if (
            i
            and period == "monthly"
            and (stamp.year, stamp.month) == (stamps[i - 1].year, stamps[i - 1].month)
        ):
            raise CaseError(key, "one value per calendar month", "the same month twice")


def normalise_rfnbo(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised ``hydrogen.rfnbo`` case (auxiliary electricity and the grid's
    renewable share zero when absent; period starts kept in their local offset)."""
    cf.mapping(case, "")
    cf.only_keys(case, _RFNBO_KEYS, "")
    period = cf.text(case, "period", "", "'monthly' or 'hourly'")
    if period not in ("monthly", "hourly"):
        raise CaseError("period", "'monthly' or 'hourly'", f"got {period!r}")
    efficiency = cf.number(case, "electrolyser_efficiency", "", "1 (LHV basis)", minimum=0.0)
    if not 0.0 < efficiency <= 1.0:
        raise CaseError(
            "electrolyser_efficiency", "a number in (0, 1] (LHV basis)", f"got {efficiency!r}"
        )
    renewable = _series(case, "renewable_electricity_mwh", "MWh", None)
    n = len(renewable)
    out: dict[str, Any] = {
        "methodology": RFNBO_ID,
        "period": period,
        "electrolyser_efficiency": efficiency,
        "renewable_electricity_mwh": renewable,
        "grid_electricity_mwh": _series(case, "grid_electricity_mwh", "MWh", n),
        "grid_intensity_g_per_kwh": _series(case, "grid_intensity_g_per_kwh", "gCO2e/kWh", n),
        "auxiliary_grid_electricity_mwh": (
            _series(case, "auxiliary_grid_electricity_mwh", "MWh", n)
            if case.get("auxiliary_grid_electricity_mwh") is not None
            else [0.0] * n
        ),
    }
    if case.get("grid_renewable_share") is not None:
        shares = _series(case, "grid_renewable_share", "1 (fraction in [0, 1])", n)
        for i, share in enumerate(shares):
            if share > 1.0:
                raise CaseError(
                    f"grid_renewable_share[{i}]", "a fraction in [0, 1]", f"got {share!r}"
                )
        out["grid_renewable_share"] = shares
    else:
        out["grid_renewable_share"] = [0.0] * n
    if case.get("year") is not None and case.get("period_start") is not None:
        raise CaseError("year", "either year or period_start, not both", "both given")
    if case.get("year") is not None:
        out["year"] = cf.integer(case, "year", "", "calendar year (integer)")
    if case.get("period_start") is not None:
        starts = case["period_start"]
        if not isinstance(starts, list) or len(starts) != n:
            raise CaseError(
                "period_start", f"{n} ISO 8601 times (one per period)", f"got {starts!r}"
            )
        stamps = [_local_iso(s, f"period_start[{i}]") for i, s in enumerate(starts)]
        check_period_starts(stamps, period)
        out["period_start"] = [_stamp_text(s) for s in stamps]
    return out


def _local_clock(text: str) -> datetime:
    """The wall-clock time of a normalised period start, in its own (local) offset."""
    return datetime.fromisoformat(text).replace(tzinfo=None)


def temporal_rule(norm: Mapping[str, Any]) -> tuple[str | None, str]:
    """The temporal-correlation rule that applies: ``(rule, explanation)``; rule is
    "monthly", "hourly", "monthly and hourly" (periods on both sides of 2030-01-01 on the
    bidding zone's local clock) or None when neither ``year`` nor ``period_start`` is
    given.  Reference: DR (EU) 2023/1184 Art. 6.  Raises :class:`CaseError` for monthly
    periods from 2030 on."""
    if "period_start" in norm:
        hourly = [_local_clock(s) >= HOURLY_FROM_LOCAL for s in norm["period_start"]]
    elif "year" in norm:
        hourly = [norm["year"] >= HOURLY_FROM_LOCAL.year]
    else:
        return None, "no year or period_start: the temporal rule was not checked"
    if any(hourly) and norm["period"] == "monthly":
        first = hourly.index(True)
        key = f"period_start[{first}]" if "period_start" in norm else "year"
        raise CaseError(
            key,
            "hourly periods: from 1 January 2030 temporal correlation is hourly "
            "(DR 2023/1184 Art. 6)",
            "monthly periods given",
        )
    if all(hourly):
        return "hourly", "from 1 January 2030: hourly temporal correlation (DR 2023/1184 Art. 6)"
    if not any(hourly):
        text = "until 31 December 2029: monthly temporal correlation (DR 2023/1184 Art. 6)"
        if norm["period"] == "hourly":
            text += "; hourly periods given, which also meet it"
        return "monthly", text
    return "monthly and hourly", (
        "periods until 31 December 2029 match monthly, from 1 January 2030 hourly "
        "(DR 2023/1184 Art. 6, local time); hourly periods given"
    )


def meets_threshold(intensity_g_per_mj: Any) -> Any:
    """passes = GHG ≤ 28.2 gCO2e/MJ (DR (EU) 2023/1185 Art. 1: at least 70 % savings
    against 94 gCO2e/MJ).  A value equal to the threshold passes; float noise of the last
    bits (relative 1e-12) is not taken for an excess.  NaN (no hydrogen) is False."""
    g = np.asarray(intensity_g_per_mj, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (g <= THRESHOLD_G_PER_MJ) | np.isclose(g, THRESHOLD_G_PER_MJ, rtol=1e-12, atol=0.0)


def rfnbo_periods(
    renewable_mwh: Any,
    grid_mwh: Any,
    auxiliary_mwh: Any,
    intensity: Any,
    efficiency: Any,
    grid_renewable_share: Any = 0.0,
) -> dict[str, np.ndarray]:
    """Every per-period quantity of the module docstring (periods on the last axis; any
    leading axes, e.g. installations, broadcast): ``hydrogen_mj``, ``hydrogen_kg``,
    ``emissions_g``, ``intensity_g_per_mj``, ``passes``, ``share``, ``rfnbo_kg`` (zero in
    a period above the threshold).  References: DR (EU) 2023/1185 Annex A points 1 and 5;
    DR (EU) 2023/1184 Art. 4 and 6."""
    ren = np.asarray(renewable_mwh, dtype=np.float64)
    grid = np.asarray(grid_mwh, dtype=np.float64)
    aux = np.asarray(auxiliary_mwh, dtype=np.float64)
    s_grid = np.asarray(grid_renewable_share, dtype=np.float64)
    mj = hydrogen_energy_mj(ren + grid, efficiency)
    kg = mj / LHV_MJ_PER_KG
    emissions = grid_emissions_g(grid + aux, intensity)
    # The share of the electricity that goes into the hydrogen: auxiliary excluded.
    share = renewable_share(ren + s_grid * grid, (1.0 - s_grid) * grid)
    per_period = ghg_intensity_g_per_mj(emissions, mj, axis=None)
    passes = meets_threshold(per_period) & (mj > 0)
    return {
        "hydrogen_mj": mj,
        "hydrogen_kg": kg,
        "emissions_g": emissions,
        "intensity_g_per_mj": per_period,
        "passes": passes,
        "share": share,
        "rfnbo_kg": np.where(passes, share * kg, 0.0),
    }


def _none_if_nan(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def run_rfnbo(case: Mapping[str, Any]) -> dict[str, Any]:
    """``hydrogen.rfnbo`` (see the module docstring): outputs, trace and trace_sha256."""
    norm = normalise_rfnbo(case)
    rule, rule_text = temporal_rule(norm)
    ren = np.asarray(norm["renewable_electricity_mwh"])
    grid = np.asarray(norm["grid_electricity_mwh"])
    aux = np.asarray(norm["auxiliary_grid_electricity_mwh"])
    s_grid = np.asarray(norm["grid_renewable_share"])
    intensity = np.asarray(norm["grid_intensity_g_per_kwh"])
    eta = norm["electrolyser_efficiency"]
    p = rfnbo_periods(ren, grid, aux, intensity, eta, s_grid)
    total_mj = float(p["hydrogen_mj"].sum())
    if total_mj <= 0.0:
        raise CaseError(
            "renewable_electricity_mwh",
            "electricity into the electrolyser in at least one period",
            "no hydrogen is produced",
        )
    made = p["hydrogen_mj"] > 0
    total_g = float(p["emissions_g"].sum())
    attributed_g = float(p["emissions_g"][made].sum())
    ghg = attributed_g / total_mj
    kg_total = float(p["hydrogen_kg"].sum())
    rfnbo_kg = float(p["rfnbo_kg"].sum())
    share = rfnbo_kg / kg_total
    starts = norm.get("period_start")
    periods = []
    for i in range(len(ren)):
        row = {
            "index": i,
            "renewable_mwh": float(ren[i]),
            "grid_mwh": float(grid[i]),
            "grid_renewable_share": float(s_grid[i]),
            "auxiliary_mwh": float(aux[i]),
            "hydrogen_kg": float(p["hydrogen_kg"][i]),
            "emissions_kg": float(p["emissions_g"][i]) / 1000.0,
            "ghg_intensity_g_per_mj": _none_if_nan(p["intensity_g_per_mj"][i]),
            "rfnbo_share": float(p["share"][i]),
            "rfnbo_kg": float(p["rfnbo_kg"][i]),
            "passes": bool(p["passes"][i]) if made[i] else None,
        }
        if starts:
            row["start"] = starts[i]
        periods.append(row)
    failing = [r["index"] for r in periods if r["passes"] is False]
    passes = not failing
    unattributed_g = total_g - attributed_g
    reason = (
        f"{len(periods)} {norm['period']} period(s), each judged on its own; {rule_text}; "
        + (
            f"every period with hydrogen ≤ {THRESHOLD_G_PER_MJ} gCO2e/MJ (passes)"
            if passes
            else f"{len(failing)} period(s) above {THRESHOLD_G_PER_MJ} gCO2e/MJ (fails; "
            "their hydrogen is not RFNBO)"
        )
        + f"; mean intensity {ghg!r} gCO2e/MJ (information only); RFNBO share {share!r}"
        + (
            f"; {unattributed_g / 1000.0!r} kgCO2e of auxiliary electricity in periods "
            "without hydrogen"
            if unattributed_g > 0
            else ""
        )
        + "."
    )
    outputs = {
        "emissions_kg": total_g / 1000.0,
        "failing_periods": failing,
        "ghg_intensity_g_per_mj": ghg,
        "ghg_intensity_kg_per_kg": float(kg_per_kg(ghg)),
        "hydrogen_kg": kg_total,
        "passes": passes,
        "periods": periods,
        "reason": reason,
        "rfnbo_hydrogen_kg": rfnbo_kg,
        "rfnbo_share": share,
        "temporal_rule": rule,
        "threshold_g_per_mj": THRESHOLD_G_PER_MJ,
        "unattributed_emissions_kg": unattributed_g / 1000.0,
    }
    n = len(ren)
    inputs = [
        input_item("electrolyser_efficiency", eta, "1 (LHV basis)"),
        input_item("renewable_electricity_mwh", norm["renewable_electricity_mwh"], "MWh"),
        input_item("grid_electricity_mwh", norm["grid_electricity_mwh"], "MWh"),
        input_item("grid_intensity_g_per_kwh", norm["grid_intensity_g_per_kwh"], "gCO2e/kWh"),
        input_item("auxiliary_grid_electricity_mwh", norm["auxiliary_grid_electricity_mwh"], "MWh"),
        input_item("grid_renewable_share", norm["grid_renewable_share"], "1"),
    ]
    factors = [
        factor_item("LHV of hydrogen", LHV_MJ_PER_KG, "MJ/kg", LHV_SOURCE, None, None),
        factor_item(
            "fossil fuel comparator",
            FOSSIL_COMPARATOR_G_PER_MJ,
            "gCO2e/MJ",
            RFNBO_SOURCE,
            None,
            None,
        ),
        factor_item("RFNBO threshold", THRESHOLD_G_PER_MJ, "gCO2e/MJ", RFNBO_SOURCE, None, None),
    ]
    steps = [
        step_item(
            f"{RFNBO_ID}.hydrogen",
            "H2_MJ[p] = (E_ren + E_grid) × 3600 × η; H2_kg[p] = H2_MJ[p] / 120",
            {"periods": n, "electrolyser_efficiency": eta},
            total_mj,
            "MJ",
        ),
        step_item(
            f"{RFNBO_ID}.emissions",
            "Em[p] = (E_grid + E_aux) × 1000 × I_grid",
            {"periods": n},
            total_g,
            "gCO2e",
        ),
        step_item(
            f"{RFNBO_ID}.period_verdicts",
            "passes[p] = Em[p] / H2_MJ[p] ≤ (1 − 0.70) × 94, each period on its own",
            {"threshold_g_per_mj": THRESHOLD_G_PER_MJ, "failing_periods": failing},
            passes,
            "bool",
        ),
        step_item(
            f"{RFNBO_ID}.share",
            "share = Σ_p [passes[p]] × (E_ren + s_grid × E_grid)/(E_ren + E_grid) × H2_kg[p]"
            " / Σ_p H2_kg[p]",
            {"rfnbo_kg": rfnbo_kg, "hydrogen_kg": kg_total, "temporal_rule": rule},
            share,
            "1",
        ),
        step_item(
            f"{RFNBO_ID}.mean_intensity",
            "GHG = Σ_p Em[p] / Σ_p H2_MJ[p] over periods with hydrogen (information only)",
            {"emissions_g": attributed_g, "hydrogen_mj": total_mj},
            ghg,
            "gCO2e/MJ",
        ),
    ]
    return _seal_result(RFNBO_ID, inputs, factors, steps, outputs, norm)


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


# --------------------------------------------------------------------------- SMR / ATR

_SMR_KEYS = frozenset(
    {
        "methodology",
        "technology",
        "hydrogen_t",
        "natural_gas_gj_per_t",
        "natural_gas_tj_per_t",
        "capture_rate",
        "electricity_mwh_per_t",
        "electricity_ef_t_per_mwh",
        "methane_leakage_rate",
        "gwp100_ch4",
        "cn_code",
    }
)


def normalise_smr(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised ``hydrogen.smr`` case (natural gas in TJ/t)."""
    cf.mapping(case, "")
    cf.only_keys(case, _SMR_KEYS, "")
    technology = cf.text(case, "technology", "", "'smr' or 'atr'", default="smr")
    if technology not in TECHNOLOGIES:
        raise CaseError("technology", "'smr' or 'atr'", f"got {technology!r}")
    given = [k for k in ("natural_gas_gj_per_t", "natural_gas_tj_per_t") if k in case]
    if len(given) != 1:
        raise CaseError(
            "natural_gas_gj_per_t",
            "natural_gas_gj_per_t [GJ/t H2] or natural_gas_tj_per_t [TJ/t H2]",
            "missing" if not given else "both given",
        )
    unit = "GJ/t" if given[0].endswith("gj_per_t") else "TJ/t"
    gas = cf.number(case, given[0], "", unit, minimum=0.0)
    return {
        "capture_rate": _fraction(case, "capture_rate", 0.0),
        "cn_code": normalise_cn_code(case.get("cn_code", HYDROGEN_CN)),
        "electricity_ef_t_per_mwh": cf.number(
            case, "electricity_ef_t_per_mwh", "", "tCO2e/MWh", minimum=0.0, default=0.0
        ),
        "electricity_mwh_per_t": cf.number(
            case, "electricity_mwh_per_t", "", "MWh/t", minimum=0.0, default=0.0
        ),
        "gwp100_ch4": cf.number(case, "gwp100_ch4", "", "1", minimum=0.0, default=GWP100_CH4),
        "hydrogen_t": cf.number(case, "hydrogen_t", "", "t", minimum=0.0, default=1.0),
        "methane_leakage_rate": _fraction(case, "methane_leakage_rate", 0.0),
        "methodology": SMR_ID,
        "natural_gas_tj_per_t": gas / 1000.0 if unit == "GJ/t" else gas,
        "technology": technology,
    }


def run_smr(case: Mapping[str, Any]) -> dict[str, Any]:
    """``hydrogen.smr`` (see the module docstring): outputs, trace and trace_sha256."""
    norm = normalise_smr(case)
    gas = norm["natural_gas_tj_per_t"]
    gross = float(reforming_co2_t_per_t(gas))
    captured = gross * norm["capture_rate"]
    direct = gross - captured
    indirect = norm["electricity_mwh_per_t"] * norm["electricity_ef_t_per_mwh"]
    upstream = float(
        upstream_methane_t_per_t(gas, norm["methane_leakage_rate"], norm["gwp100_ch4"])
    )
    direct_only = is_direct_only(norm["cn_code"])
    total = direct if direct_only else direct + indirect
    lifecycle = direct + indirect + upstream
    outputs = {
        "captured_t_per_t": captured,
        "direct_emissions_t": direct * norm["hydrogen_t"],
        "direct_only": direct_only,
        "ghg_intensity_g_per_mj": lifecycle * 1000.0 / LHV_MJ_PER_KG,
        "gross_co2_t_per_t": gross,
        "lifecycle_kg_per_kg": lifecycle,
        "reason": (
            f"{norm['technology'].upper()}: {gas!r} TJ natural gas per t H2 × {NG_EF_T_PER_TJ} "
            f"tCO2/TJ × (1 − {norm['capture_rate']!r} captured) = {direct!r} tCO2/t; "
            + (
                f"CN {norm['cn_code']} is an Annex II good: total = direct, indirect "
                f"{indirect!r} tCO2e/t reported apart"
                if direct_only
                else "direct + indirect"
            )
            + f"; upstream methane {upstream!r} tCO2e/t outside the CBAM boundary."
        ),
        "see_direct_t_per_t": direct,
        "see_indirect_t_per_t": indirect,
        "see_total_t_per_t": total,
        "technology": norm["technology"],
        "tier": "modelled",
        "upstream_t_per_t": upstream,
    }
    inputs = [
        input_item("natural_gas_tj_per_t", gas, "TJ/t H2"),
        input_item("capture_rate", norm["capture_rate"], "1"),
        input_item("hydrogen_t", norm["hydrogen_t"], "t"),
        input_item("electricity_mwh_per_t", norm["electricity_mwh_per_t"], "MWh/t"),
        input_item("electricity_ef_t_per_mwh", norm["electricity_ef_t_per_mwh"], "tCO2e/MWh"),
        input_item("methane_leakage_rate", norm["methane_leakage_rate"], "t CH4/t gas"),
    ]
    factors = [
        factor_item("EF natural gas", NG_EF_T_PER_TJ, "tCO2/TJ", NG_EF_SOURCE, None, None),
    ]
    if norm["methane_leakage_rate"] > 0:
        factors += [
            factor_item("NCV natural gas", NG_NCV_TJ_PER_T, "TJ/t", NG_NCV_SOURCE, None, None),
            factor_item("GWP100 CH4", norm["gwp100_ch4"], "1", GWP100_SOURCE, None, None),
        ]
    steps = [
        step_item(
            f"{SMR_ID}.gross",
            "CO2_gross = NG × EF_NG",
            {"natural_gas_tj_per_t": gas, "ef_t_per_tj": NG_EF_T_PER_TJ},
            gross,
            "tCO2/t",
        ),
        step_item(
            f"{SMR_ID}.see_direct",
            "SEE_dir = CO2_gross × (1 − capture_rate)",
            {"gross_co2_t_per_t": gross, "capture_rate": norm["capture_rate"]},
            direct,
            "tCO2/t",
        ),
        step_item(
            f"{SMR_ID}.see_indirect",
            "SEE_indir = E_el × EF_el",
            {
                "electricity_mwh_per_t": norm["electricity_mwh_per_t"],
                "electricity_ef_t_per_mwh": norm["electricity_ef_t_per_mwh"],
            },
            indirect,
            "tCO2e/t",
        ),
        step_item(
            f"{SMR_ID}.upstream",
            "upstream = NG / NCV × leakage × GWP100",
            {"methane_leakage_rate": norm["methane_leakage_rate"], "gwp100": norm["gwp100_ch4"]},
            upstream,
            "tCO2e/t",
        ),
        step_item(
            f"{SMR_ID}.see_total",
            "SEE_total = SEE_dir (Annex II)" if direct_only else "SEE_total = SEE_dir + SEE_indir",
            {"see_direct_t_per_t": direct, "see_indirect_t_per_t": indirect},
            total,
            "tCO2e/t",
        ),
    ]
    return _seal_result(SMR_ID, inputs, factors, steps, outputs, norm)


# --------------------------------------------------------------------------- case specs

#: Plausible ranges of the ``hydrogen.rfnbo`` case keys (methodologies.plausibility).
RFNBO_SPEC = CaseSpec(
    {},
    ranges={
        "electrolyser_efficiency": Range(0.2, 1.0, "1 (MJ H2 LHV / MJ electricity)", PERCENT),
        "grid_intensity_g_per_kwh[*]": Range(
            0.0, 1500.0, "gCO2e/kWh", ((1e3, "tCO2e/MWh or kgCO2e/kWh"),)
        ),
        "grid_renewable_share": fraction(),
        "grid_renewable_share[*]": fraction(),
    },
)
#: Plausible ranges of the ``hydrogen.us45v`` case keys; 45V lifecycle rates can be
#: negative (e.g. captured fugitive methane feedstock).
US45V_SPEC = CaseSpec(
    {},
    ranges={
        "lifecycle_kg_per_kg": Range(-50.0, 40.0, "kgCO2e/kg H2", ((1e3, "tCO2e/kg"),)),
        "inflation_adjustment_factor": Range(0.5, 5.0, "1"),
    },
)
#: Plausible ranges of the ``hydrogen.smr`` case keys.
SMR_SPEC = CaseSpec(
    {},
    ranges={
        "hydrogen_t": GOOD_T,
        "natural_gas_gj_per_t": Range(80.0, 400.0, "GJ/t H2", ((1e3, "TJ/t"), (1e-3, "MJ/t"))),
        "natural_gas_tj_per_t": Range(0.08, 0.4, "TJ/t H2", ((1e-3, "GJ/t"), (1e-6, "MJ/t"))),
        "capture_rate": fraction(),
        "electricity_mwh_per_t": Range(0.0, 70.0, "MWh/t H2", ((1e-3, "kWh/t"),)),
        "electricity_ef_t_per_mwh": ELECTRICITY_EF,
        "methane_leakage_rate": fraction(0.0, 0.2),
        "gwp100_ch4": Range(1.0, 100.0, "tCO2e/t CH4"),
    },
)
