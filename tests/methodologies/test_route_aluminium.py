"""route.aluminium: anode CO2, PFC (slope method or IPCC Tier 1), fuels, electricity.

Expected numbers are worked by hand in the comments.  Sources: IPCC 2006 Vol. 3 Ch. 4
Table 4.10 (prebake 1.6, Søderberg 1.7 tCO2/t Al) and Table 4.15 (Tier 1 PFC, kg/t Al);
IR 2025/2547 Annex II B.7.1 Table 2 (CWPB SEF_CF4 0.143, F_C2F6 0.121) and point G Table 6
(GWP CF4 6 630, C2F6 11 100); IPCC 2006 Vol. 2 Table 1.4 (natural gas 56.1 tCO2/TJ).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.errors import CaseError
from methodologies.route_aluminium import anode_emissions, pfc_co2e, slope_cf4

PRIMARY = {
    "methodology": "route.aluminium",
    "route": "primary",
    "cn_code": "7601 10 00",
    "production_t": 1000,
    "cell_technology": "cwpb",
    "anode_effect_minutes_per_cell_day": 0.25,
    "electricity_mwh": 14000,
    "electricity_ef_t_per_mwh": 0.8,
}
SECONDARY = {
    "methodology": "route.aluminium",
    "route": "secondary",
    "cn_code": "7601 20",
    "production_t": 1000,
    "natural_gas_tj": 3,
    "electricity_mwh": 700,
    "electricity_ef_t_per_mwh": 0.8,
}


def test_primary_cwpb_with_the_slope_method_by_hand():
    # anode  = 1000 t × 1.6 (Table 4.10, prebake)                      = 1600 t
    # CF4    = 0.25 × 0.143 / 1000 × 1000                              = 0.03575 t
    # C2F6   = 0.03575 × 0.121                                         = 0.00432575 t
    # PFC    = 0.03575 × 6630 + 0.00432575 × 11100 = 237.0225 + 48.015825 = 285.038325 t
    # SEE_dir = 1885.038325 / 1000; SEE_indir = 14000 × 0.8 / 1000 = 11.2 (reported only)
    r = run_case(PRIMARY)
    assert_allclose(r["cf4_t"], 0.03575, rtol=1e-12)
    assert_allclose(r["c2f6_t"], 0.00432575, rtol=1e-12)
    assert_allclose(r["pfc_emissions_t"], 285.038325, rtol=1e-12)
    assert_allclose(r["see_direct_t_per_t"], 1.885038325, rtol=1e-12)
    assert_allclose(r["see_indirect_t_per_t"], 11.2, rtol=1e-15)
    assert r["see_total_t_per_t"] == r["see_direct_t_per_t"]
    assert r["direct_only"] is True
    factors = {f["name"]: f for f in r["trace"]["factors"]}
    assert factors["gwp_cf4"]["valid_from"] == "2026-01-01"
    assert "B.7.1" in factors["sef_cf4_cwpb"]["source"]


def test_primary_with_anode_data_and_tier1_pfc():
    # anode = 1000 × 0.42 t/t × 0.97 tC/t × 3.664 = 1492.7136 t
    # PFC Tier 1 (Table 4.15, VSS): CF4 0.8 kg/t → 0.8 t; C2F6 0.04 kg/t → 0.04 t
    #     0.8 × 6630 + 0.04 × 11100 = 5304 + 444 = 5748 t
    # SEE_dir = 7240.7136 / 1000
    case = {
        **PRIMARY,
        "cell_technology": "vss",
        "net_anode_consumption_t_per_t": 0.42,
        "anode_carbon_t_per_t": 0.97,
    }
    case.pop("anode_effect_minutes_per_cell_day")
    r = run_case(case)
    assert_allclose(r["anode_emissions_t"], 1492.7136, rtol=1e-12)
    assert_allclose(r["pfc_emissions_t"], 5748.0, rtol=1e-12)
    assert_allclose(r["see_direct_t_per_t"], 7.2407136, rtol=1e-12)


def test_secondary_remelting_by_hand():
    # 3 TJ × 56.1 = 168.3 t → SEE_dir 0.1683; SEE_indir 700 × 0.8 / 1000 = 0.56 (reported)
    r = run_case(SECONDARY)
    assert_allclose(r["see_direct_t_per_t"], 0.1683, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 0.56, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 0.1683, rtol=1e-15)


def test_the_formula_functions_take_arrays_like_scalars():
    prod, aem = np.array([1000.0, 5e5, 3.0]), np.array([0.25, 0.05, 1.0])
    cf4 = slope_cf4(prod, aem, 0.143)
    assert_allclose(cf4, [slope_cf4(p, a, 0.143) for p, a in zip(prod, aem, strict=True)])
    em = pfc_co2e(cf4, cf4 * 0.121, 6630.0, 11100.0)
    assert_allclose(em, [pfc_co2e(c, c * 0.121, 6630.0, 11100.0) for c in cf4])
    assert_allclose(
        anode_emissions(prod, 0.42, 0.97), [anode_emissions(p, 0.42, 0.97) for p in prod]
    )


@settings(max_examples=50, deadline=None)
@given(
    production=st.floats(1, 1e7),
    gas_tj_per_t=st.floats(0, 0.01),
    mwh_per_t=st.floats(0, 16),
    ef=st.floats(0, 1.5),
)
def test_primary_is_above_secondary_under_default_parameters(
    production, gas_tj_per_t, mwh_per_t, ef
):
    same = {
        "production_t": production,
        "natural_gas_tj": production * gas_tj_per_t,
        "electricity_mwh": production * mwh_per_t,
        "electricity_ef_t_per_mwh": ef,
    }
    primary = {**PRIMARY, **same}
    primary.pop("anode_effect_minutes_per_cell_day")
    assert (
        run_case(primary)["see_total_t_per_t"]
        > run_case({**SECONDARY, **same})["see_total_t_per_t"]
    )


@settings(max_examples=50, deadline=None)
@given(aem=st.floats(0, 5), more=st.floats(1e-3, 5))
def test_more_anode_effect_minutes_give_more_direct_emissions(aem, more):
    lo = run_case({**PRIMARY, "anode_effect_minutes_per_cell_day": aem})
    hi = run_case({**PRIMARY, "anode_effect_minutes_per_cell_day": aem + more})
    assert hi["see_direct_t_per_t"] > lo["see_direct_t_per_t"]


@pytest.mark.parametrize(
    ("case", "key", "unit"),
    [
        ({**PRIMARY, "net_anode_consumption_t_per_t": 0.4}, "anode_carbon_t_per_t", "tC/t anode"),
        ({**PRIMARY, "cell_technology": None}, "cell_technology", "cwpb"),
        ({**SECONDARY, "cell_technology": "cwpb"}, "cell_technology", "absent"),
        (
            {**PRIMARY, "cell_technology": "pfpb_m", "anode_effect_minutes_per_cell_day": None},
            "anode_effect_minutes_per_cell_day",
            "AE-min/cell-day",
        ),
        ({**PRIMARY, "pfc_collection_efficiency": 1.2}, "pfc_collection_efficiency", "0 and 1"),
        ({**PRIMARY, "electricity_ef_t_per_mwh": -0.1}, "electricity_ef_t_per_mwh", "tCO2e/MWh"),
        ({**PRIMARY, "cn_code": "7208"}, "cn_code", "aluminium"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(case, key, unit):
    case = {k: v for k, v in case.items() if v is not None}
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert unit in exc.value.expected


@pytest.mark.parametrize("cn_code", ["7602 00 19", "7615 10 10", "7615 20 00"])
def test_aluminium_codes_outside_annex_i_are_refused(cn_code):
    # Reg. 2023/956 Annex I lists 7601, 7603-7614 and 7616: aluminium waste and scrap
    # 7602 and household articles 7615 are not CBAM goods.
    with pytest.raises(CaseError) as exc:
        run_case({**SECONDARY, "cn_code": cn_code})
    assert exc.value.key == "cn_code" and "not a CBAM good" in str(exc.value)
