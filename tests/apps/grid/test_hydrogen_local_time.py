"""RFNBO matching periods are calendar months and hours of the bidding zone's local time
(DR (EU) 2023/1184 Art. 6), not of UTC."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from apps.facilities.models import Installation
from apps.grid.services import hydrogen_assessment_run, hydrogen_matching
from apps.grid.timezones import zone_timezone
from tests.apps.grid.conftest import hourly_csv


def test_zones_map_to_their_local_time_and_unknown_zones_are_refused():
    assert zone_timezone("DE").key == "Europe/Berlin"
    assert zone_timezone("IT-NORD").key == "Europe/Rome"
    assert zone_timezone("NO-1").key == "Europe/Oslo"
    assert zone_timezone("H2-TEST", "ES").key == "Europe/Madrid"
    with pytest.raises(ValueError, match="'US-XYZ'"):
        zone_timezone("US-XYZ", "US")  # the United States keep several legal times


def test_an_hour_that_is_february_in_berlin_counts_in_february():
    # 2024-01-31 23:00 UTC is 2024-02-01 00:00 in Berlin (CET, +01:00): in UTC both hours
    # are January, on the zone's clock the second one is February.
    utc = pd.date_range("2024-01-31 22:00", periods=2, freq="h", tz="UTC")
    local = utc.tz_convert(zone_timezone("DE"))
    split = hydrogen_matching(
        renewable_mwh=np.array([10.0, 0.0]),
        consumption_mwh=np.array([5.0, 5.0]),
        intensity=np.array([100.0, 400.0]),
        times=local,
    )
    monthly = split["monthly"]
    assert monthly["period_start"] == ["2024-01-01T00:00:00+01:00", "2024-02-01T00:00:00+01:00"]
    # January: 10 MWh of PPA output cover its 5 MWh; February: 5 MWh from the grid at 400.
    assert monthly["renewable_electricity_mwh"] == [5.0, 0.0]
    assert monthly["grid_electricity_mwh"] == [0.0, 5.0]
    assert monthly["grid_intensity_g_per_kwh"] == [100.0, 400.0]
    # Matched in UTC months instead, the surplus of hour 0 would have covered hour 1.
    in_utc = hydrogen_matching(
        renewable_mwh=np.array([10.0, 0.0]),
        consumption_mwh=np.array([5.0, 5.0]),
        intensity=np.array([100.0, 400.0]),
        times=utc,
    )
    assert in_utc["monthly"]["grid_electricity_mwh"] == [0.0]


def test_an_assessment_states_its_local_months_in_the_trace(load, users, tmp_path):
    rows = [(f"2024-01-01 {h:02d}:00", 100.0, 100.0) for h in range(3)]
    load("grid", hourly_csv(tmp_path / "de.csv", "H2-LOCAL", rows))
    electrolyser = Installation.objects.create(
        identifier="H2-DE-1",
        name="Test electrolyser, Germany",
        organisation=users["org_a"],
        country="DE",
        routes=[Installation.Route.H2_ELECTROLYSIS],
        grid_zone="H2-LOCAL",
    )
    a = hydrogen_assessment_run(
        installation=electrolyser,
        start=dt.datetime(2024, 1, 1, 0, tzinfo=dt.UTC),
        renewable_mwh=[1.0, 1.0, 1.0],
        consumption_mwh=[1.0, 1.0, 1.0],
        electrolyser_efficiency=0.6,
    )
    monthly = json.loads(a.monthly_trace)
    assert monthly["case"]["period_start"] == ["2024-01-01T00:00:00+01:00"]
    assert monthly["result"]["temporal_rule"] == "monthly"
    assert a.monthly_passes and a.monthly_rfnbo_share == 1.0
