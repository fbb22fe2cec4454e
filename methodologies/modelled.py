"""``modelled.installation`` — the modelled rung (docs/design.md §2, tier ``modelled``): the
direct and indirect emissions of a whole steel or cement site for one year, and the SEE of
each good it makes, from public evidence only (docs/modelled.md).

Many plants are modelled at once: :func:`model_cases` takes a list of plant-year cases,
turns them into numpy columns and computes every plant in one vectorised pass, Monte Carlo
included (``draws`` columns per plant).  :func:`run` is the same computation for one case
(one plant, year and good) and seals its trace; :func:`seal_good` seals the trace of a
good from a batch result, and gives the same bytes as :func:`run` on that good's case.

Case (JSON; quantities in the units their names carry)::

    {"methodology": "modelled.installation", "installation": "P100000120938",
     "country": "DE", "year": 2020, "sector": "steel", "cn_code": "7208",
     "capacity_bof_t": 4.6e6, "capacity_eaf_t": 0, "capacity_dri_t": 0, "capacity_bf_t": 4.8e6,
     "reported_crude_t": 4.1e6,
     "electricity_ef_t_per_mwh": 0.35, "electricity_ef_source": "Ember 2024 DE",
     "seed": 123456789, "draws": 1000}

- ``sector``: ``steel`` or ``cement``; ``cn_code``: the good (:func:`goods_of` names the
  goods a plant makes); ``seed`` (integer) and ``draws`` (default 1000) fix the Monte Carlo.
- Steel capacities of the operating units [t/a]: ``capacity_bof_t``, ``capacity_eaf_t``
  (crude steel), ``capacity_dri_t`` (DRI), ``capacity_bf_t`` (pig iron).  Production the
  registry or a disclosure reports for the year [t], each optional: ``reported_bof_t``,
  ``reported_eaf_t``, ``reported_crude_t`` (split over BOF/EAF by capacity),
  ``reported_dri_t``, ``reported_bf_t``.
- Cement: ``capacity_clinker_t``, ``capacity_cement_t`` [t/a], ``plant_type``
  (``integrated``, ``clinker only``, ``grinding``), ``kiln`` (``dry``, ``semidry``,
  ``wet``, or empty: dry).
- ``activity_index`` and ``activity_index_sigma`` [1] (optional): the plant's satellite
  activity for the year relative to its usual level (``satellite.activity``); the
  utilisation is then the sector's × the index.
- ``electricity_ef_t_per_mwh`` [tCO2e/MWh]: the country's average grid factor, which CBAM
  applies to indirect emissions (IR 2025/2547 Annex III D.4, first indent); with its
  ``electricity_ef_source``.  ``electricity_zone_ef_t_per_mwh`` (optional): the grid zone's
  measured intensity, evidence beside the CBAM figure (``indirect_emissions_zone_t``).

Production (per route r): reported when given (log-sd :data:`SD_REPORTED`); else capacity ×
utilisation U × activity index when the satellite gives one (``satellite``); else capacity
× U (``capacity``), U log-normal with the sector's median and log-sd (:data:`PARAMETERS`).

Emissions (whole site: coke, sinter, iron, steel, reheating and rolling; or kiln and mill)::

    Em_dir  = (Σ_r P_r × EF_r × k_g) × exp(s_g z1)                         [tCO2]
    Em_ind  = (Σ_r P_r × e_r) × exp(s_el z2) × EF_el                       [tCO2e]
    steel:  r ∈ {BOF steel: EF_int(country), EAF steel: EF_eaf(country), DRI: 0.70,
                 pig iron without BOF: EF_int(country)}
    cement: clinker × (0.51 × 1.02 + q_kiln × 0.0946);  grinding plants: bought clinker

EF_int and EF_eaf are the Scope 1 intensities of JRC129297 Table A4 (the country's, the
EU's for EU members, else the median of the table), k_g and s_g the global factors
calibrated on EU ETS 2013–2016 (docs/modelled.md), z ~ N(0, 1) from ``seed``.  Reported
figures: ``direct_emissions_t`` (nominal, z = 0), ``direct_emissions_p05_t`` /
``_p95_t`` (Monte Carlo), ``indirect_emissions_t``; per good ``see_*_t_per_t`` with the
5–95 % interval of its total SEE (direct only for Annex II goods) in
``interval_low_t_per_t`` / ``interval_high_t_per_t``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.cbam_goods import is_direct_only, normalise_cn_code
from methodologies.errors import CaseError
from methodologies.route_common import FUEL_EF_DEFAULTS
from methodologies.spec import ELECTRICITY_EF, GOOD_T, CaseSpec, Range
from methodologies.trace import (
    canonical_bytes,
    engine_versions,
    factor_item,
    input_item,
    sha256_hex,
    step_item,
)

METHODOLOGY_ID = "modelled.installation"
VERSION = "2026.1"
SUMMARY = (
    "Modelled rung: whole-site emissions of a steel or cement plant and the SEE of its "
    "goods from capacity, reported or satellite-informed production and route intensities, "
    "with a seeded Monte Carlo interval"
)
TIER = "modelled"
DRAWS = 1000
SECTORS = ("steel", "cement")

_JRC = (
    "Koolen & Vidovic (2022), Greenhouse gas intensities of the EU steel industry and its "
    "trading partners, JRC129297, Table A4 (p. 31), Scope 1 [tCO2/t steel]"
)
#: JRC129297 Table A4, Scope 1 [tCO2/t crude steel]: (integrated route, EAF route).
#: Belarus and Switzerland have EAF values only.
JRC_A4_SCOPE1: dict[str, tuple[float | None, float]] = {
    "EU": (1.76, 0.04),
    "BY": (None, 0.07),
    "BR": (2.34, 0.05),
    "CN": (1.76, 0.03),
    "IN": (4.08, 0.07),
    "JP": (2.05, 0.04),
    "KR": (2.00, 0.03),
    "RU": (3.01, 0.07),
    "RS": (1.54, 0.06),
    "ZA": (3.79, 0.12),
    "CH": (None, 0.08),
    "TW": (2.06, 0.02),
    "TR": (2.01, 0.04),
    "UA": (2.41, 0.04),
    "GB": (1.86, 0.04),
    "US": (1.99, 0.04),
}
EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


def _median(values: list[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


#: Fallback for a country the table lacks: the median of the table's rows.
JRC_A4_MEDIAN = (
    _median([v[0] for v in JRC_A4_SCOPE1.values() if v[0] is not None]),
    _median([v[1] for v in JRC_A4_SCOPE1.values()]),
)

_IPCC_T41 = "2006 IPCC Guidelines Vol. 3 Ch. 4 Table 4.1: Direct Reduced Iron 0.70 tCO2/t DRI"
_IPCC_EQ24 = "2006 IPCC Guidelines Vol. 3 Ch. 2 Eq. 2.4: 0.51 tCO2/t clinker × CKD 1.02"
_CAL = (
    "global factor calibrated on EU ETS verified emissions 2013–2016 of the matched plants "
    "(benchmarks/modelled_vs_reported.py --calibrate; docs/modelled.md)"
)
_ASSUMED = "engineering assumption, docs/modelled.md (no source text verified)"


def _p(value: float, unit: str, source: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "source": source}


#: The model's global parameters: value, unit, citation.  The ``k_*``, ``s_*`` and
#: ``u_cement`` values were fitted by ``benchmarks/modelled_vs_reported.py --calibrate``
#: on 2013–2016 only; ``u_steel``/``su_steel`` come from the tracker's own production and
#: capacity (2019–2023).
PARAMETERS: dict[str, dict[str, Any]] = {
    "ef_dri_t_per_t": _p(0.70, "tCO2/t DRI", _IPCC_T41),
    "ef_clinker_process_t_per_t": _p(0.51 * 1.02, "tCO2/t clinker", _IPCC_EQ24),
    "kiln_fuel_ef_t_per_gj": _p(
        FUEL_EF_DEFAULTS["other_bituminous_coal_ef_t_per_tj"]["value"] / 1000.0,
        "tCO2/GJ",
        FUEL_EF_DEFAULTS["other_bituminous_coal_ef_t_per_tj"]["source"],
    ),
    "kiln_dry_gj_per_t": _p(3.5, "GJ/t clinker", _ASSUMED + ": dry kiln with preheater"),
    "kiln_semidry_gj_per_t": _p(4.0, "GJ/t clinker", _ASSUMED + ": semi-dry kiln"),
    "kiln_wet_gj_per_t": _p(5.9, "GJ/t clinker", _ASSUMED + ": wet kiln"),
    "clinker_ratio": _p(0.75, "t clinker/t cement", _ASSUMED + ": clinker share of cement"),
    "el_bof_mwh_per_t": _p(0.10, "MWh/t steel", _ASSUMED + ": net purchase of a BF-BOF site"),
    "el_eaf_mwh_per_t": _p(0.60, "MWh/t steel", _ASSUMED + ": EAF melting and rolling"),
    "el_dri_mwh_per_t": _p(0.10, "MWh/t DRI", _ASSUMED),
    "el_cement_mwh_per_t": _p(0.11, "MWh/t cement", _ASSUMED + ": grinding and kiln"),
    "sd_electricity": _p(0.25, "1 (log-sd)", _ASSUMED),
    "u_steel": _p(0.78, "1", "median production/capacity of GEM GIST plants, 2019–2023"),
    "su_steel": _p(0.25, "1 (log-sd)", "spread of production/capacity, GEM GIST 2019–2023"),
    "u_cement": _p(0.70, "1", _ASSUMED + ": kiln utilisation; k_cement absorbs its bias"),
    "su_cement": _p(0.20, "1 (log-sd)", _ASSUMED + ": spread of kiln utilisation"),
    "k_bf_bof": _p(0.688, "1", _CAL),
    "k_eaf": _p(2.650, "1", _CAL),
    "k_cement": _p(1.011, "1", _CAL),
    "s_bf_bof": _p(0.568, "1 (log-sd)", _CAL),
    "s_eaf": _p(0.505, "1 (log-sd)", _CAL),
    "s_cement": _p(0.424, "1 (log-sd)", _CAL),
}
#: Log-sd of a reported production figure.
SD_REPORTED = 0.03
#: Utilisation never exceeds this in a draw.
U_MAX = 1.0

NUMBERS: dict[str, str] = {
    "capacity_bof_t": "t/a",
    "capacity_eaf_t": "t/a",
    "capacity_dri_t": "t/a",
    "capacity_bf_t": "t/a",
    "capacity_clinker_t": "t/a",
    "capacity_cement_t": "t/a",
    "reported_bof_t": "t",
    "reported_eaf_t": "t",
    "reported_crude_t": "t",
    "reported_dri_t": "t",
    "reported_bf_t": "t",
    "activity_index": "1",
    "activity_index_sigma": "1",
    "electricity_ef_t_per_mwh": "tCO2e/MWh",
    "electricity_zone_ef_t_per_mwh": "tCO2e/MWh",
}
TEXTS = ("installation", "country", "sector", "plant_type", "kiln", "electricity_ef_source")
KEYS = frozenset({"methodology", "year", "seed", "draws", "cn_code", *NUMBERS, *TEXTS})

CN_PIG_IRON, CN_DRI, CN_SEMIS, CN_HOT_ROLLED = "7201", "7203", "7207", "7208"
CN_CLINKER, CN_CEMENT = "25231000", "25232900"


def _value(name: str) -> float:
    return float(PARAMETERS[name]["value"])


def plant_seed(installation: str, year: int) -> int:
    """The Monte Carlo seed of a plant-year: the first 8 hex digits of
    SHA-256("<installation>|<year>") (stable across runs and machines)."""
    return int(hashlib.sha256(f"{installation}|{year}".encode()).hexdigest()[:8], 16)


def route_intensities(country: str) -> tuple[float, float, str]:
    """(integrated, EAF) Scope 1 intensity [tCO2/t steel] of JRC129297 Table A4 for a
    country, and which row was used."""
    key = "EU" if country in EU_MEMBERS else country
    row = JRC_A4_SCOPE1.get(key)
    if row is None:
        return JRC_A4_MEDIAN[0], JRC_A4_MEDIAN[1], "median of Table A4"
    integrated = row[0] if row[0] is not None else JRC_A4_MEDIAN[0]
    return integrated, row[1], f"Table A4 row {key}"


def goods_of(case: Mapping[str, Any]) -> list[str]:
    """The CN codes a plant makes, as far as its registry record tells."""
    g = lambda k: float(case.get(k) or 0.0)  # noqa: E731
    if case["sector"] == "steel":
        if g("capacity_bof_t") + g("capacity_eaf_t") > 0 or g("reported_crude_t") > 0:
            return [CN_SEMIS, CN_HOT_ROLLED]
        if g("capacity_bf_t") > 0:
            return [CN_PIG_IRON]
        if g("capacity_dri_t") > 0:
            return [CN_DRI]
        return []
    kind = case.get("plant_type") or "integrated"
    goods = []
    if kind != "grinding" and (g("capacity_clinker_t") > 0 or g("capacity_cement_t") > 0):
        goods.append(CN_CLINKER)
    if kind != "clinker only" and g("capacity_cement_t") > 0:
        goods.append(CN_CEMENT)
    return goods


# --------------------------------------------------------------------------- registry

#: Registry statuses modelled as operating.
OPERATING = ("operating", "operating pre-retirement")
#: GEM tracker capacity and production types → case keys (ingest/facilities/gem.py).
STEEL_CAPACITY_KEYS = {
    "bof_steel": "capacity_bof_t",
    "eaf_steel": "capacity_eaf_t",
    "dri_iron": "capacity_dri_t",
    "bf_iron": "capacity_bf_t",
}
STEEL_PRODUCTION_KEYS = {
    "bof_steel": "reported_bof_t",
    "eaf_steel": "reported_eaf_t",
    "crude_steel": "reported_crude_t",
    "dri_iron": "reported_dri_t",
    "bf_iron": "reported_bf_t",
}
CEMENT_CAPACITY_KEYS = {"clinker": "capacity_clinker_t", "cement": "capacity_cement_t"}
KILNS = ("dry", "semidry", "wet")


def registry_case(
    *,
    identifier: str,
    country: str,
    source: str,
    start_year: int | None,
    capacities: Sequence[Mapping[str, Any]],
    production: Sequence[Mapping[str, Any]],
    plant_type: str,
    production_type: str,
    year: int,
    electricity_ef_t_per_mwh: float,
    electricity_ef_source: str,
    activity: tuple[float, float] | None = None,
    routes: Sequence[str] = (),
) -> dict[str, Any] | None:
    """The case of one registry plant (GEM tracker fields as the registry stores them:
    capacities per unit and status [t/a], production per type and year [t]) for one
    year, or None when the plant had not started or makes no good the model covers.
    Only the capacity of operating units counts; a plant that gives only its crude steel
    capacity has it on its route (BOF for ``bf_bof``, else EAF)."""
    if source not in ("gem_steel", "gem_cement") or (start_year and start_year > year):
        return None
    steel = source == "gem_steel"
    keys = STEEL_CAPACITY_KEYS if steel else CEMENT_CAPACITY_KEYS
    caps: dict[str, float] = {}
    for row in capacities or []:
        key = keys.get(row.get("unit"))
        if row.get("unit") == "crude_steel" and steel and routes:
            key = "capacity_bof_t" if "bf_bof" in routes else "capacity_eaf_t"
            key = f"crude:{key}"
        if key and (row.get("status") or "") in (*OPERATING, ""):
            caps[key] = caps.get(key, 0.0) + float(row.get("capacity_t") or 0.0)
    crude = {k: caps.pop(k) for k in list(caps) if k.startswith("crude:")}
    if steel and not (caps.get("capacity_bof_t") or caps.get("capacity_eaf_t")):
        for key, value in crude.items():
            caps[key.removeprefix("crude:")] = value
    if not caps:
        return None
    case: dict[str, Any] = {
        "methodology": METHODOLOGY_ID,
        "installation": identifier,
        "country": country,
        "year": year,
        "sector": "steel" if steel else "cement",
        "seed": plant_seed(identifier, year),
        "draws": DRAWS,
        "electricity_ef_t_per_mwh": float(electricity_ef_t_per_mwh),
        "electricity_ef_source": electricity_ef_source,
        **dict(sorted(caps.items())),
    }
    if steel:
        for row in production or []:
            key = STEEL_PRODUCTION_KEYS.get(row.get("type"))
            if key and row.get("year") == year and row.get("production_t") is not None:
                case[key] = float(row["production_t"])
    else:
        case["plant_type"] = plant_type or "integrated"
        case["kiln"] = production_type if production_type in KILNS else "dry"
    if activity is not None:
        case["activity_index"], case["activity_index_sigma"] = map(float, activity)
    return case if goods_of(case) else None


# --------------------------------------------------------------------------- reading


def read_case(case: Mapping[str, Any], *, need_good: bool) -> dict[str, Any]:
    """Check one case and return it normalised (only the keys given; numbers as float)."""
    cf.mapping(case, "")
    cf.only_keys(case, KEYS, "")
    out: dict[str, Any] = {"methodology": METHODOLOGY_ID}
    for key in ("installation", "country", "sector"):
        out[key] = cf.text(case, key, "", "text")
    if out["sector"] not in SECTORS:
        raise CaseError("sector", "one of " + ", ".join(SECTORS), f"got {out['sector']!r}")
    out["year"] = cf.integer(case, "year", "", "a calendar year (integer)")
    out["seed"] = cf.integer(case, "seed", "", "an integer seed ≥ 0")
    if out["seed"] < 0:
        raise CaseError("seed", "an integer seed ≥ 0", f"got {out['seed']!r}")
    out["draws"] = int(case.get("draws", DRAWS))
    if not 10 <= out["draws"] <= 100_000:
        raise CaseError("draws", "an integer between 10 and 100000", f"got {case['draws']!r}")
    for key in ("plant_type", "kiln", "electricity_ef_source"):
        if key in case:
            out[key] = cf.text(case, key, "", "text")
    for key, unit in NUMBERS.items():
        value = cf.optional_number(case, key, "", unit, minimum=0.0)
        if value is not None:
            out[key] = value
    if "electricity_ef_t_per_mwh" not in out:
        raise CaseError(
            "electricity_ef_t_per_mwh",
            "a number in tCO2e/MWh",
            "missing (the country's grid factor, IR 2025/2547 Annex III D.4)",
        )
    if need_good or "cn_code" in case:
        out["cn_code"] = normalise_cn_code(case.get("cn_code"), "cn_code")
        if need_good and out["cn_code"] not in goods_of(out):
            raise CaseError(
                "cn_code",
                "one of the plant's goods: " + ", ".join(goods_of(out)),
                f"got {out['cn_code']}",
            )
    return out


def _column(cases: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([float(c.get(key, 0.0)) for c in cases], dtype=float)


def _given(cases: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([key in c for c in cases], dtype=bool)


# --------------------------------------------------------------------------- formulas


def lognormal_factor(z: np.ndarray, log_sd: Any) -> np.ndarray:
    """exp(σ z) [1]: a median-one log-normal factor from standard normal draws z."""
    return np.exp(np.asarray(log_sd)[..., None] * z)


def standard_normals(seeds: Sequence[int], draws: Sequence[int], width: int) -> np.ndarray:
    """z [n, 3, width]: three rows of N(0, 1) per plant from its own seeded generator
    (numpy PCG64), so a plant's draws do not depend on the batch it is in; a plant with
    fewer draws than ``width`` repeats its last columns only in unused cells (masked)."""
    out = np.empty((len(seeds), 3, width))
    for i, (seed, n) in enumerate(zip(seeds, draws, strict=True)):
        z = np.random.default_rng(seed).standard_normal((3, n))
        out[i, :, :n] = z
        out[i, :, n:] = z[:, -1:]
    return out


def _percentiles(x: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5th and 95th percentile of each row over its own number of draws."""
    lo, hi = np.empty(len(x)), np.empty(len(x))
    for n in np.unique(draws):
        rows = draws == n
        q = np.percentile(x[rows, :n], [5.0, 95.0], axis=1)
        lo[rows], hi[rows] = q[0], q[1]
    return lo, hi


#: Plants computed per numpy block (a block's draw matrices stay in the CPU cache).
BLOCK = 256


def model_cases(cases: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Model every plant-year case; one result dict per case, in order.

    The cases are read with :func:`read_case` (no good needed); the arithmetic runs on
    numpy columns of :data:`BLOCK` plants at a time (each plant's draws come from its own
    seed, so the blocking changes no number)."""
    cases = [read_case(c, need_good=False) for c in cases]
    out: list[dict[str, Any]] = []
    for start in range(0, len(cases), BLOCK):
        out.extend(_model_block(cases[start : start + BLOCK]))
    return out


def _model_block(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    n = len(cases)
    if n == 0:
        return []
    width = max(c["draws"] for c in cases)
    draws = np.array([c["draws"] for c in cases])
    z = standard_normals([c["seed"] for c in cases], list(draws), width)
    steel = np.array([c["sector"] == "steel" for c in cases])
    col = lambda k: _column(cases, k)  # noqa: E731
    given = lambda k: _given(cases, k)  # noqa: E731

    # --- utilisation: satellite-informed where an activity index is given
    u0 = np.where(steel, _value("u_steel"), _value("u_cement"))
    su = np.where(steel, _value("su_steel"), _value("su_cement"))
    sat = given("activity_index")
    idx = np.where(sat, col("activity_index"), 1.0)
    idx_sd = np.where(sat & (idx > 0), col("activity_index_sigma") / np.where(idx > 0, idx, 1), 0)
    u_nom = np.minimum(u0 * idx, U_MAX)
    su_eff = np.where(sat, np.minimum(su, idx_sd), su)
    u_draw = np.minimum(u_nom[:, None] * lognormal_factor(z[:, 0], su_eff), U_MAX)
    rep_draw = lognormal_factor(z[:, 0], np.full(n, SD_REPORTED))

    # --- steel production per route [t]
    cap_bof, cap_eaf = col("capacity_bof_t"), col("capacity_eaf_t")
    cap_dri, cap_bf = col("capacity_dri_t"), col("capacity_bf_t")
    cap_steel = cap_bof + cap_eaf
    share_bof = np.divide(cap_bof, cap_steel, out=np.zeros(n), where=cap_steel > 0)
    crude = col("reported_crude_t")
    has_crude = given("reported_crude_t")

    def route(cap, rep_key, share):
        rep, has = col(rep_key), given(rep_key)
        if share is not None:  # a reported crude total split by capacity
            rep = np.where(has, rep, crude * share)
            has = has | has_crude
        nominal = np.where(has, rep, cap * u_nom)
        drawn = np.where(has[:, None], rep[:, None] * rep_draw, cap[:, None] * u_draw)
        return nominal, drawn, has

    bof, bof_d, bof_rep = route(cap_bof, "reported_bof_t", share_bof)
    eaf, eaf_d, eaf_rep = route(cap_eaf, "reported_eaf_t", 1.0 - share_bof)
    dri, dri_d, dri_rep = route(cap_dri, "reported_dri_t", None)
    iron_only = steel & (cap_steel <= 0) & ~has_crude
    pig, pig_d, pig_rep = route(np.where(iron_only, cap_bf, 0.0), "reported_bf_t", None)
    pig, pig_d = np.where(iron_only, pig, 0.0), np.where(iron_only[:, None], pig_d, 0.0)

    ef_int = np.empty(n)
    ef_eaf = np.empty(n)
    for i, c in enumerate(cases):
        ef_int[i], ef_eaf[i], _ = route_intensities(c["country"])
    k_bof, k_eaf = _value("k_bf_bof"), _value("k_eaf")
    ef_dri = _value("ef_dri_t_per_t")
    # DRI charged to an EAF counts with the EAF group (one calibration factor per group).
    steel_dir = (bof + pig) * ef_int * k_bof + (eaf * ef_eaf + dri * ef_dri) * k_eaf
    steel_dir_d = (bof_d + pig_d) * (ef_int * k_bof)[:, None] + (
        eaf_d * ef_eaf[:, None] + dri_d * ef_dri
    ) * k_eaf
    s_steel = np.where(
        cap_bof + np.where(iron_only, cap_bf, 0) > 0, _value("s_bf_bof"), _value("s_eaf")
    )
    steel_el = (
        bof * _value("el_bof_mwh_per_t")
        + eaf * _value("el_eaf_mwh_per_t")
        + dri * _value("el_dri_mwh_per_t")
    )
    steel_el_d = (
        bof_d * _value("el_bof_mwh_per_t")
        + eaf_d * _value("el_eaf_mwh_per_t")
        + dri_d * _value("el_dri_mwh_per_t")
    )

    # --- cement: clinker and cement production [t]
    kind = np.array([c.get("plant_type") or "integrated" for c in cases])
    grinding = kind == "grinding"
    cap_cl, cap_cem = col("capacity_clinker_t"), col("capacity_cement_t")
    ratio = _value("clinker_ratio")
    cap_cl_eff = np.where(grinding, 0.0, np.where(cap_cl > 0, cap_cl, cap_cem * ratio))
    clinker, clinker_d = cap_cl_eff * u_nom, cap_cl_eff[:, None] * u_draw
    cement, cement_d = cap_cem * u_nom, cap_cem[:, None] * u_draw
    q = np.array(
        [
            _value(f"kiln_{c.get('kiln') or 'dry'}_gj_per_t")
            if (c.get("kiln") or "dry") in ("dry", "semidry", "wet")
            else _value("kiln_dry_gj_per_t")
            for c in cases
        ]
    )
    ef_cl = (_value("ef_clinker_process_t_per_t") + q * _value("kiln_fuel_ef_t_per_gj")) * _value(
        "k_cement"
    )
    cem_dir, cem_dir_d = clinker * ef_cl, clinker_d * ef_cl[:, None]
    cem_el = cement * _value("el_cement_mwh_per_t") + np.where(
        cap_cem > 0, 0.0, clinker * _value("el_cement_mwh_per_t")
    )
    cem_el_d = cement_d * _value("el_cement_mwh_per_t") + np.where(
        (cap_cem > 0)[:, None], 0.0, clinker_d * _value("el_cement_mwh_per_t")
    )

    # --- emissions and their draws
    s_route = np.where(steel, s_steel, _value("s_cement"))
    f_route = lognormal_factor(z[:, 1], s_route)
    f_el = lognormal_factor(z[:, 2], np.full(n, _value("sd_electricity")))
    grid = col("electricity_ef_t_per_mwh")
    direct = np.where(steel, steel_dir, cem_dir)
    direct_d = np.where(steel[:, None], steel_dir_d, cem_dir_d) * f_route
    el = np.where(steel, steel_el, cem_el)
    el_d = np.where(steel[:, None], steel_el_d, cem_el_d) * f_el
    indirect = el * grid
    indirect_d = el_d * grid[:, None]
    d_lo, d_hi = _percentiles(direct_d, draws)
    i_lo, i_hi = _percentiles(indirect_d, draws)
    zone = col("electricity_zone_ef_t_per_mwh")
    has_zone = given("electricity_zone_ef_t_per_mwh")

    # --- production of the goods [t] and their SEE draws
    crude_nom = np.where(steel, bof + eaf, 0.0)
    crude_d = bof_d + eaf_d
    reported = np.where(
        steel, np.where(iron_only, pig_rep, bof_rep | eaf_rep | (dri_rep & (cap_steel <= 0))), False
    )
    source = np.where(reported, "reported", np.where(sat, "satellite", "capacity"))
    clinker_see_dir = ef_cl  # per t clinker [tCO2/t]

    # --- SEE of each kind of good, for every plant at once [tCO2e/t]
    see: dict[str, dict[str, np.ndarray]] = {}
    for cn, p, p_d in (
        (CN_SEMIS, crude_nom, crude_d),
        (CN_PIG_IRON, pig, pig_d),
        (CN_DRI, dri, dri_d),
        (CN_CLINKER, clinker, clinker_d),
        (CN_CEMENT, cement, cement_d),
    ):
        safe, safe_d = np.where(p > 0, p, 1.0), np.where(p_d > 0, p_d, 1.0)
        see_dir, see_dir_d = direct / safe, direct_d / safe_d
        if cn == CN_CEMENT:  # a grinding plant's cement: bought clinker (docs/modelled.md)
            see_dir = np.where(grinding, ratio * clinker_see_dir, see_dir)
            see_dir_d = np.where(
                grinding[:, None], (ratio * clinker_see_dir)[:, None] * f_route, see_dir_d
            )
        see_ind, see_ind_d = indirect / safe, indirect_d / safe_d
        direct_only = is_direct_only(cn)
        total = see_dir if direct_only else see_dir + see_ind
        lo, hi = _percentiles(see_dir_d if direct_only else see_dir_d + see_ind_d, draws)
        see[cn] = {
            "production_t": p,
            "see_direct_t_per_t": see_dir,
            "see_indirect_t_per_t": see_ind,
            "see_total_t_per_t": total,
            "interval_low_t_per_t": lo,
            "interval_high_t_per_t": hi,
            "direct_only": np.full(n, direct_only),
        }
    see[CN_HOT_ROLLED] = see[CN_SEMIS]

    results = []
    for i, c in enumerate(cases):
        goods: dict[str, dict[str, Any]] = {}
        for cn in goods_of(c):
            cols = see[cn]
            if cols["production_t"][i] <= 0:
                goods[cn] = {"production_t": 0.0}
                continue
            goods[cn] = {k: v[i].item() for k, v in cols.items()}
        production_t = (
            crude_nom[i]
            if steel[i] and crude_nom[i] > 0
            else pig[i] + dri[i]
            if steel[i]
            else cement[i]
            if cement[i] > 0
            else clinker[i]
        )
        results.append(
            {
                "case": c,
                "production_t": float(production_t),
                "production_source": str(source[i]),
                "utilisation": float(u_nom[i]),
                "production": {
                    "bof_steel_t": float(bof[i]),
                    "eaf_steel_t": float(eaf[i]),
                    "dri_t": float(dri[i]),
                    "pig_iron_t": float(pig[i]),
                    "clinker_t": float(clinker[i]),
                    "cement_t": float(cement[i]),
                },
                "electricity_mwh": float(el[i]),
                "direct_emissions_t": float(direct[i]),
                "direct_emissions_p05_t": float(d_lo[i]),
                "direct_emissions_p95_t": float(d_hi[i]),
                "indirect_emissions_t": float(indirect[i]),
                "indirect_emissions_p05_t": float(i_lo[i]),
                "indirect_emissions_p95_t": float(i_hi[i]),
                "indirect_emissions_zone_t": float(el[i] * zone[i]) if has_zone[i] else None,
                "route_log_sd": float(s_route[i]),
                "goods": goods,
            }
        )
    return results


# --------------------------------------------------------------------------- trace


#: The parameters each sector uses (the trace lists only these).
SECTOR_PARAMETERS = {
    "steel": (
        "ef_dri",
        "el_bof",
        "el_eaf",
        "el_dri",
        "u_steel",
        "su_steel",
        "k_bf",
        "k_eaf",
        "s_bf",
        "s_eaf",
        "sd_el",
    ),
    "cement": (
        "ef_clinker",
        "kiln",
        "clinker_ratio",
        "el_cement",
        "u_cement",
        "su_cement",
        "k_cement",
        "s_cement",
        "sd_el",
    ),
}


def _factors(case: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = [
        factor_item(name, spec["value"], spec["unit"], spec["source"], None, None)
        for name, spec in PARAMETERS.items()
        if name.startswith(SECTOR_PARAMETERS[case["sector"]])
    ]
    if case["sector"] == "steel":
        ef_int, ef_eaf, row = route_intensities(case["country"])
        items.append(
            factor_item(
                "ef_integrated_t_per_t", ef_int, "tCO2/t steel", f"{_JRC}, {row}", None, None
            )
        )
        items.append(
            factor_item("ef_eaf_t_per_t", ef_eaf, "tCO2/t steel", f"{_JRC}, {row}", None, None)
        )
    items.append(
        factor_item(
            "electricity_ef_t_per_mwh",
            case["electricity_ef_t_per_mwh"],
            "tCO2e/MWh",
            case.get("electricity_ef_source", "given"),
            f"{case['year']}-01-01",
            f"{case['year']}-12-31",
        )
    )
    return items


def seal_good(plant: Mapping[str, Any], cn_code: str) -> dict[str, Any]:
    """The sealed result of one good of a batch result (:func:`model_cases`): outputs plus
    ``trace`` and ``trace_sha256``, the same bytes as :func:`run` on the good's case."""
    base = plant["case"]
    case = {**base, "cn_code": cn_code}
    good = plant["goods"][cn_code]
    if good.get("production_t", 0.0) <= 0:
        raise CaseError("cn_code", "a good the plant produces in the year", f"no {cn_code} output")
    inputs = [
        input_item(k, case[k], NUMBERS.get(k, "text"))
        for k in sorted(case)
        if k not in ("methodology", "seed", "draws")
    ]
    steps = [
        step_item(
            f"{METHODOLOGY_ID}.production",
            "P_r = reported, else capacity × U × activity index",
            {"source": plant["production_source"], "utilisation": plant["utilisation"]},
            plant["production"],
            "t",
        ),
        step_item(
            f"{METHODOLOGY_ID}.direct",
            "Em_dir = Σ_r P_r × EF_r × k_g",
            {k: plant["production"][k] for k in sorted(plant["production"])},
            plant["direct_emissions_t"],
            "tCO2",
        ),
        step_item(
            f"{METHODOLOGY_ID}.indirect",
            "Em_ind = Σ_r P_r × e_r × EF_el (IR 2025/2547 Annex III D.4)",
            {
                "electricity_mwh": plant["electricity_mwh"],
                "electricity_ef_t_per_mwh": case["electricity_ef_t_per_mwh"],
            },
            plant["indirect_emissions_t"],
            "tCO2e",
        ),
        step_item(
            f"{METHODOLOGY_ID}.monte_carlo",
            "z ~ N(0,1) from PCG64(seed); Em draws × exp(s z); 5th and 95th percentiles",
            {"seed": case["seed"], "draws": case["draws"], "route_log_sd": plant["route_log_sd"]},
            [plant["direct_emissions_p05_t"], plant["direct_emissions_p95_t"]],
            "tCO2",
        ),
        step_item(
            f"{METHODOLOGY_ID}.see",
            "SEE = Em / P_good; total = direct for Annex II goods, else direct + indirect",
            {"production_t": good["production_t"]},
            [good["see_direct_t_per_t"], good["see_indirect_t_per_t"], good["see_total_t_per_t"]],
            "tCO2e/t",
        ),
    ]
    outputs = {
        **{k: v for k, v in good.items()},
        "cn_code": cn_code,
        "tier": TIER,
        "installation": case["installation"],
        "year": case["year"],
        "production_source": plant["production_source"],
        "direct_emissions_t": plant["direct_emissions_t"],
        "direct_emissions_p05_t": plant["direct_emissions_p05_t"],
        "direct_emissions_p95_t": plant["direct_emissions_p95_t"],
        "indirect_emissions_t": plant["indirect_emissions_t"],
        "indirect_emissions_zone_t": plant["indirect_emissions_zone_t"],
        "interval": {"p05": good["interval_low_t_per_t"], "p95": good["interval_high_t_per_t"]},
        "reason": (
            f"modelled {case['sector']} site {case['installation']} in {case['year']}: production "
            f"{plant['production_source']}; route intensities and Monte Carlo: docs/modelled.md"
        ),
    }
    factors, factor_bytes = _factors_sealed(
        case["sector"],
        case["country"],
        case["electricity_ef_t_per_mwh"],
        case.get("electricity_ef_source", "given"),
        case["year"],
    )
    trace = {
        "case": case,
        "factors": factors,
        "inputs": inputs,
        "methodology": {"id": METHODOLOGY_ID, "version": VERSION},
        "result": outputs,
        "steps": steps,
        "versions": engine_versions(),
    }
    # RFC 8785 of an object is its members in key order, each value canonical on its own:
    # the factors (shared by many plants) are serialised once (docs/modelled.md, speed).
    data = (
        b"{"
        + b",".join(
            canonical_bytes(key)
            + b":"
            + (factor_bytes if key == "factors" else canonical_bytes(value))
            for key, value in trace.items()
        )
        + b"}"
    )
    return {**outputs, "trace": trace, "trace_sha256": sha256_hex(data)}


def jcs(obj: Any) -> str:
    """RFC 8785 canonical JSON of plain JSON data, as text: the text of
    :func:`methodologies.trace.canonical_bytes` (which the sealing above calls directly)."""
    return canonical_bytes(obj).decode()


@functools.lru_cache(maxsize=4096)
def _factors_sealed(
    sector: str, country: str, ef: float, source: str, year: int
) -> tuple[list[dict[str, Any]], bytes]:
    factors = _factors(
        {
            "sector": sector,
            "country": country,
            "electricity_ef_t_per_mwh": ef,
            "electricity_ef_source": source,
            "year": year,
        }
    )
    return factors, canonical_bytes(factors)


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: one plant, year and good; outputs plus trace."""
    norm = read_case(case, need_good=True)
    cn = norm.pop("cn_code")
    (plant,) = model_cases([norm])
    return seal_good(plant, cn)


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        **{k: GOOD_T for k, unit in NUMBERS.items() if unit in ("t", "t/a")},
        "electricity_ef_t_per_mwh": ELECTRICITY_EF,
        "electricity_zone_ef_t_per_mwh": ELECTRICITY_EF,
        "activity_index": Range(0.0, 5.0, "1"),
    },
)

__all__ = ["METHODOLOGY_ID", "model_cases", "plant_seed", "run", "seal_good"]
