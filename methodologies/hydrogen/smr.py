"""``hydrogen.smr`` — hydrogen from steam methane or autothermal reforming, with or without
CO2 capture (docs/method-hydrogen.md).

Case and formulas::

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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.cbam_goods import is_direct_only, normalise_cn_code
from methodologies.errors import CaseError
from methodologies.hydrogen.common import _fraction, _seal_result
from methodologies.hydrogen.rfnbo import LHV_MJ_PER_KG
from methodologies.spec import ELECTRICITY_EF, GOOD_T, CaseSpec, Range, fraction
from methodologies.trace import factor_item, input_item, step_item

SMR_ID = "hydrogen.smr"
SMR_SUMMARY = (
    "Hydrogen from steam methane / autothermal reforming, with or without CO2 capture "
    "(IPCC 2006 natural gas factor; CBAM direct-only)"
)
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
