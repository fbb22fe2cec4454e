"""hydrogen.rfnbo, hydrogen.us45v and hydrogen.smr on cases worked by hand
(docs/method-hydrogen.md)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies import METHODOLOGIES, recompute, run_case
from methodologies.errors import CaseError
from methodologies.hydrogen import rfnbo_periods, us45v_share

RFNBO = {"methodology": "hydrogen.rfnbo", "electrolyser_efficiency": 0.6}


def test_the_three_ids_are_registered():
    assert {"hydrogen.rfnbo", "hydrogen.us45v", "hydrogen.smr"} <= set(METHODOLOGIES)


def test_a_month_that_passes():
    # 900 MWh renewable + 100 MWh grid at 300 g/kWh, η = 0.6 (LHV):
    # H2 = 1000 MWh × 3600 MJ/MWh × 0.6 = 2 160 000 MJ = 18 000 kg (120 MJ/kg)
    # Em = 100 MWh × 1000 kWh/MWh × 300 g/kWh = 30 000 000 g → 13.888… g/MJ ≤ 28.2
    r = run_case(
        {
            **RFNBO,
            "period": "monthly",
            "year": 2029,
            "renewable_electricity_mwh": [900],
            "grid_electricity_mwh": [100],
            "grid_intensity_g_per_kwh": [300],
        }
    )
    assert_allclose(r["ghg_intensity_g_per_mj"], 30e6 / 2.16e6)
    assert_allclose(r["ghg_intensity_kg_per_kg"], 30e6 / 2.16e6 * 0.12)
    assert_allclose(r["hydrogen_kg"], 18_000)
    assert_allclose(r["rfnbo_share"], 0.9)
    assert r["passes"] is True
    assert r["temporal_rule"] == "monthly"
    assert r["threshold_g_per_mj"] == 28.2


def test_an_hour_that_fails():
    # 1 MWh renewable + 1 MWh grid at 400 g/kWh in an hour of 2030:
    # H2 = 2 × 3600 × 0.6 = 4320 MJ; Em = 1 × 1000 × 400 = 400 000 g → 92.59 g/MJ > 28.2
    r = run_case(
        {
            **RFNBO,
            "period": "hourly",
            "period_start": ["2030-03-01T05:00:00+00:00"],
            "renewable_electricity_mwh": [1],
            "grid_electricity_mwh": [1],
            "grid_intensity_g_per_kwh": [400],
        }
    )
    assert_allclose(r["ghg_intensity_g_per_mj"], 400_000 / 4320)
    assert r["passes"] is False and r["periods"][0]["passes"] is False
    # The hour fails, so none of its hydrogen is RFNBO, though half its electricity is
    # renewable (DR 2023/1185 Annex A pt 1; DR 2023/1184 Art. 6).
    assert r["rfnbo_share"] == 0.0 and r["periods"][0]["rfnbo_share"] == 0.5
    assert r["failing_periods"] == [0]
    assert r["temporal_rule"] == "hourly"
    assert r["periods"][0]["start"] == "2030-03-01T05:00:00Z"


def test_a_mixed_case_across_the_2030_switch_with_auxiliary_electricity():
    # hour 0 (2029-12-31 23:00 UTC): 10 MWh renewable → 21 600 MJ, 0 g, share 1
    # hour 1 (2030-01-01 00:00 UTC): 10 MWh grid + 1 MWh auxiliary at 500 g/kWh
    #   → 21 600 MJ, 11 × 1000 × 500 = 5 500 000 g, share 0
    # total 5.5e6 / 43 200 = 127.3 g/MJ (fails); RFNBO share (180 kg × 1 + 180 × 0) / 360
    r = run_case(
        {
            **RFNBO,
            "period": "hourly",
            "period_start": ["2029-12-31T23:00:00Z", "2030-01-01T00:00:00Z"],
            "renewable_electricity_mwh": [10, 0],
            "grid_electricity_mwh": [0, 10],
            "grid_intensity_g_per_kwh": [500, 500],
            "auxiliary_grid_electricity_mwh": [0, 1],
        }
    )
    assert_allclose(r["ghg_intensity_g_per_mj"], 5.5e6 / 43_200)
    assert_allclose(r["rfnbo_share"], 0.5)
    assert_allclose(r["rfnbo_hydrogen_kg"], 180)
    assert [p["passes"] for p in r["periods"]] == [True, False]
    assert r["temporal_rule"] == "monthly and hourly"
    assert r["passes"] is False


def test_auxiliary_electricity_adds_emissions_but_no_hydrogen():
    base = {
        **RFNBO,
        "period": "monthly",
        "renewable_electricity_mwh": [100],
        "grid_electricity_mwh": [0],
        "grid_intensity_g_per_kwh": [200],
    }
    without = run_case(base)
    with_aux = run_case({**base, "auxiliary_grid_electricity_mwh": [10]})
    assert with_aux["hydrogen_kg"] == without["hydrogen_kg"]
    assert without["ghg_intensity_g_per_mj"] == 0.0
    assert_allclose(with_aux["ghg_intensity_g_per_mj"], 10 * 1000 * 200 / (100 * 3600 * 0.6))
    # 2 000 000 g / 216 000 MJ = 9.26 g/MJ ≤ 28.2: the month passes. The share counts the
    # electricity that goes into the hydrogen (100 MWh, all renewable): auxiliary
    # electricity adds emissions but does not dilute it (docs/method-hydrogen.md).
    assert with_aux["rfnbo_share"] == 1.0


def test_monthly_periods_from_2030_are_refused_and_no_year_leaves_the_rule_open():
    case = {
        **RFNBO,
        "period": "monthly",
        "renewable_electricity_mwh": [1],
        "grid_electricity_mwh": [0],
        "grid_intensity_g_per_kwh": [100],
    }
    with pytest.raises(CaseError, match="hourly"):
        run_case({**case, "year": 2030})
    assert run_case(case)["temporal_rule"] is None  # the docs/interfaces.md example has no year
    with pytest.raises(CaseError, match="grid_electricity_mwh"):
        run_case({**case, "grid_electricity_mwh": [0, 1]})


def test_rfnbo_trace_recomputes_byte_for_byte():
    r = run_case(
        {
            **RFNBO,
            "period": "monthly",
            "year": 2027,
            "renewable_electricity_mwh": [900, 700.5],
            "grid_electricity_mwh": [100, 300],
            "grid_intensity_g_per_kwh": [300, 212.25],
        }
    )
    _, sha = recompute(r["trace"])
    assert sha == r["trace_sha256"]
    assert r["trace"]["methodology"] == {"id": "hydrogen.rfnbo", "version": "2023.1185.1"}


def test_rfnbo_periods_vectorise_over_installations_and_hours():
    rng = np.random.default_rng(5)
    ren, grid, aux = (rng.uniform(0, 5, (20, 8760)) for _ in range(3))
    intensity = rng.uniform(0, 600, 8760)
    batch = rfnbo_periods(ren, grid, aux, intensity, 0.65)
    one = rfnbo_periods(ren[7], grid[7], aux[7], intensity, 0.65)
    for key in ("hydrogen_kg", "emissions_g", "share", "rfnbo_kg"):
        assert_allclose(batch[key][7], one[key])
    assert batch["hydrogen_kg"].shape == (20, 8760)


@pytest.mark.parametrize(
    ("rate", "share"),
    [
        (0.0, 1.0),
        (0.4499, 1.0),
        (0.45, 0.334),
        (1.4999, 0.334),
        (1.5, 0.25),
        (2.4999, 0.25),
        (2.5, 0.2),
        (4.0, 0.2),
        (4.0001, 0.0),
    ],
)
def test_45v_tier_boundaries(rate, share):
    # 26 U.S.C. §45V(b)(2): < 0.45; 0.45–< 1.5; 1.5–< 2.5; 2.5–≤ 4
    assert float(us45v_share(rate)) == share
    r = run_case({"methodology": "hydrogen.us45v", "lifecycle_kg_per_kg": rate})
    assert r["tier_share"] == share
    # Notice 2024-45 (2023, factor 1): $0.600, $0.200, $0.150, $0.120 per kg
    published = {1.0: 0.6, 0.334: 0.2, 0.25: 0.15, 0.2: 0.12, 0.0: 0.0}
    assert r["credit_usd_per_kg"] == published[share]


def test_45v_design_example_with_prevailing_wage():
    # docs/method-hydrogen.md and docs/interfaces.md: 1.2 kg/kg with prevailing wage → tier
    # 0.334; the applicable
    # amount 0.334 × $0.60 = 0.2004 is rounded to the nearest 0.1 cent, $0.200, before the
    # × 5 (26 U.S.C. §45V(b)(1), (e)(1)): 1.000 USD/kg, the figure "1.0" of docs/interfaces.md.
    r = run_case(
        {
            "methodology": "hydrogen.us45v",
            "lifecycle_kg_per_kg": 1.2,
            "prevailing_wage": True,
            "production_kg": 1000,
        }
    )
    assert r["tier_share"] == 0.334
    assert r["applicable_amount_usd_per_kg"] == 0.2
    assert r["credit_usd_per_kg"] == 1.0
    assert r["credit_usd"] == 1000.0
    assert recompute(r["trace"])[1] == r["trace_sha256"]
    top = run_case(
        {"methodology": "hydrogen.us45v", "lifecycle_kg_per_kg": 0.3, "prevailing_wage": True}
    )
    assert top["credit_usd_per_kg"] == 3.0


def test_smr_without_capture_and_atr_with_capture():
    # 165 GJ natural gas per t H2 = 0.165 TJ × 56.1 tCO2/TJ = 9.2565 tCO2/t
    smr = run_case({"methodology": "hydrogen.smr", "natural_gas_gj_per_t": 165})
    assert_allclose(smr["see_direct_t_per_t"], 9.2565)
    assert smr["direct_only"] is True and smr["see_total_t_per_t"] == smr["see_direct_t_per_t"]
    # ATR 0.17 TJ/t, 95 % captured, 1.2 MWh/t at 0.4 t/MWh, 1 % methane leakage:
    # direct 0.17 × 56.1 × 0.05 = 0.47685; indirect 0.48 (reported, not in the CBAM total);
    # upstream 0.17 / 0.048 t gas × 0.01 × 29.8 = 1.055416…
    atr = run_case(
        {
            "methodology": "hydrogen.smr",
            "technology": "atr",
            "natural_gas_tj_per_t": 0.17,
            "capture_rate": 0.95,
            "electricity_mwh_per_t": 1.2,
            "electricity_ef_t_per_mwh": 0.4,
            "methane_leakage_rate": 0.01,
        }
    )
    assert_allclose(atr["see_direct_t_per_t"], 0.17 * 56.1 * 0.05)
    assert_allclose(atr["see_indirect_t_per_t"], 0.48)
    assert_allclose(atr["see_total_t_per_t"], 0.17 * 56.1 * 0.05)
    assert_allclose(atr["upstream_t_per_t"], 0.17 / 0.048 * 0.01 * 29.8)
    assert_allclose(atr["lifecycle_kg_per_kg"], 0.47685 + 0.48 + 0.17 / 0.048 * 0.298)
    assert recompute(atr["trace"])[1] == atr["trace_sha256"]
    with pytest.raises(CaseError):
        run_case({"methodology": "hydrogen.smr", "natural_gas_gj_per_t": 1, "capture_rate": 2})
