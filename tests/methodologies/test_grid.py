"""methodologies.grid: intensity from a mix × dated factors, gap filling, the fallback chain,
indirect emissions and the NetCDF store. Real inputs come from fixtures/grid/ (see its
README); the readers are used only to load them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose

from ingest.emaps_hourly import read_emaps_hourly
from ingest.emission_factors import factor_at, read_emission_factors
from ingest.entsoe import read_entsoe, to_hourly
from ingest.grid_averages import read_ember
from methodologies import grid
from methodologies.trace import canonical_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "grid"


@pytest.fixture(scope="module")
def factors() -> pd.DataFrame:
    return read_emission_factors(FIXTURES / "electricitymaps" / "emission_factors_flat.csv")[0]


@pytest.fixture(scope="module")
def ember() -> pd.DataFrame:
    return read_ember(FIXTURES / "co2js" / "average-intensities.json")[0]


def test_vectorised_factors_agree_with_the_scalar_lookup(factors):
    times = pd.date_range("2013-06-01", "2026-06-01", freq="97D", tz="UTC")
    for zone, mode, kind in [
        ("DE", "coal", "direct"),
        ("FR", "gas", "lifecycle"),
        ("XX", "oil", "direct"),
    ]:
        values, fallback = grid.factors_at(factors, zone, kind, mode, times)
        for t, v, f in zip(times, values, fallback, strict=True):
            expected = factor_at(factors, zone, mode, kind, t.to_pydatetime())
            assert (v, f) == (expected.value_g_per_kwh, expected.fallback)


def test_intensity_is_the_generation_weighted_factor(factors):
    # DE, one hour of 2024: 100 MW coal + 300 MW wind. zones/DE.yaml direct coal 2024 =
    # 1080.4; wind direct from the table → I = (100 × 1080.4 + 300 × EF_wind) / 400
    when = pd.Timestamp("2024-06-01T12:00Z")
    mix = xr.DataArray(
        [[[100.0, 300.0]]],
        dims=("zone", "time", "mode"),
        coords={"zone": ["DE"], "time": [when.tz_localize(None)], "mode": ["coal", "wind"]},
    )
    ds = grid.intensity_from_mix(mix, factors)
    wind = factor_at(factors, "DE", "wind", "direct", when.to_pydatetime()).value_g_per_kwh
    assert_allclose(ds["direct"].item(), (100 * 1080.4 + 300 * wind) / 400)
    wind_lc = factor_at(factors, "DE", "wind", "lifecycle", when.to_pydatetime()).value_g_per_kwh
    coal_lc = factor_at(factors, "DE", "coal", "lifecycle", when.to_pydatetime()).value_g_per_kwh
    assert_allclose(ds["lifecycle"].item(), (100 * coal_lc + 300 * wind_lc) / 400)
    assert ds["provenance"].item() == grid.COMPUTED


def test_intensity_from_a_real_entsoe_response(factors):
    hourly = to_hourly(read_entsoe(FIXTURES / "entsoe" / "FI_production.xml")[0])
    mix = grid.mix_from_frame(hourly)
    ds = grid.intensity_from_mix(mix, factors)
    assert ds.sizes == {"zone": 1, "time": 72}
    assert (ds["provenance"] == grid.COMPUTED).all()
    assert float(ds["direct"].min()) >= 0 and (ds["lifecycle"] >= ds["direct"]).all()
    # the first hour by hand from the mix and the factors valid then
    first = mix.isel(time=0)
    t = pd.Timestamp(first["time"].item(), tz="UTC").to_pydatetime()
    weights = {str(m): float(first.sel(mode=m).item()) for m in first["mode"].values}
    num = sum(
        g * factor_at(factors, "FI", grid.FACTOR_MODE.get(m, m), "direct", t).value_g_per_kwh
        for m, g in weights.items()
    )
    assert_allclose(ds["direct"].isel(time=0).item(), num / sum(weights.values()))


def _weekly_dataset(hours: int = 24 * 7 * 6) -> xr.Dataset:
    times = pd.date_range("2024-01-01", periods=hours, freq="h", tz="UTC")
    weekly = 200 + 50 * np.sin(2 * np.pi * np.arange(hours) / 168)
    direct = np.stack([weekly, np.linspace(100, 200, hours)])
    return grid.intensity_dataset(
        ["A", "B"], times, direct, direct * 1.2, np.zeros(direct.shape, dtype=np.int8)
    )


def test_gap_filling_follows_the_documented_rules_and_flags_every_value():
    ds = _weekly_dataset()
    holes = ds.copy(deep=True)
    short = slice(500, 503)  # 3 hours: linear
    long = slice(600, 620)  # 20 hours: same hour of week (±1, ±2 weeks)
    for name in ("direct", "lifecycle"):
        holes[name][1, short] = np.nan
        holes[name][0, long] = np.nan
    filled = grid.fill_gaps(holes)
    # zone B is linear in time, so linear interpolation gives back the values
    assert_allclose(filled["direct"][1, short], ds["direct"][1, short])
    assert (filled["fill_method"][1, short] == grid.LINEAR).all()
    # zone A has a weekly period, so the same hour of the surrounding weeks gives it back
    assert_allclose(filled["direct"][0, long], ds["direct"][0, long])
    assert_allclose(filled["lifecycle"][0, long], ds["lifecycle"][0, long])
    assert (filled["fill_method"][0, long] == grid.SAME_HOUR_OF_WEEK).all()
    assert (filled["provenance"][0, long] == grid.GAP_FILLED).all()
    untouched = filled["provenance"].to_numpy() != grid.GAP_FILLED
    assert (filled["provenance"].to_numpy()[untouched] == grid.MEASURED).all()
    assert int((filled["provenance"] == grid.GAP_FILLED).sum()) == 23


def test_a_gap_no_week_reaches_takes_the_annual_mean():
    ds = _weekly_dataset(hours=100)  # shorter than a week: rule 2 has no neighbours
    holes = ds.copy(deep=True)
    holes["direct"][0, 40:60] = np.nan
    filled = grid.fill_gaps(holes)
    kept = np.r_[ds["direct"][0, :40], ds["direct"][0, 60:]]
    assert_allclose(filled["direct"][0, 40:60], kept.mean())
    assert (filled["fill_method"][0, 40:60] == grid.ANNUAL_MEAN).all()
    empty = holes.copy(deep=True)
    empty["direct"][1, :] = np.nan
    assert (grid.fill_gaps(empty)["provenance"][1] == grid.MISSING).all()


def test_an_hourly_export_keeps_the_publishers_estimates_flagged():
    data, _ = read_emaps_hourly(FIXTURES / "electricitymaps" / "PT_2024_hourly_first_week.csv")
    ds = grid.from_hourly_export(data)
    assert ds.sizes == {"zone": 1, "time": 168}
    assert int((ds["provenance"] == grid.MEASURED).sum()) == 155
    assert int((ds["fill_method"] == grid.SOURCE_ESTIMATE).sum()) == 13
    assert ds["direct"].sel(zone="PT").isel(time=0).item() == 92.93


def test_the_fallback_chain_names_each_step(ember):
    ds = _weekly_dataset()
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC)
    zone = grid.lookup_intensity(
        kind="direct", zone="A", country="DE", start=start, end=end, intensity=ds, averages=ember
    )
    assert zone.level == "zone" and zone.kind_used == "direct"
    assert_allclose(
        zone.value_g_per_kwh, ds["direct"].sel(zone="A").isel(time=slice(0, 168)).mean()
    )
    assert zone.detail["hours"] == 168
    # a zone not in the store falls back to the country's Ember average (DEU 2024: 342.06)
    country = grid.lookup_intensity(
        kind="direct",
        zone="DE-XX",
        country="DE",
        start=start,
        end=end,
        intensity=ds,
        averages=ember,
    )
    assert (country.level, country.key, country.value_g_per_kwh) == ("country", "DE", 342.06)
    assert country.kind_requested == "direct" and country.kind_used == "lifecycle"
    assert [s["level"] for s in country.steps] == ["zone", "country"]
    assert country.steps[0] == {
        "level": "zone",
        "key": "DE-XX",
        "found": False,
        "reason": "zone not in the store",
    }
    assert country.valid_from == "2024-01-01"
    # an unknown country falls back to the world average (Ember World 2024: 472.94)
    world = grid.lookup_intensity(
        kind="lifecycle", country="AQ", start=start, end=end, averages=ember
    )
    assert (world.level, world.value_g_per_kwh) == ("world", 472.94)
    assert [s["found"] for s in world.steps] == [False, True]
    # the record goes into a trace as a factor
    item = world.factor_item()
    assert item["value"] == 472.94 and "Ember" in item["source"]
    canonical_bytes({"factors": [item], "record": world.as_dict()})
    with pytest.raises(grid.GridError, match="no grid intensity"):
        grid.lookup_intensity(kind="direct", zone="A", start=start, end=end)


def test_indirect_emissions_annual_monthly_and_hourly():
    hours = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")
    intensity = np.vstack([np.full(8760, 100.0), np.where(hours.month == 1, 500.0, 200.0)])
    # annual: 1000 MWh at the zone's mean intensity, 1 MWh × 1 g/kWh = 0.001 t
    annual = grid.indirect_emissions_t(np.array([1000.0, 1000.0]), np.array([0, 1]), intensity)
    mean_b = (744 * 500 + (8760 - 744) * 200) / 8760
    assert_allclose(annual, [100.0, 1000 * mean_b * 0.001])
    # monthly: 10 MWh in January only, zone B → 10 × 500 × 0.001 = 5 t
    monthly = np.zeros((1, 12))
    monthly[0, 0] = 10.0
    assert_allclose(grid.indirect_emissions_t(monthly, np.array([1]), intensity, hours), [5.0])
    # hourly: random profiles against a plain einsum
    rng = np.random.default_rng(1)
    profile = rng.uniform(0, 3, (130, 8760))
    zones = rng.integers(0, 2, 130)
    expected = np.einsum("ih,ih->i", profile, intensity[zones]) * 0.001
    assert_allclose(grid.indirect_emissions_t(profile, zones, intensity), expected, rtol=1e-12)
    assert grid.indirect_emissions_t(profile, zones, intensity).dtype == np.float64


def test_the_netcdf_store_round_trips_and_opens_a_slice_lazily(tmp_path):
    ds = grid.fill_gaps(_weekly_dataset())
    path = grid.save_intensity(ds, tmp_path / "intensity.nc")
    with netCDF4.Dataset(path) as nc:
        assert nc["direct"].chunking() == [1, ds.sizes["time"]]
        assert nc["provenance"].chunking() == [1, ds.sizes["time"]]
    whole = grid.open_intensity(path)
    xr.testing.assert_identical(whole.load(), ds)
    whole.close()
    start = datetime(2024, 1, 8, tzinfo=UTC)
    end = datetime(2024, 1, 9, tzinfo=UTC)
    part = grid.open_intensity(path, zones=["B"], start=start, end=end)
    assert not isinstance(part["direct"].variable._data, np.ndarray)  # not read yet
    assert part.sizes == {"zone": 1, "time": 24}
    expected = ds["direct"].sel(zone=["B"]).isel(time=slice(168, 192))
    assert_allclose(part["direct"].to_numpy(), expected.to_numpy())
    part.close()
