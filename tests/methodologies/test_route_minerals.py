"""route.minerals: fuels, reductant carbon, carbonate reagents and electricity as given.

Expected numbers are worked by hand in the comments.  Sources: IPCC 2006 Vol. 2 Ch. 1
Table 1.4 (natural gas 56.1 tCO2/TJ); Vol. 3 Ch. 2 Table 2.1 (CaCO3 0.43971 tCO2/t);
Vol. 3 Ch. 4 Table 4.3 (coke 0.83 kg C/kg); 3.664 tCO2/tC.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.errors import CaseError
from methodologies.route_minerals import direct_emissions

LIOH = {
    "methodology": "route.minerals",
    "product": "lithium_hydroxide",
    "production_t": 100,
    "natural_gas_tj": 3.0,
    "limestone_t": 50,
    "electricity_mwh": 900,
    "electricity_ef_t_per_mwh": 0.7,
}


def test_lithium_hydroxide_by_hand():
    # gas 3 TJ × 56.1 = 168.3 t; limestone 50 t × 0.43971 = 21.9855 t → Em_dir 190.2855 t
    # SEE_dir 1.902855; SEE_indir 900 × 0.7 / 100 = 6.3; not a CBAM good: total 8.202855
    r = run_case(LIOH)
    assert_allclose(r["see_direct_t_per_t"], 1.902855, rtol=1e-12)
    assert_allclose(r["see_indirect_t_per_t"], 6.3, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 8.202855, rtol=1e-12)
    assert r["direct_only"] is False
    assert r["product"] == "lithium_hydroxide"


def test_pyrometallurgical_nickel_with_coke_and_disclosed_process_emissions():
    # coke 200 t × 0.83 × 3.664 = 608.224 t; other 50 t → 658.224 t / 20 t = 32.9112 t/t
    r = run_case(
        {
            "methodology": "route.minerals",
            "product": "nickel",
            "production_t": 20,
            "coke_t": 200,
            "other_process_emissions_t": 50,
            "electricity_mwh": 0,
            "electricity_ef_t_per_mwh": 0.7,
        }
    )
    assert_allclose(r["see_direct_t_per_t"], 32.9112, rtol=1e-12)
    assert r["direct_only"] is False


def test_direct_emissions_takes_arrays_like_scalars():
    fuel, carbon = np.array([168.3, 0.0]), np.array([0.0, 608.224])
    vec = direct_emissions(fuel, carbon, 21.9855, 0.0)
    assert_allclose(
        vec, [direct_emissions(f, c, 21.9855, 0.0) for f, c in zip(fuel, carbon, strict=True)]
    )


@settings(max_examples=50, deadline=None)
# Within the plausible range run_case checks (<= 1.5 tCO2e/MWh).
@given(ef=st.floats(0, 0.75), more=st.floats(1e-3, 0.75), gas=st.floats(0, 100))
def test_a_higher_electricity_factor_raises_indirect_and_total(ef, more, gas):
    base = {**LIOH, "natural_gas_tj": gas}
    lo = run_case({**base, "electricity_ef_t_per_mwh": ef})
    hi = run_case({**base, "electricity_ef_t_per_mwh": ef + more})
    assert hi["see_indirect_t_per_t"] > lo["see_indirect_t_per_t"]
    assert hi["see_total_t_per_t"] > lo["see_total_t_per_t"]


@pytest.mark.parametrize(
    ("changes", "key", "unit"),
    [
        ({"product": "gold"}, "product", "lithium_carbonate"),
        ({"product": None}, "product", "nickel"),
        ({"electricity_mwh": None}, "electricity_mwh", "MWh"),
        ({"limestone_t": -5}, "limestone_t", "t"),
        ({"lithium_intensity_t_per_t": 1}, "lithium_intensity_t_per_t", "production_t"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(changes, key, unit):
    case = {k: v for k, v in {**LIOH, **changes}.items() if v is not None}
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert unit in exc.value.expected


def test_a_cn_code_outside_cbam_scope_is_refused():
    # Unwrought nickel 7502 10 00 is not in Reg. 2023/956 Annex I (before issue #15 the
    # code was accepted and direct_only read from it).
    with pytest.raises(CaseError) as exc:
        run_case({**LIOH, "product": "nickel", "cn_code": "7502 10 00"})
    assert exc.value.key == "cn_code" and "75021000 is not a CBAM good" in str(exc.value)
