"""route.cement: clinker calcination × CKD correction, kiln fuels, electricity.

Expected numbers are worked by hand in the comments.  Sources: IPCC 2006 Vol. 3 Ch. 2
Eq. 2.4 (EF_clc = 0.51 × 1.02 CKD correction); stoichiometric CaO 0.785 and MgO 1.092
tCO2/t oxide; IPCC 2006 Vol. 2 Ch. 1 Table 1.4 (other bituminous coal 94.6 tCO2/TJ).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.errors import CaseError
from methodologies.route_cement import clinker_emission_factor, clinker_process_emissions

CEMENT = {
    "methodology": "route.cement",
    "cn_code": "2523 29 00",
    "production_t": 1000,
    "clinker_to_cement_t_per_t": 0.75,
    "cao_t_per_t": 0.65,
    "mgo_t_per_t": 0.02,
    "other_bituminous_coal_tj": 2.5,
    "electricity_mwh": 100,
    "electricity_ef_t_per_mwh": 0.5,
}


def test_grey_cement_by_hand():
    # clinker  = 1000 t × 0.75                         = 750 t
    # EF_cl    = 0.65 × 0.785 + 0.02 × 1.092           = 0.53209 tCO2/t clinker
    # process  = 750 × 0.53209 × 1.02 (CKD, Eq. 2.4)   = 407.04885 t
    # fuel     = 2.5 TJ × 94.6 t/TJ (Table 1.4)        = 236.5 t
    # SEE_dir  = 643.54885 / 1000 = 0.64354885; SEE_indir = 100 × 0.5 / 1000 = 0.05
    # cement counts direct + indirect: SEE_total = 0.69354885
    r = run_case(CEMENT)
    assert_allclose(r["clinker_t"], 750.0, rtol=1e-15)
    assert_allclose(r["process_emissions_t"], 407.04885, rtol=1e-12)
    assert_allclose(r["fuel_emissions_t"], 236.5, rtol=1e-12)
    assert_allclose(r["see_direct_t_per_t"], 0.64354885, rtol=1e-12)
    assert_allclose(r["see_indirect_t_per_t"], 0.05, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 0.69354885, rtol=1e-12)
    assert r["direct_only"] is False
    assert r["defaults_used"] == [
        "cao_co2_t_per_t",
        "ckd_correction",
        "mgo_co2_t_per_t",
        "other_bituminous_coal_ef_t_per_tj",
    ]


def test_clinker_with_the_ipcc_default_factor():
    # 1000 t clinker × 0.51 × 1.02 = 520.2 t → 0.5202 t/t (IPCC Eq. 2.4: 0.51 • 1.02 = 0.52)
    r = run_case(
        {
            "methodology": "route.cement",
            "cn_code": "25231000",
            "production_t": 1000,
            "electricity_mwh": 0,
            "electricity_ef_t_per_mwh": 0.5,
        }
    )
    assert_allclose(r["see_direct_t_per_t"], 0.5202, rtol=1e-15)
    sources = {f["name"]: f["source"] for f in r["trace"]["factors"]}
    assert set(sources) == {"clinker_ef_default_t_per_t", "ckd_correction"}
    assert all("Eq. 2.4" in s for s in sources.values())


def test_a_given_clinker_factor_is_corrected_for_kiln_dust():
    # IPCC 2006 Vol. 3 Eq. 2.4, Em = M_cl × EF_cl × CF_ckd, with the CKD factor given (1.03, not
    # the default 1.02 and not 1, so that a factor dropped or replaced by the default shows):
    # 800 t clinker × 0.53 × 1.03 = 436.72 t → 0.43672 t/t cement
    r = run_case(
        {
            **CEMENT,
            "clinker_t": 800,
            "clinker_ef_t_per_t": 0.53,
            "ckd_correction": 1.03,
            "cao_t_per_t": None,
            "mgo_t_per_t": None,
            "clinker_to_cement_t_per_t": None,
            "other_bituminous_coal_tj": None,
        }
    )
    assert_allclose(r["process_emissions_t"], 436.72, rtol=1e-12)
    assert_allclose(r["see_direct_t_per_t"], 0.43672, rtol=1e-12)


def test_the_formula_functions_take_arrays_like_scalars():
    cao, mgo = np.array([0.6, 0.65, 0.67]), np.array([0.0, 0.02, 0.01])
    ef = clinker_emission_factor(cao, mgo)
    assert_allclose(ef, [clinker_emission_factor(c, m) for c, m in zip(cao, mgo, strict=True)])
    clinker = np.array([100.0, 750.0, 2.0])
    em = clinker_process_emissions(clinker, ef, 1.02)
    assert_allclose(
        em, [clinker_process_emissions(c, e, 1.02) for c, e in zip(clinker, ef, strict=True)]
    )


@settings(max_examples=50, deadline=None)
@given(low=st.floats(0.3, 0.9), step=st.floats(0.01, 0.1), ef=st.floats(0, 1.5))
def test_more_clinker_per_tonne_of_cement_gives_a_higher_see(low, step, ef):
    base = {**CEMENT, "electricity_ef_t_per_mwh": ef}
    lo = run_case({**base, "clinker_to_cement_t_per_t": low})
    hi = run_case({**base, "clinker_to_cement_t_per_t": low + step})
    assert hi["see_total_t_per_t"] > lo["see_total_t_per_t"]


@settings(max_examples=50, deadline=None)
# Within the plausible range run_case checks (<= 1.5 tCO2e/MWh).
@given(ef=st.floats(0, 0.75), more=st.floats(1e-3, 0.75))
def test_a_higher_electricity_factor_raises_indirect_and_total(ef, more):
    lo = run_case({**CEMENT, "electricity_ef_t_per_mwh": ef})
    hi = run_case({**CEMENT, "electricity_ef_t_per_mwh": ef + more})
    assert hi["see_indirect_t_per_t"] > lo["see_indirect_t_per_t"]
    assert hi["see_total_t_per_t"] > lo["see_total_t_per_t"]


@pytest.mark.parametrize(
    ("changes", "key", "unit"),
    [
        ({"clinker_to_cement_t_per_t": None}, "clinker_to_cement_t_per_t", "t clinker/t cement"),
        ({"cao_t_per_t": 1.5}, "cao_t_per_t", "between 0 and 1"),
        ({"cao_t_per_t": None}, "cao_t_per_t", "t CaO/t clinker"),
        ({"clinker_t": 700}, "clinker_to_cement_t_per_t", "absent"),
        ({"cn_code": "7207"}, "cn_code", "cement"),
        ({"cn_code": "25070080"}, "cn_code", "2523"),
        ({"petcoke_tj": 1}, "petcoke_tj", "petroleum_coke_tj"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(changes, key, unit):
    case = {k: v for k, v in {**CEMENT, **changes}.items() if v is not None}
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert unit in exc.value.expected
