"""The hydrogen rules to the letter (issue: RFNBO period by period, 45V rounding), each
worked by hand from the source named in the test."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from methodologies import recompute, run_case
from methodologies.errors import CaseError

RFNBO = {"methodology": "hydrogen.rfnbo", "electrolyser_efficiency": 0.5}
US45V = {"methodology": "hydrogen.us45v"}


def one_period(intensity_g_per_kwh: float, **extra) -> dict:
    """One period: 0.9 MWh renewable + 0.1 MWh grid at η = 0.5 → 1 MWh × 3600 × 0.5 =
    1800 MJ of hydrogen; Em = 0.1 × 1000 × I g, so GHG = 100 I / 1800 = I / 18 g/MJ."""
    return run_case(
        {
            **RFNBO,
            "period": "monthly",
            "renewable_electricity_mwh": [0.9],
            "grid_electricity_mwh": [0.1],
            "grid_intensity_g_per_kwh": [intensity_g_per_kwh],
            **extra,
        }
    )


# ------------------------------------------------------------------ the 28.2 g/MJ boundary


def test_a_period_exactly_at_28_2_g_per_mj_passes():
    # DR 2023/1185 Art. 1: at least 70 % savings against 94 g/MJ, i.e. GHG ≤ 28.2 g/MJ.
    # I = 28.2 × 18 = 507.6 g/kWh gives exactly 28.2 g/MJ (up to float rounding).
    r = one_period(507.6)
    assert_allclose(r["ghg_intensity_g_per_mj"], 28.2, rtol=1e-14)
    assert r["passes"] is True and r["periods"][0]["passes"] is True
    assert_allclose(r["rfnbo_share"], 0.9)


def test_a_period_just_above_28_2_fails_and_just_below_passes():
    # 28.2001 g/MJ × 18 = 507.6018 g/kWh; 28.1999 × 18 = 507.5982 g/kWh
    above = one_period(507.6018)
    below = one_period(507.5982)
    assert_allclose(above["ghg_intensity_g_per_mj"], 28.2001)
    assert above["passes"] is False and above["rfnbo_share"] == 0.0
    assert below["passes"] is True
    assert_allclose(below["rfnbo_share"], 0.9)


def test_the_threshold_is_28_2_not_the_comparator():
    # 50 g/MJ lies between 28.2 and 65.8 (= 70 % of 94): it must fail.
    r = one_period(50 * 18)
    assert_allclose(r["ghg_intensity_g_per_mj"], 50.0)
    assert r["passes"] is False


# ------------------------------------------------------------------ period by period


def test_a_failing_month_is_not_hidden_by_an_average():
    # DR 2023/1184 Art. 6 and DR 2023/1185 Annex A: each calendar month stands on its own.
    # Month 1: 1.8 MWh renewable + 0.2 grid at 500 g/kWh, η 0.5:
    #   H2 = 2 × 1800 = 3600 MJ = 30 kg; Em = 0.2 × 1000 × 500 = 100 000 g → 27.78 g/MJ ✓
    # Month 2: 0.5 MWh renewable + 0.5 grid at 500: H2 = 1800 MJ = 15 kg;
    #   Em = 250 000 g → 138.9 g/MJ ✗
    # Month 3: 9 MWh renewable + 1 grid at 20 g/kWh: H2 = 18 000 MJ = 150 kg;
    #   Em = 20 000 g → 1.11 g/MJ ✓
    # Mean: 370 000 g / 23 400 MJ = 15.8 g/MJ — it would pass, but month 2 fails.
    r = run_case(
        {
            **RFNBO,
            "period": "monthly",
            "period_start": [
                "2029-01-01T00:00:00+01:00",
                "2029-02-01T00:00:00+01:00",
                "2029-03-01T00:00:00+01:00",
            ],
            "renewable_electricity_mwh": [1.8, 0.5, 9],
            "grid_electricity_mwh": [0.2, 0.5, 1],
            "grid_intensity_g_per_kwh": [500, 500, 20],
        }
    )
    assert_allclose(r["ghg_intensity_g_per_mj"], 370_000 / 23_400)
    assert r["passes"] is False
    assert r["failing_periods"] == [1]
    assert [p["passes"] for p in r["periods"]] == [True, False, True]
    assert_allclose(
        [p["ghg_intensity_g_per_mj"] for p in r["periods"]],
        [100_000 / 3600, 250_000 / 1800, 20_000 / 18_000],
    )
    # RFNBO hydrogen: 0.9 × 30 + 0 (month 2 fails) + 0.9 × 150 = 162 kg of 195 kg
    assert_allclose(r["rfnbo_hydrogen_kg"], 162)
    assert_allclose(r["rfnbo_share"], 162 / 195)
    assert r["periods"][0]["start"] == "2029-01-01T00:00:00+01:00"
    assert recompute(r["trace"])[1] == r["trace_sha256"]


def test_auxiliary_electricity_counts_in_its_period_not_in_the_share():
    # 2 MWh renewable, 0 grid, 0.1 MWh auxiliary at 300 g/kWh, η 0.5:
    # H2 = 3600 MJ; Em = 0.1 × 1000 × 300 = 30 000 g → 8.33 g/MJ; share 2 / 2 = 1
    r = run_case(
        {
            **RFNBO,
            "period": "hourly",
            "renewable_electricity_mwh": [2],
            "grid_electricity_mwh": [0],
            "auxiliary_grid_electricity_mwh": [0.1],
            "grid_intensity_g_per_kwh": [300],
        }
    )
    assert_allclose(r["ghg_intensity_g_per_mj"], 30_000 / 3600)
    assert r["rfnbo_share"] == 1.0


def test_grid_electricity_counts_as_renewable_in_proportion_to_the_country_share():
    # DR 2023/1184 Art. 4 (docs/method-hydrogen.md): 1 MWh renewable + 1 MWh grid at 25 g/kWh with a
    # 40 % renewable grid share, η 0.5: H2 = 3600 MJ = 30 kg; Em = 25 000 g → 6.94 g/MJ ✓;
    # share = (1 + 0.4 × 1) / 2 = 0.7 → 21 kg RFNBO. Emissions use the whole grid amount.
    r = run_case(
        {
            **RFNBO,
            "period": "monthly",
            "renewable_electricity_mwh": [1],
            "grid_electricity_mwh": [1],
            "grid_intensity_g_per_kwh": [25],
            "grid_renewable_share": [0.4],
        }
    )
    assert_allclose(r["rfnbo_share"], 0.7)
    assert_allclose(r["rfnbo_hydrogen_kg"], 21)
    assert_allclose(r["emissions_kg"], 25)
    with pytest.raises(CaseError, match=r"grid_renewable_share\[0\]"):
        run_case(
            {
                **RFNBO,
                "period": "monthly",
                "renewable_electricity_mwh": [1],
                "grid_electricity_mwh": [1],
                "grid_intensity_g_per_kwh": [25],
                "grid_renewable_share": [1.4],
            }
        )


# ------------------------------------------------------------------ local time


def base_periods(period: str, starts: list[str]) -> dict:
    n = len(starts)
    return {
        **RFNBO,
        "period": period,
        "period_start": starts,
        "renewable_electricity_mwh": [1.0] * n,
        "grid_electricity_mwh": [0.0] * n,
        "grid_intensity_g_per_kwh": [100.0] * n,
    }


def test_periods_that_are_not_whole_local_months_or_hours_are_refused():
    # DR 2023/1184 Art. 6: a calendar month / an hour of the bidding zone's local time.
    with pytest.raises(CaseError, match=r"period_start\[0\].*calendar month"):
        run_case(base_periods("monthly", ["2029-01-15T00:00:00+01:00"]))
    # Midnight UTC on 1 March is 01:00 in Berlin: not the start of a local month.
    with pytest.raises(CaseError, match=r"period_start\[0\]"):
        run_case(base_periods("monthly", ["2029-03-01T01:00:00+01:00"]))
    with pytest.raises(CaseError, match=r"period_start\[0\].*not on the hour"):
        run_case(base_periods("hourly", ["2030-05-01T10:30:00+02:00"]))
    with pytest.raises(CaseError, match=r"period_start\[1\].*increasing"):
        run_case(base_periods("hourly", ["2030-05-01T10:00:00+02:00", "2030-05-01T09:00:00+02:00"]))
    ok = run_case(base_periods("monthly", ["2029-03-01T00:00:00+01:00"]))
    assert ok["periods"][0]["start"] == "2029-03-01T00:00:00+01:00"


def test_the_2030_switch_is_read_on_the_local_clock():
    # 2030-01-01 00:00 in Berlin (+01:00) is 2029-12-31 23:00 UTC: hourly correlation
    # applies, so a monthly period starting then is refused.
    with pytest.raises(CaseError, match="hourly"):
        run_case(base_periods("monthly", ["2030-01-01T00:00:00+01:00"]))
    # December 2029 in Berlin is still monthly.
    r = run_case(base_periods("monthly", ["2029-12-01T00:00:00+01:00"]))
    assert r["temporal_rule"] == "monthly"
    # An hour that is 2030 in UTC but still 2029 on the local clock (UTC−5).
    h = run_case(base_periods("hourly", ["2029-12-31T20:00:00-05:00"]))
    assert h["temporal_rule"] == "monthly"


# ------------------------------------------------------------------ 45V


@pytest.mark.parametrize(
    ("year", "rate", "amount"),
    [
        # IRS Notice 2024-45: 2023, factor 1
        (2023, 3.0, 0.120),
        (2023, 2.0, 0.150),
        (2023, 1.0, 0.200),
        (2023, 0.1, 0.600),
        # IRS Notice 2024-45: 2024, factor 1.0364, base $0.622
        (2024, 3.0, 0.124),
        (2024, 2.0, 0.156),  # 0.25 × 0.622 = 0.1555 → 0.156 (one rounding would give 0.155)
        (2024, 1.0, 0.208),
        (2024, 0.1, 0.622),
        # IRS Notice 2025-37: 2025, factor 1.0611 → 12.7 and 15.9 cents
        (2025, 3.0, 0.127),
        (2025, 2.0, 0.159),
    ],
)
def test_45v_applicable_amounts_as_published(year, rate, amount):
    r = run_case({**US45V, "lifecycle_kg_per_kg": rate, "production_year": year})
    assert r["applicable_amount_usd_per_kg"] == amount
    assert r["credit_usd_per_kg"] == amount
    wage = run_case(
        {**US45V, "lifecycle_kg_per_kg": rate, "production_year": year, "prevailing_wage": True}
    )
    # §45V(e)(1): × 5 after the rounding
    assert wage["credit_usd_per_kg"] == round(amount * 5, 3)


def test_45v_rounds_the_amount_before_the_wage_multiplier():
    # 26 USC 45V(b)(1): 0.334 × 0.60 = 0.2004 → $0.200; × 5 = $1.000 (not 1.002)
    r = run_case({**US45V, "lifecycle_kg_per_kg": 1.2, "prevailing_wage": True})
    assert r["credit_usd_per_kg"] == 1.0


def test_45v_negative_lifecycle_rate_is_valid_and_years_are_checked():
    r = run_case({**US45V, "lifecycle_kg_per_kg": -0.8, "production_year": 2024})
    assert r["tier_share"] == 1.0 and r["credit_usd_per_kg"] == 0.622
    assert recompute(r["trace"])[1] == r["trace_sha256"]
    with pytest.raises(CaseError, match="production_year"):
        run_case({**US45V, "lifecycle_kg_per_kg": 1, "production_year": 2031})
    with pytest.raises(CaseError, match="inflation_adjustment_factor"):
        run_case(
            {
                **US45V,
                "lifecycle_kg_per_kg": 1,
                "production_year": 2024,
                "inflation_adjustment_factor": 1.1,
            }
        )
    # the explicit factor still works alone: 0.60 × 1.0364 = 0.62184 → 0.622
    alone = run_case({**US45V, "lifecycle_kg_per_kg": 0.1, "inflation_adjustment_factor": 1.0364})
    assert alone["base_usd_per_kg"] == 0.622


# ------------------------------------------------------------------ what a mutation run found


def test_period_starts_name_one_period_once_and_seconds_count():
    # Two starts of the same local month (the offsets differ, so the instants increase).
    with pytest.raises(CaseError, match="same month twice") as exc:
        run_case(
            base_periods("monthly", ["2029-03-01T00:00:00+02:00", "2029-03-01T00:00:00+01:00"])
        )
    assert exc.value.key == "period_start[1]"
    with pytest.raises(CaseError, match="increasing") as exc:
        run_case(base_periods("hourly", ["2030-05-01T10:00:00+02:00", "2030-05-01T10:00:00+02:00"]))
    assert exc.value.key == "period_start[1]"
    with pytest.raises(CaseError, match="not on the hour") as exc:
        run_case(base_periods("hourly", ["2030-05-01T10:00:30+02:00"]))
    assert exc.value.key == "period_start[0]"
    with pytest.raises(CaseError) as exc:
        run_case(base_periods("hourly", ["2030-05-01T10:00:00"]))  # no offset: no local time
    assert exc.value.key == "period_start[0]" and "UTC offset" in exc.value.expected


def test_negative_electricity_is_refused_with_its_index():
    with pytest.raises(CaseError) as exc:
        run_case(
            {
                **RFNBO,
                "period": "monthly",
                "renewable_electricity_mwh": [1, -2],
                "grid_electricity_mwh": [0, 0],
                "grid_intensity_g_per_kwh": [10, 10],
            }
        )
    assert exc.value.key == "renewable_electricity_mwh[1]"


def test_a_period_without_hydrogen_has_no_verdict_and_its_emissions_are_reported():
    # Period 0: 1 MWh renewable → 1800 MJ, 0 g; period 1: no electricity into the
    # electrolyser, 0.2 MWh auxiliary at 500 g/kWh = 100 kg CO2e made by no hydrogen.
    r = run_case(
        {
            **RFNBO,
            "period": "hourly",
            "renewable_electricity_mwh": [1, 0],
            "grid_electricity_mwh": [0, 0],
            "auxiliary_grid_electricity_mwh": [0, 0.2],
            "grid_intensity_g_per_kwh": [500, 500],
        }
    )
    assert r["periods"][1]["ghg_intensity_g_per_mj"] is None
    assert r["periods"][1]["passes"] is None
    assert r["passes"] is True and r["failing_periods"] == []
    assert_allclose(r["unattributed_emissions_kg"], 100)
    assert r["ghg_intensity_g_per_mj"] == 0.0
    assert recompute(r["trace"])[1] == r["trace_sha256"]


def test_45v_ties_round_half_up_at_both_steps():
    # The platform reads "rounded to the nearest multiple of 0.1 cent" (§45V(b)(1), (b)(3))
    # with ties away from zero, as the IRS does for its published amounts.
    # Base: 0.60 × 1.0475 = 0.6285 → 0.629 (half-even would give 0.628).
    base = run_case({**US45V, "lifecycle_kg_per_kg": 0.1, "inflation_adjustment_factor": 1.0475})
    assert base["base_usd_per_kg"] == 0.629 and base["credit_usd_per_kg"] == 0.629
    # Amount: 0.60 × 1.0433 = 0.62598 → 0.626; 25 % × 0.626 = 0.1565 → 0.157 (not 0.156).
    amount = run_case({**US45V, "lifecycle_kg_per_kg": 2.0, "inflation_adjustment_factor": 1.0433})
    assert amount["base_usd_per_kg"] == 0.626
    assert amount["applicable_amount_usd_per_kg"] == 0.157


def test_full_capture_is_a_valid_fraction_and_more_is_not():
    r = run_case({"methodology": "hydrogen.smr", "natural_gas_gj_per_t": 165, "capture_rate": 1.0})
    assert r["see_direct_t_per_t"] == 0.0
    with pytest.raises(CaseError) as exc:
        run_case({"methodology": "hydrogen.smr", "natural_gas_gj_per_t": 165, "capture_rate": 1.01})
    assert exc.value.key == "capture_rate"
