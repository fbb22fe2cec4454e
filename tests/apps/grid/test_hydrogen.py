"""Hydrogen installation assessments through the platform: matching worked by hand (a
month that passes, an hour that fails, a mixed case), the 45V tier boundaries, traces."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import methodologies
from apps.audit.models import AuditEvent
from apps.facilities.models import Installation
from apps.grid.services import hydrogen_assessment_run, hydrogen_matching
from tests.apps.grid.conftest import hourly_csv

UTC = dt.UTC

#: Life-cycle intensity of the test zone's hours 0…5 of 2024-01-01 [gCO2eq/kWh].
CASE_HOURS = [100.0, 300.0, 300.0, 300.0, 50.0, 50.0]
#: Hours 6…11: with η = 0.5 and 1 MWh from the grid, kgCO2e/kgH2 = I / 15 exactly:
#: 6.7 → 0.4467, 6.75 → 0.45, 22.5 → 1.5, 37.5 → 2.5, 59.9 → 3.9933, 60.01 → 4.0007.
TIER_HOURS = [6.7, 6.75, 22.5, 37.5, 59.9, 60.01]


@pytest.fixture
def electrolyser(load, users, tmp_path):
    rows = [
        (f"2024-01-01 {h:02d}:00", value, value) for h, value in enumerate(CASE_HOURS + TIER_HOURS)
    ]
    load("grid", hourly_csv(tmp_path / "h2.csv", "H2-TEST", rows))
    return Installation.objects.create(
        identifier="H2-1",
        name="Test electrolyser",
        organisation=users["org_a"],
        country="PT",  # Europe/Lisbon: UTC in January, so the hours below are local
        routes=[Installation.Route.H2_ELECTROLYSIS],
        grid_zone="H2-TEST",
    )


def _assess(installation, hour: int, renewable, consumption, efficiency=0.6):
    return hydrogen_assessment_run(
        installation=installation,
        start=dt.datetime(2024, 1, 1, hour, tzinfo=UTC),
        renewable_mwh=renewable,
        consumption_mwh=consumption,
        electrolyser_efficiency=efficiency,
    )


def test_matching_splits_renewable_and_grid_per_hour_and_per_month():
    times = pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")
    split = hydrogen_matching(
        renewable_mwh=np.array([20.0, 0.0]),
        consumption_mwh=np.array([10.0, 10.0]),
        intensity=np.array([100.0, 300.0]),
        times=times,
    )
    # Hour by hour: hour 0 uses 10 of its 20 MWh of PPA output (the surplus is lost), hour 1
    # has none and takes 10 MWh from the grid.
    assert split["hourly"]["renewable_electricity_mwh"] == [10.0, 0.0]
    assert split["hourly"]["grid_electricity_mwh"] == [0.0, 10.0]
    # Month: 20 MWh of PPA output cover the 20 MWh used; the grid intensity is the
    # consumption-weighted mean (10 × 100 + 10 × 300) / 20 = 200.
    assert split["monthly"]["renewable_electricity_mwh"] == [20.0]
    assert split["monthly"]["grid_electricity_mwh"] == [0.0]
    assert split["monthly"]["grid_intensity_g_per_kwh"] == [200.0]


def test_a_month_that_passes_and_hours_that_fail_give_different_verdicts(electrolyser):
    a = _assess(electrolyser, 0, [20.0, 0.0], [10.0, 10.0])
    # Monthly: no grid electricity → 0 gCO2e/MJ, passes, all RFNBO.
    assert a.monthly_passes and a.monthly_g_per_mj == 0.0 and a.monthly_rfnbo_share == 1.0
    # Hourly, by hand: 10 MWh of grid at 300 g/kWh = 3,000,000 g; hydrogen 20 MWh × 3600
    # MJ/MWh × 0.6 = 43,200 MJ → 69.44 g/MJ > 28.2: fails. Half the hydrogen (hour 0) is
    # RFNBO.
    assert not a.hourly_passes
    assert_allclose(a.hourly_g_per_mj, 3_000_000 / 43_200)
    assert_allclose(a.hourly_rfnbo_share, 0.5)
    hours = json.loads(a.hourly_trace)["result"]["periods"]
    assert [h["passes"] for h in hours] == [True, False]  # the hour that fails: 138.9 g/MJ
    assert_allclose(hours[1]["ghg_intensity_g_per_mj"], 3_000_000 / 21_600)
    assert a.hydrogen_kg == pytest.approx(43_200 / 120)


def test_a_month_that_fails(electrolyser):
    a = _assess(electrolyser, 2, [5.0, 0.0], [10.0, 10.0])
    # 5 MWh renewable, 15 MWh grid at 300 g/kWh: 4,500,000 g / 43,200 MJ = 104.2 g/MJ.
    assert not a.monthly_passes and not a.hourly_passes
    assert_allclose(a.monthly_g_per_mj, 4_500_000 / 43_200)
    # A quarter of the electricity is renewable, but the month fails the threshold, so none
    # of its hydrogen is RFNBO (DR 2023/1185 Annex A pt 1; DR 2023/1184 Art. 6).
    assert a.monthly_rfnbo_share == 0.0


def test_a_small_grid_share_at_low_intensity_passes_both(electrolyser):
    a = _assess(electrolyser, 4, [18.0, 0.0], [10.0, 10.0])
    # Monthly: 2 MWh grid × 50 g/kWh = 100,000 g → 2.31 g/MJ; hourly: 10 MWh × 50 g/kWh
    # = 500,000 g → 11.57 g/MJ; both ≤ 28.2.
    assert a.monthly_passes and a.hourly_passes
    assert_allclose(a.monthly_g_per_mj, 100_000 / 43_200)
    assert_allclose(a.hourly_g_per_mj, 500_000 / 43_200)


@pytest.mark.parametrize(
    ("hour", "rate", "share", "credit"),
    [
        (6, 6.7 / 15, 1.0, 3.0),  # < 0.45 → 100 % of 0.60 × 5
        (7, 0.45, 0.334, 1.0),  # 0.45: 33.4 % tier; round(0.2004, 0.001) = 0.200 × 5
        (8, 1.5, 0.25, 0.75),  # 1.5 belongs to the 25 % tier
        (9, 2.5, 0.2, 0.6),  # 2.5 belongs to the 20 % tier
        (10, 59.9 / 15, 0.2, 0.6),  # ≤ 4 → 20 %
        (11, 60.01 / 15, 0.0, 0.0),  # > 4 → nothing
    ],
)
def test_the_45v_tier_boundaries_through_an_assessment(electrolyser, hour, rate, share, credit):
    # 26 U.S.C. §45V(b)(2): < 0.45 → 100 %; [0.45, 1.5) → 33.4 %; [1.5, 2.5) → 25 %;
    # [2.5, 4] → 20 %; base 0.60 USD/kg × 5 with prevailing wage (§45V(e)(1)).
    a = _assess(electrolyser, hour, [0.0], [1.0], efficiency=0.5)
    us45v = json.loads(a.us45v_trace)
    assert us45v["case"]["lifecycle_kg_per_kg"] == pytest.approx(rate, rel=1e-12)
    assert (a.us45v_tier_share, a.us45v_credit_usd_per_kg) == (share, pytest.approx(credit))


def test_stored_traces_recompute_byte_for_byte_and_the_assessment_is_audited(electrolyser):
    a = _assess(electrolyser, 0, [20.0, 0.0], [10.0, 10.0])
    for name in ("monthly_trace", "hourly_trace", "us45v_trace"):
        stored = getattr(a, name)
        data, sha = methodologies.recompute(json.loads(stored))
        assert data == stored.encode()
        assert sha == getattr(a, f"{name}_sha256")
    monthly = json.loads(a.monthly_trace)
    # Calendar months of the zone's local time (Lisbon: UTC in January).
    assert monthly["case"]["period_start"] == ["2024-01-01T00:00:00Z"]
    assert json.loads(a.hourly_trace)["case"]["year"] == 2024
    assert monthly["result"]["temporal_rule"] == "monthly"
    assert AuditEvent.objects.filter(action="hydrogen.assess", object_id=str(a.pk)).exists()
    # The same profile again: the stored assessment, not a new one.
    assert _assess(electrolyser, 0, [20.0, 0.0], [10.0, 10.0]).pk == a.pk


def test_a_gap_filled_hour_is_flagged_in_the_assessment(electrolyser, load, tmp_path):
    # Zone H2-GAP has hours 00, 01 and 03: hour 02 is filled linearly (100 + 300) / 2.
    rows = [("2024-01-01 00:00", 100, 100), ("2024-01-01 01:00", 100, 100)]
    rows.append(("2024-01-01 03:00", 300, 300))
    load("grid", hourly_csv(tmp_path / "gap.csv", "H2-GAP", rows))
    electrolyser.grid_zone = "H2-GAP"
    electrolyser.save()
    a = _assess(electrolyser, 0, [0.0] * 4, [1.0] * 4)
    steps = a.intensity_steps
    assert steps["kind_requested"] == "lifecycle"
    assert steps["steps"][0] == {
        "level": "zone",
        "key": "H2-GAP",
        "found": True,
        "hours": 4,
        "gap_filled_hours": 1,
        "kind_used": "lifecycle",
        "source": steps["steps"][0]["source"],
        "reason": "4 of 4 hours in the store, 1 of them gap-filled",
    }
    assert steps["gap_filled_index"] == [2] and a.gap_filled_hours == 1
    intensity = json.loads(a.hourly_trace)["case"]["grid_intensity_g_per_kwh"]
    assert intensity == [100.0, 100.0, 200.0, 300.0]
