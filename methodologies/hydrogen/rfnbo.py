"""``hydrogen.rfnbo`` — GHG intensity and RFNBO share of electrolytic hydrogen
(docs/method-hydrogen.md).

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

All arithmetic is float64; the formula functions take numpy arrays and broadcast, so one
call evaluates installations × hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.errors import CaseError
from methodologies.hydrogen.common import _seal_result, _series
from methodologies.spec import PERCENT, CaseSpec, Range, fraction
from methodologies.trace import factor_item, input_item, step_item

RFNBO_ID = "hydrogen.rfnbo"
RFNBO_SUMMARY = (
    "GHG intensity (gCO2e/MJ) and RFNBO share of electrolytic hydrogen with monthly or "
    "hourly temporal correlation (DR 2023/1184, 2023/1185)"
)
#: Lower heating value of hydrogen [MJ/kg] (DR 2023/1185 Annex; docs/method-hydrogen.md).
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
