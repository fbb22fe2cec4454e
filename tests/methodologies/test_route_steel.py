"""route.steel: IPCC 2006 Tier 1 route factors or a carbon mass balance, plus electricity.

Expected numbers are worked by hand in the comments.  Sources of the factors: IPCC 2006
Vol. 3 Ch. 4 Table 4.1 (BOF 1.46, EAF 0.08, DRI 0.70 tCO2/t) and Table 4.3 (coke 0.83,
coal 0.67 kg C/kg); Vol. 2 Ch. 1 Table 1.4 (natural gas 56.1 tCO2/TJ); Vol. 3 Ch. 2
Table 2.1 (CaCO3 0.43971 tCO2/t); 3.664 tCO2/tC (IR 2025/2547 Annex II B.3.2).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.errors import CaseError
from methodologies.route_common import carbon_emissions, combustion_emissions
from methodologies.route_steel import tier1_direct_emissions

ELECTRICITY = {"electricity_mwh": 150, "electricity_ef_t_per_mwh": 0.6}


def steel(route: str, **keys) -> dict:
    return {
        "methodology": "route.steel",
        "route": route,
        "cn_code": "7207",
        "production_t": 1000,
        **ELECTRICITY,
        **keys,
    }


def test_bf_bof_with_no_carbon_input_uses_the_tier1_factor():
    # Em_dir   = 1000 t × 1.46 (IPCC Table 4.1, BOF) = 1460 t  → SEE_dir 1.46
    # Em_indir = 150 MWh × 0.6 t/MWh                  = 90 t    → SEE_indir 0.09
    # 7207 is an Annex II good: SEE_total = SEE_dir = 1.46
    r = run_case(steel("bf_bof"))
    assert_allclose(r["see_direct_t_per_t"], 1.46, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 0.09, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 1.46, rtol=1e-15)
    assert r["direct_only"] is True
    assert r["tier"] == "modelled"
    assert r["method"] == "ipcc_tier1"
    [factor] = r["trace"]["factors"]
    assert factor["name"] == "bof_ef_t_per_t" and "Table 4.1" in factor["source"]


def test_bf_bof_mass_balance_by_hand():
    # coke      350 t × 0.83 tC/t × 3.664 = 1064.392 t   (IPCC Table 4.3, coke 0.83)
    # coal      150 t × 0.67 tC/t × 3.664 =  368.232 t   (IPCC Table 4.3, coal 0.67)
    # gas         2 TJ × 56.1 t/TJ        =  112.2 t     (IPCC Table 1.4)
    # limestone 100 t × 0.43971 t/t       =   43.971 t   (IPCC Table 2.1)
    # output carbon 10 tC × 3.664         =  −36.64 t
    # Em_dir = 1552.155 t → SEE_dir 1.552155 t/t
    r = run_case(
        steel(
            "bf_bof", coke_t=350, coal_t=150, natural_gas_tj=2, limestone_t=100, output_carbon_t=10
        )
    )
    assert r["method"] == "mass_balance"
    assert_allclose(r["direct_emissions_t"], 1552.155, rtol=1e-12)
    assert_allclose(r["see_direct_t_per_t"], 1.552155, rtol=1e-12)
    names = [f["name"] for f in r["trace"]["factors"]]
    assert names == [
        "coke_carbon_t_per_t",
        "coal_carbon_t_per_t",
        "natural_gas_ef_t_per_tj",
        "limestone_ef_t_per_t",
    ]
    assert "bof_ef_t_per_t" not in names  # the Tier 1 factor is not used
    assert {i["name"] for i in r["trace"]["inputs"]} >= {
        "coke_t",
        "coal_t",
        "natural_gas_tj",
        "limestone_t",
        "output_carbon_t",
        "production_t",
        "electricity_mwh",
        "electricity_ef_t_per_mwh",
        "cn_code",
        "route",
    }


def test_a_given_parameter_replaces_its_default_and_is_an_input():
    # coke 100 t × 0.9 tC/t (given) × 3.664 = 329.76 t
    r = run_case(steel("bf_bof", coke_t=100, coke_carbon_t_per_t=0.9))
    assert_allclose(r["direct_emissions_t"], 329.76, rtol=1e-12)
    assert r["trace"]["factors"] == []
    assert "coke_carbon_t_per_t" in {i["name"] for i in r["trace"]["inputs"]}


def test_dri_eaf_gas_tier1_by_hand():
    # EAF 1000 t × 0.08 = 80 t; DRI 1100 t × 0.70 = 770 t (IPCC Table 4.1) → SEE_dir 0.85
    r = run_case(steel("dri_eaf", reductant="gas", dri_t=1100))
    assert_allclose(r["see_direct_t_per_t"], 0.85, rtol=1e-15)
    assert r["defaults_used"] == ["dri_ef_t_per_t", "eaf_ef_t_per_t"]


def test_dri_eaf_hydrogen_carries_the_hydrogen_direct_see():
    # The hydrogen's SEE is not 1, so that a dropped factor (60 t taken as 60 tCO2) shows:
    # EAF 1000 t × 0.08 = 80 t; H2 60 t × 2.5 tCO2e/t = 150 t → 230 t / 1000 t = SEE_dir 0.23
    r = run_case(steel("dri_eaf", reductant="hydrogen", hydrogen_t=60, hydrogen_see_t_per_t=2.5))
    assert_allclose(r["see_direct_t_per_t"], 0.23, rtol=1e-12)


def test_scrap_eaf_tier1():
    # 1000 t × 0.08 = 80 t → 0.08 t/t
    assert_allclose(run_case(steel("scrap_eaf"))["see_direct_t_per_t"], 0.08, rtol=1e-15)


def test_the_formula_functions_take_arrays_like_scalars():
    production = np.array([500.0, 1000.0, 2500.0])
    ef = np.array([1.46, 0.08, 0.08])
    vec = tier1_direct_emissions(production, ef)
    assert_allclose(
        vec, [tier1_direct_emissions(p, e) for p, e in zip(production, ef, strict=True)]
    )
    coke = np.array([0.0, 350.0, 10.0])
    assert_allclose(carbon_emissions(coke, 0.83), [carbon_emissions(c, 0.83) for c in coke])
    tj = np.array([1.0, 2.0])
    assert_allclose(combustion_emissions(tj, 56.1), [56.1, 112.2])


def test_many_installations_at_once_match_the_cases():
    # Vectorised: SEE_dir of three mass-balance installations in one array expression.
    coke, gas, prod = (
        np.array([350.0, 400.0, 0.0]),
        np.array([2.0, 0.0, 5.0]),
        np.array([1000.0, 1200.0, 300.0]),
    )
    see = (carbon_emissions(coke, 0.83) + combustion_emissions(gas, 56.1)) / prod
    for i in range(3):
        keys = {k: float(v[i]) for k, v in (("coke_t", coke), ("natural_gas_tj", gas)) if v[i]}
        case = {**steel("bf_bof", **keys), "production_t": float(prod[i])}
        assert_allclose(run_case(case)["see_direct_t_per_t"], see[i], rtol=1e-13)


@settings(max_examples=50, deadline=None)
@given(production=st.floats(1, 1e7), mwh_per_t=st.floats(0, 2), ef=st.floats(0, 1.5))
def test_bf_bof_is_above_scrap_eaf_under_default_parameters(production, mwh_per_t, ef):
    keys = {
        "production_t": production,
        "electricity_mwh": production * mwh_per_t,
        "electricity_ef_t_per_mwh": ef,
    }
    bof = run_case({**steel("bf_bof"), **keys})
    eaf = run_case({**steel("scrap_eaf"), **keys})
    assert bof["see_total_t_per_t"] > eaf["see_total_t_per_t"]


@settings(max_examples=50, deadline=None)
# Within the plausible ranges run_case checks (<= 70 MWh/t, <= 1.5 tCO2e/MWh).
@given(mwh=st.floats(1, 6e4), ef=st.floats(0, 0.75), more=st.floats(1e-3, 0.75))
def test_a_higher_electricity_factor_gives_more_indirect(mwh, ef, more):
    low = run_case(steel("scrap_eaf", electricity_mwh=mwh, electricity_ef_t_per_mwh=ef))
    high = run_case(steel("scrap_eaf", electricity_mwh=mwh, electricity_ef_t_per_mwh=ef + more))
    assert high["see_indirect_t_per_t"] > low["see_indirect_t_per_t"]
    assert high["see_total_t_per_t"] == low["see_total_t_per_t"]  # direct-only good


@pytest.mark.parametrize(
    ("changes", "key", "unit"),
    [
        ({"electricity_ef_t_per_mwh": None}, "electricity_ef_t_per_mwh", "tCO2e/MWh"),
        ({"electricity_mwh": None}, "electricity_mwh", "MWh"),
        ({"coke_t": -1}, "coke_t", "in t"),
        ({"natural_gas_tj": "2"}, "natural_gas_tj", "TJ"),
        ({"production_t": 0}, "production_t", "t"),
        ({"route": "open_hearth"}, "route", "bf_bof"),
        ({"cn_code": "2523 10 00"}, "cn_code", "iron_and_steel"),
        ({"coke_tonnes": 3}, "coke_tonnes", "coke_t"),
        ({"reductant": "gas"}, "reductant", "dri_eaf"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(changes, key, unit):
    case = steel("bf_bof")
    for k, v in changes.items():
        if v is None:
            case.pop(k)
        else:
            case[k] = v
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert unit in exc.value.expected


def test_dri_eaf_needs_its_reductant_and_coal_dri_needs_its_coal():
    with pytest.raises(CaseError) as exc:
        run_case(steel("dri_eaf", dri_t=1000))
    assert exc.value.key == "reductant"
    with pytest.raises(CaseError) as exc:
        run_case(steel("dri_eaf", reductant="coal", dri_t=1000))
    assert exc.value.key == "coal_t" and "natural gas" in exc.value.reason
    with pytest.raises(CaseError) as exc:
        run_case(steel("dri_eaf", reductant="gas"))
    assert exc.value.key == "dri_t"
    with pytest.raises(CaseError) as exc:
        run_case(steel("dri_eaf", reductant="hydrogen"))
    assert exc.value.key == "hydrogen_t"


@pytest.mark.parametrize(
    "cn_code", ["7204 10 00", "7202 21 00", "7312 10 20", "7317 00 20", "7325 10 00"]
)
def test_codes_outside_annex_i_are_refused(cn_code):
    # Reg. 2023/956 Annex I: scrap 7204 and ferro-silicon 7202 2 are excepted; headings
    # 7312-7317 and 7319-7325 are not listed.
    with pytest.raises(CaseError) as exc:
        run_case(steel("scrap_eaf", cn_code=cn_code))
    assert exc.value.key == "cn_code" and cn_code.replace(" ", "") in str(exc.value)


@pytest.mark.parametrize("cn_code", ["7202 11 20", "7202 41 10", "7202 60 00"])
def test_in_scope_ferro_alloys_are_direct_only(cn_code):
    # Ferro-manganese, ferro-chromium, ferro-nickel are in Annex I and in Annex II (which
    # excepts only the out-of-scope ferro-alloys and 7204).  BF-BOF Tier 1, as above:
    # SEE_dir 1.46, SEE_indir 0.09, SEE_total = SEE_dir = 1.46 (before issue #15: 1.55).
    r = run_case(steel("bf_bof", cn_code=cn_code))
    assert r["direct_only"] is True
    assert_allclose(r["see_total_t_per_t"], 1.46, rtol=1e-15)


def test_the_indirect_channels_of_a_direct_only_good():
    # 7207 is direct-only: its own indirect 0.09 (150 MWh × 0.6 / 1000) is reported only.
    r = run_case(steel("bf_bof"))
    assert r["see_indirect_counted_t_per_t"] == 0.0
    assert_allclose(r["see_indirect_reported_only_t_per_t"], 0.09, rtol=1e-15)
    steps = {s["formula_id"]: s["value"] for s in r["trace"]["steps"]}
    assert_allclose(steps["route.steel.indirect_channels"], [0.0, 0.09], rtol=1e-15)
