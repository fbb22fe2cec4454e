"""Plausibility of case inputs (methodologies.plausibility), checked by run_case for every
methodology: a value outside its physical range is refused naming the key, the value,
the range and the likely unit mistake.

The ranges' sources are in the module docstring (IR 2025/2547 Annex II point G and
IPCC 2006 Vol. 2 Tables 1.2 and 1.4 for fuels; 3.664 tCO2/tC for carbon; Equation 54
for Corr_η).  Every case below ran without complaint before the check existed (the
regression: the engine computed with the mistaken unit).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from methodologies import METHODOLOGIES, run_case
from methodologies.errors import CaseError, ImplausibleValueError
from methodologies.plausibility import RANGES, check

ROOT = Path(__file__).parents[2]

COAL = {
    "type": "combustion",
    "ad_t": 100,
    "ncv_tj_per_t": 0.0258,  # 25.8 GJ/t, other bituminous coal (IPCC 2006 Table 1.2)
    "ef_t_per_tj": 94.6,  # IPCC 2006 Table 1.4
}
CASE = {
    "methodology": "cbam.installation",
    "good": {"cn_code": "7208", "activity_level_t": 1000},
    "direct": {"source_streams": [COAL]},
    "electricity": {"consumed_mwh": 400, "ef_t_per_mwh": 0.5},
    "precursors": [
        {
            "cn_code": "7203",
            "mass_t": 1100,
            "origin": "IN",
            "see_direct_t_per_t": 0.9,
            "see_indirect_t_per_t": 0.1,
        }
    ],
}


def refused(case: dict) -> ImplausibleValueError:
    with pytest.raises(ImplausibleValueError) as exc:
        run_case(case)
    assert isinstance(exc.value, CaseError)  # "refuse this case" for every caller
    return exc.value


def test_the_plausible_case_runs():
    # 100 t × 0.0258 TJ/t × 94.6 = 244.068 t; SEE_dir = (244.068 + 990) / 1000.
    assert_allclose(run_case(CASE)["see_direct_t_per_t"], 1.234068, rtol=1e-14)


def test_an_ncv_given_in_gj_per_t_is_refused_with_the_unit_hint():
    case = copy.deepcopy(CASE)
    case["direct"]["source_streams"][0]["ncv_tj_per_t"] = 48
    err = refused(case)
    assert err.key == "direct.source_streams[0].ncv_tj_per_t"
    assert (err.value, err.low, err.high) == (48, 0.001, 0.15)
    assert "48 TJ/t: did you mean GJ/t?" in str(err)
    assert "between 0.001 and 0.15 TJ/t" in str(err)


def test_an_electricity_factor_in_g_per_kwh_is_refused():
    case = copy.deepcopy(CASE)
    case["electricity"]["ef_t_per_mwh"] = 450
    err = refused(case)
    assert err.key == "electricity.ef_t_per_mwh"
    assert "did you mean gCO2e/kWh" in str(err)


def test_precursor_mass_is_checked_per_tonne_of_good():
    # 1 100 000 "t" of DRI for 1000 t of steel = 1100 t/t: a mass in kg.
    case = copy.deepcopy(CASE)
    case["precursors"][0]["mass_t"] = 1_100_000
    err = refused(case)
    assert err.key == "precursors[0].mass_t" and err.per == "good.activity_level_t"
    assert err.value == 1100.0
    assert "did you mean kg?" in str(err)


def test_a_nested_installation_is_checked_with_the_full_key():
    case = copy.deepcopy(CASE)
    inner = copy.deepcopy(CASE)
    del inner["methodology"]
    inner["good"]["cn_code"] = "7203"
    inner["precursors"] = []
    inner["electricity"]["ef_t_per_mwh"] = 800  # g/kWh
    case["precursors"] = [{"mass_t": 1100, "origin": "IN", "installation": inner}]
    err = refused(case)
    assert err.key == "precursors[0].installation.electricity.ef_t_per_mwh"


def test_a_relative_uncertainty_given_in_percent_is_refused():
    case = copy.deepcopy(CASE)
    case["electricity"]["ef_t_per_mwh"] = {"value": 0.5, "uncertainty": {"relative": 5}}
    err = refused(case)
    assert err.key == "electricity.ef_t_per_mwh.uncertainty.relative"
    assert "percentage" in str(err)


def test_waste_gas_ef_zero_means_none_but_a_wrong_unit_is_refused():
    case = copy.deepcopy(CASE)
    case["direct"]["waste_gas_exported_tj"] = 0
    case["direct"]["waste_gas_ef_t_per_tj"] = 0
    run_case(case)
    case["direct"]["waste_gas_exported_tj"] = 10
    case["direct"]["waste_gas_ef_t_per_tj"] = 0.0561  # tCO2/GJ
    err = refused(case)
    assert err.key == "direct.waste_gas_ef_t_per_tj" and "did you mean tCO2/GJ?" in str(err)


@pytest.mark.parametrize(
    ("case", "key", "hint"),
    [
        (
            {
                "methodology": "hydrogen.smr",
                "technology": "smr",
                "hydrogen_t": 1000,
                "natural_gas_gj_per_t": 0.165,
                "capture_rate": 0,
            },
            "natural_gas_gj_per_t",
            "did you mean TJ/t?",
        ),
        (
            {
                "methodology": "hydrogen.rfnbo",
                "period": "monthly",
                "electrolyser_efficiency": 60,
                "renewable_electricity_mwh": [900],
                "grid_electricity_mwh": [100],
                "grid_intensity_g_per_kwh": [300],
            },
            "electrolyser_efficiency",
            "percentage",
        ),
        (
            {
                "methodology": "cbam.certificates",
                "year": 2026,
                "see_total_t_per_t": 2.0,
                "mass_t": 100,
                "benchmark_t_per_t": 1.5,
                "benchmark_column": "A",
                "benchmark_source": "IR 2025/2620",
                "cscf": 97.5,
                "cscf_source": "test",
            },
            "cscf",
            "percentage",
        ),
        (
            {
                "methodology": "route.steel",
                "route": "bf_bof",
                "cn_code": "7207",
                "production_t": 1000,
                "electricity_mwh": 150_000,  # 150 MWh given in kWh: 150 "MWh"/t
                "electricity_ef_t_per_mwh": 0.6,
            },
            "electricity_mwh",
            "did you mean kWh?",
        ),
    ],
)
def test_other_methodologies_are_checked_at_the_dispatcher(case, key, hint):
    err = refused(case)
    assert err.key == key and hint in str(err)


def test_every_methodology_has_declared_ranges():
    assert set(METHODOLOGIES) <= set(RANGES)


def test_the_cli_exits_2_naming_key_value_range_and_hint(tmp_path):
    case = copy.deepcopy(CASE)
    case["direct"]["source_streams"][0]["ncv_tj_per_t"] = 48
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    proc = subprocess.run(
        [sys.executable, "-m", "methodologies", "run", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "direct.source_streams[0].ncv_tj_per_t" in proc.stderr
    assert "48 TJ/t: did you mean GJ/t?" in proc.stderr


def test_values_that_are_not_numbers_are_left_to_the_methodology():
    # check() ignores what it cannot read; the methodology names the key and unit.
    check("cbam.installation", {"electricity": {"ef_t_per_mwh": "0.5"}})
    case = copy.deepcopy(CASE)
    case["electricity"]["ef_t_per_mwh"] = "0.5"
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert not isinstance(exc.value, ImplausibleValueError)
    assert exc.value.key == "electricity.ef_t_per_mwh"
