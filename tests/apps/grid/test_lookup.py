"""The factor lookup and the indirect emissions of electricity use: the fallback chain
zone → country → world with each step named, the kind used, and gap flags in the trace."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from apps.grid.selectors import grid_factor_lookup, indirect_emissions
from ingest.emaps_hourly import read_emaps_hourly
from methodologies.trace import canonical_bytes, sha256_hex
from tests.apps.grid.conftest import EMBER, PT_WEEK

HOURS_2024 = 8784  # a leap year
PT_EMBER_2024 = 111.8  # average-intensities.json, "PRT": 2024, 111.8 gCO2/kWh
WORLD_EMBER_2024 = 472.94  # average-intensities.json, "World": 2024, 472.94 gCO2/kWh


@pytest.fixture
def portugal(load):
    load("grid", EMBER)
    load("grid", PT_WEEK)


def test_a_zone_with_hours_answers_them_and_the_country_fills_the_rest(portugal):
    factor = grid_factor_lookup(zone="PT", country="PT", year=2024, kind="lifecycle")
    data, meta = read_emaps_hourly(PT_WEEK)
    zone_sum = data["lifecycle_g_per_kwh"].sum()  # the 168 hours of the file
    expected = (zone_sum + (HOURS_2024 - 168) * PT_EMBER_2024) / HOURS_2024 * 0.001
    assert_allclose(factor.value_t_per_mwh, expected, rtol=1e-12)
    assert factor.kind == "lifecycle"
    assert factor.steps == [
        f"zone PT: 168 of {HOURS_2024} hours in the store, {meta['estimated_rows']} of them "
        "gap-filled",
        f"country PT: Ember 2024 annual average for {HOURS_2024 - 168} hours",
    ]
    assert factor.gap_filled  # the publisher's estimated hours count as gap-filled
    assert len(factor.evidence_sha256) == 2


def test_a_direct_request_says_when_a_level_only_has_life_cycle_values(portugal):
    factor = grid_factor_lookup(zone="PT", country="PT", year=2024, kind="direct")
    assert factor.kind == "mixed: direct, lifecycle"
    assert factor.steps[1].endswith("(life-cycle: no direct value at this level)")


def test_without_zone_data_the_country_average_is_used(portugal):
    factor = grid_factor_lookup(zone="DE", country="DE", year=2030, kind="lifecycle")
    assert factor.steps[0] == "zone DE: no hours of this zone in the store"
    # No 2030 row: the latest earlier year is taken (Ember DEU 2024 in the fixture).
    assert factor.steps[1].startswith("country DE: Ember 2024 annual average")
    assert factor.kind == "lifecycle"
    assert not factor.gap_filled


def test_without_a_country_average_the_world_average_is_used(portugal):
    factor = grid_factor_lookup(zone="AQ", country="AQ", year=2024, kind="direct")
    assert_allclose(factor.value_t_per_mwh, WORLD_EMBER_2024 * 0.001)
    assert factor.steps == [
        "zone AQ: no hours of this zone in the store",
        "country AQ: no Ember average",
        f"world World: Ember 2024 annual average for {HOURS_2024} hours (life-cycle: no "
        "direct value at this level)",
    ]


def test_with_no_data_at_any_level_the_lookup_says_so(db):
    with pytest.raises(LookupError, match="world World: no Ember average"):
        grid_factor_lookup(zone="AQ", country="AQ", year=2024, kind="direct")


def test_an_hourly_profile_meets_each_hours_intensity(portugal):
    profile = np.zeros(HOURS_2024)
    profile[0] = 1.0  # 1 MWh in 2024-01-01 00:00 UTC
    result = indirect_emissions(zone="PT", country="PT", year=2024, consumption_mwh=profile)
    # Line 2 of PT_2024_hourly_first_week.csv: direct 92.93 gCO2eq/kWh; 1 MWh × 92.93 g/kWh
    # = 92.93 kg.
    assert_allclose(result.emissions_t, 0.09293, rtol=1e-12)
    assert_allclose(result.factor_t_per_mwh, 0.09293, rtol=1e-12)
    assert result.electricity_case() == {
        "consumed_mwh": 1.0,
        "ef_t_per_mwh": result.factor_t_per_mwh,
    }


def test_monthly_consumption_takes_the_months_mean_intensity(portugal):
    monthly = [0.0] * 12
    monthly[1] = 100.0  # February: no zone hour, every hour from the country average
    result = indirect_emissions(
        zone="PT", country="PT", year=2024, consumption_mwh=monthly, kind="lifecycle"
    )
    assert_allclose(result.emissions_t, 100 * PT_EMBER_2024 * 0.001, rtol=1e-12)


def test_annual_consumption_in_a_zone_without_data_uses_the_world_average(portugal):
    result = indirect_emissions(zone="", country="AQ", year=2024, consumption_mwh=1000.0)
    assert_allclose(result.emissions_t, 1000 * WORLD_EMBER_2024 * 0.001, rtol=1e-12)
    assert result.kind == "lifecycle"


def test_the_trace_names_the_chain_the_kind_and_the_gap_filled_hours(portugal):
    result = indirect_emissions(zone="PT", country="PT", year=2024, consumption_mwh=1200.0)
    trace = result.trace
    steps = {s["formula_id"]: s for s in trace["steps"]}
    _, meta = read_emaps_hourly(PT_WEEK)
    assert steps["grid.chain.zone"]["inputs"]["gap_filled_hours"] == meta["estimated_rows"]
    assert steps["grid.chain.zone"]["inputs"]["kind_used"] == "direct"
    assert steps["grid.chain.country"]["inputs"]["kind_used"] == "lifecycle"
    assert steps["grid.gap_filled"]["value"] == meta["estimated_rows"] > 0
    assert trace["result"]["kind_used"] == "mixed: direct, lifecycle"
    assert [f["name"] for f in trace["factors"]] == [
        "grid intensity (direct, zone PT)",
        "grid intensity (lifecycle, country PT)",
    ]
    store_input = [i for i in trace["inputs"] if i["name"] == "hourly intensity store file"]
    assert store_input[0]["evidence"]["ref"] == "grid/intensity/PT/2024.nc"
    assert result.trace_sha256 == sha256_hex(canonical_bytes(trace))


def test_an_hourly_profile_of_the_wrong_length_is_refused(portugal):
    with pytest.raises(ValueError, match="8784"):
        indirect_emissions(zone="PT", country="PT", year=2024, consumption_mwh=[1.0] * 100)
