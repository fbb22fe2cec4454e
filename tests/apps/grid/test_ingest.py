"""`manage.py ingest grid|factors` end to end on PostgreSQL: every format, re-ingest,
corrections, factor validity, the intensity store and its gap rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from apps.evidence.models import IngestRun
from apps.grid import store
from apps.grid.models import EmissionFactor, GridAverage, GridStoreFile, GridZone, IntensitySeries
from apps.grid.selectors import factor_list, intensity_slice, mix_slice
from methodologies import grid as g
from tests.apps.grid.conftest import (
    EMBER,
    ENTSOE,
    FACTORS_CSV,
    IFI,
    PT_WEEK,
    hourly_csv,
    ingest,
)

pytestmark = pytest.mark.services
UTC = dt.UTC


@pytest.fixture
def factors(postgres_tx, tmp_path):
    """The real library's rows of the zones these tests use, plus the global defaults
    (a subset of emission_factors_flat.csv, values unchanged: faster than all 7,387)."""
    lines = FACTORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    zones = ("_DEFAULT,", "DE,", "FI,", "BE,", "SE-SE4,", "NO-NO5,")
    subset = tmp_path / "emission_factors_subset.csv"
    subset.write_text(
        lines[0] + "".join(line for line in lines[1:] if line.startswith(zones)), encoding="utf-8"
    )
    return ingest("factors", subset)


def _hours(zone: str, start: str, end: str) -> pd.DataFrame:
    return intensity_slice(
        zone=zone,
        start=pd.Timestamp(start, tz="UTC").to_pydatetime(),
        end=pd.Timestamp(end, tz="UTC").to_pydatetime(),
    ).set_index("time_utc")


def test_the_factor_library_loads_and_reingesting_it_is_a_no_op(postgres_tx):
    # emission_factors_flat.csv has 7,387 entries (fixtures/grid/README.md).
    loaded = ingest("factors", FACTORS_CSV)
    assert (loaded["accepted"], loaded["rejected"], loaded["duplicates"]) == (7387, 0, 0)
    assert loaded["exit"] == 0
    again = ingest("factors", FACTORS_CSV)
    assert (again["accepted"], again["duplicates"]) == (0, 7387)
    assert EmissionFactor.objects.count() == 7387
    # zones/DE.yaml holds the same 82 entries as the flat CSV's DE rows: all duplicates.
    de = ingest("factors", FACTORS_CSV.parent / "zones" / "DE.yaml")
    assert (de["accepted"], de["duplicates"]) == (0, 82)


def test_a_factor_is_valid_from_its_date_until_the_next_entry(factors):
    # DE direct coal (zones/DE.yaml): 1060.91 from 2023-01-01, 1080.4 from 2024-01-01,
    # 1052.69 from 2025-01-01 ("EU-ETS 2025, ENTSO-E <year>").
    def coal(day: str) -> float:
        at = dt.datetime.fromisoformat(day).replace(tzinfo=UTC)
        rows = factor_list(zone="DE", at=at).filter(kind="direct", mode="coal")
        assert [r.zone for r in rows] == ["DE", "_DEFAULT"]  # override and global default
        return rows[0].value_g_per_kwh

    assert coal("2023-12-31T23:00") == 1060.91
    assert coal("2024-01-01T00:00") == 1080.4
    assert coal("2024-06-01T00:00") == 1080.4
    assert coal("2025-03-01T00:00") == 1052.69
    entry = EmissionFactor.objects.get(zone="DE", kind="direct", mode="coal", valid_from__year=2024)
    assert entry.valid_to == dt.datetime(2025, 1, 1, tzinfo=UTC)
    latest = EmissionFactor.objects.get(
        zone="DE", kind="direct", mode="coal", valid_from__year=2025
    )
    assert latest.valid_to is None
    # The global default (defaults.yaml: coal 760, IPCC 2014) has no date: always valid.
    default = EmissionFactor.objects.get(zone="_DEFAULT", kind="direct", mode="coal")
    assert (default.valid_from, default.valid_to, default.value_g_per_kwh) == (None, None, 760.0)


def test_entsoe_pt15m_a03_generation_becomes_hourly_intensity_from_mix_times_factors(factors):
    summary = ingest("grid", ENTSOE / "FI_production.xml")
    # 12 series × 288 quarter-hours (A03 expanded) → 72 hours of FI.
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (72, 0, 0)
    hour = _hours("FI", "2025-10-21 12:00", "2025-10-21 13:00").iloc[0]
    assert hour["provenance"] == "computed"
    # Worked by hand: hourly means of the four quarter-hours per mode (e.g. wind
    # (4110.7 + 4101.7 + 4015.0 + 4022.4) / 4 = 4062.45 MW) and the direct factors valid on
    # 2025-10-21: FI coal 1050.57, gas 389.72, oil 826.11 (ENTSO-E 2025 entries), unknown 575
    # (global default), biomass/hydro/nuclear/solar/wind 0.
    generation = {
        "biomass": 785.9675, "coal": 122.3525, "gas": 14.7, "hydro": 1007.3875,
        "nuclear": 4175.35, "oil": 1.035, "solar": 203.6175, "unknown": 139.9225,
        "wind": 4062.45,
    }  # fmt: skip
    emitted = 122.3525 * 1050.57 + 14.7 * 389.72 + 1.035 * 826.11 + 139.9225 * 575.0
    assert_allclose(hour["direct"], emitted / sum(generation.values()), rtol=1e-12)
    series = IntensitySeries.objects.get(zone__key="FI", year=2025)
    assert (series.hours, series.computed, series.gap_filled) == (72, 72, 0)
    mix = mix_slice(zone="FI", year=2025)
    assert_allclose(mix["generation"]["wind"][0], 4062.45)


def test_reingesting_an_entsoe_file_is_a_no_op(factors):
    first = ingest("grid", ENTSOE / "SE-SE4_production.xml")
    again = ingest("grid", ENTSOE / "SE-SE4_production.xml")
    assert first["file_sha256"] == again["file_sha256"]
    assert (again["accepted"], again["duplicates"]) == (0, first["accepted"])
    assert IntensitySeries.objects.get(zone__key="SE-SE4").hours == first["accepted"]


def test_the_intensity_of_an_hour_uses_the_factor_valid_at_that_hour(factors, tmp_path):
    ingest("grid", ENTSOE / "BE_entsoe_production.xml")
    before = _hours("BE", "2024-01-01 00:00", "2024-01-01 02:00")["direct"].to_numpy()
    # A new BE gas factor valid from 01:00: hour 00 keeps the 2024 entry (385.79, zones/BE),
    # hour 01 takes 500.
    library = tmp_path / "BE.yaml"
    library.write_text(
        "emissionFactors:\n  direct:\n    gas:\n"
        "      - datetime: '2024-01-01T01:00:00'\n        source: test override\n"
        "        value: 500\n",
        encoding="utf-8",
    )
    loaded = ingest("factors", library)
    assert loaded["accepted"] == 1
    old = EmissionFactor.objects.get(
        zone="BE", kind="direct", mode="gas", valid_from=dt.datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert old.valid_to == dt.datetime(2024, 1, 1, 1, tzinfo=UTC)
    # The stored mix is recomputed when the factor arrives (issue #15 item 18; before, the
    # ENTSO-E file had to be ingested again): hour 01 is corrected, hour 00 unchanged.
    after = _hours("BE", "2024-01-01 00:00", "2024-01-01 02:00")["direct"].to_numpy()
    assert after[0] == before[0]
    # Hour 01, by hand: generation into the zone 73 + 550 + 0 + 0 + 47 + 3948 + 0 + 249 +
    # 2100 + 2155 + 595 + 25 = 9742 MW (pumping, "out", left out); gas 550 MW moves from
    # 385.79 to 500 gCO2eq/kWh.
    assert_allclose(after[1] - before[1], 550 * (500 - 385.79) / 9742, rtol=1e-9)
    # Ingesting the ENTSO-E file again now changes nothing.
    again = ingest("grid", ENTSOE / "BE_entsoe_production.xml")
    assert (again["accepted"], again["duplicates"]) == (0, 2)


# FI_production.xml, hour 2025-10-21 12:00, worked by hand (see the test above): hourly
# means of the quarter-hours per mode and the direct factors valid on 2025-10-21.
FI_NOON_GENERATION = {
    "biomass": 785.9675, "coal": 122.3525, "gas": 14.7, "hydro": 1007.3875,
    "nuclear": 4175.35, "oil": 1.035, "solar": 203.6175, "unknown": 139.9225,
    "wind": 4062.45,
}  # fmt: skip
FI_NOON_DIRECT = (122.3525 * 1050.57 + 14.7 * 389.72 + 1.035 * 826.11 + 139.9225 * 575.0) / sum(
    FI_NOON_GENERATION.values()
)


def _library(tmp_path, name: str, zones: tuple[str, ...]):
    lines = FACTORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    subset = tmp_path / name
    subset.write_text(
        lines[0] + "".join(line for line in lines[1:] if line.startswith(zones)), encoding="utf-8"
    )
    return subset


def test_a_mix_ingested_before_any_factor_library_is_kept_and_computed_when_factors_arrive(
    postgres_tx, tmp_path
):
    """Issue #15 item 18: the generation mix is stored, the run names the hours that lack
    factors, and the factor library's ingest computes their intensity."""
    summary = ingest("grid", ENTSOE / "FI_production.xml")
    assert summary["exit"] == 0, summary.get("failure")
    assert summary["accepted"] == 0  # no intensity hour yet
    gaps = [e for e in summary["errors"] if e["field"] == "factor"]
    # FI_production.xml: 72 hours from 2025-10-21 12:00 UTC, every one generating.
    assert [e["value"] for e in gaps] == ["FI 2025-10-21T12:00Z/2025-10-24T12:00Z (72 h)"]
    assert "no emission factor valid for biomass, coal, gas" in gaps[0]["reason"]
    assert "ingest factors" in gaps[0]["reason"]
    assert_allclose(mix_slice(zone="FI", year=2025)["generation"]["wind"][0], 4062.45)
    assert not IntensitySeries.objects.filter(zone__key="FI").exists()

    # FI's own entries only: the modes whose factor is the global default ("unknown",
    # 575 g/kWh direct) still lack one, and the run of the library says how many hours.
    fi_only = ingest("factors", _library(tmp_path, "fi.csv", ("FI,",)))
    assert fi_only["exit"] == 0
    assert not IntensitySeries.objects.filter(zone__key="FI").exists()

    # The global defaults complete the library: all 72 hours are computed, from the mix.
    ingest("factors", _library(tmp_path, "defaults.csv", ("_DEFAULT,",)))
    series = IntensitySeries.objects.get(zone__key="FI", year=2025)
    assert (series.hours, series.computed, series.gap_filled, series.has_mix) == (72, 72, 0, True)
    assert series.evidence_sha256 == [summary["file_sha256"]]  # the hours' own evidence
    hour = _hours("FI", "2025-10-21 12:00", "2025-10-21 13:00").iloc[0]
    assert hour["provenance"] == "computed"
    assert_allclose(hour["direct"], FI_NOON_DIRECT, rtol=1e-12)


def test_a_lookup_names_the_hours_whose_mix_waits_for_factors(postgres_tx):
    from apps.grid.selectors import hourly_intensity_for

    ingest("grid", ENTSOE / "FI_production.xml")
    times = pd.date_range("2025-10-21 12:00", periods=72, freq="h", tz="UTC")
    # No factor, no country or world average: nothing to answer with, and the reason
    # names the 72 generating hours that wait for their factors.
    with pytest.raises(g.GridError) as refused:
        hourly_intensity_for(zone="FI", country="FI", times=times, kind="direct")
    assert (
        "zone FI: no hours of this zone in the store; 72 hours have a stored generation mix "
        "but no emission factor to compute their intensity"
    ) in str(refused.value)
    # Two hours outside the file: no mix there, nothing said.
    later = pd.date_range("2025-11-01 00:00", periods=2, freq="h", tz="UTC")
    with pytest.raises(g.GridError) as other:
        hourly_intensity_for(zone="FI", country="FI", times=later, kind="direct")
    assert "generation mix" not in str(other.value)


def test_the_order_of_the_mix_and_factor_ingests_does_not_matter(postgres_tx, tmp_path):
    library = _library(tmp_path, "subset.csv", ("_DEFAULT,", "FI,"))
    # Mix first, then factors ...
    ingest("grid", ENTSOE / "FI_production.xml")
    ingest("factors", library)
    late = store.load_intensity("FI", 2025)
    # ... against factors first, then the mix, in a fresh store and database state.
    IntensitySeries.objects.all().delete()
    GridStoreFile.objects.filter(name__contains="/FI/").delete()
    for folder in ("intensity", "mix"):
        for path in (store.root() / folder / "FI").glob("*.nc"):
            path.unlink()
    again = ingest("grid", ENTSOE / "FI_production.xml")
    assert again["accepted"] == 72 and not [e for e in again["errors"] if e["field"] == "factor"]
    early = store.load_intensity("FI", 2025)
    for name in ("direct", "lifecycle", "provenance", "evidence"):
        np.testing.assert_array_equal(late[name].values, early[name].values, err_msg=name)
    assert_allclose(
        early["direct"].sel(time="2025-10-21T12:00").values[0], FI_NOON_DIRECT, rtol=1e-12
    )


def test_load_and_day_ahead_prices_join_the_zone_mix_file(postgres_tx):
    load = ingest("grid", ENTSOE / "DK-DK1_consumption.xml")
    price = ingest("grid", ENTSOE / "ES_day_ahead_price.xml")
    assert load["accepted"] == 47
    # 240 slots (PT60M and PT15M periods) → 96 hours.
    assert price["accepted"] == 96
    assert ingest("grid", ENTSOE / "ES_day_ahead_price.xml")["duplicates"] == 96
    assert "price_eur_per_mwh" in mix_slice(zone="ES", year=2025)
    assert len(mix_slice(zone="DK-DK1", year=2023)["load_mw"]) == 47
    assert GridZone.objects.get(key="DK-DK1").country == "DK"


def test_the_portugal_hourly_export_is_stored_as_measured_with_estimates_flagged(postgres_tx):
    summary = ingest("grid", PT_WEEK)
    assert (summary["accepted"], summary["rejected"]) == (168, 0)
    hours = _hours("PT", "2024-01-01", "2024-01-08")
    # Line 2 of the file: 2024-01-01 00:00, direct 92.93, life cycle 118.8.
    first = hours.loc[pd.Timestamp("2024-01-01 00:00", tz="UTC")]
    assert (first["direct"], first["lifecycle"], first["provenance"]) == (
        92.93,
        118.8,
        "measured",
    )
    estimated = hours[hours["fill_method"] == "source_estimate"]
    from ingest.emaps_hourly import read_emaps_hourly

    _, meta = read_emaps_hourly(PT_WEEK)
    assert len(estimated) == meta["estimated_rows"] > 0
    assert (estimated["provenance"] == "gap_filled").all()
    again = ingest("grid", PT_WEEK)
    assert (again["accepted"], again["duplicates"]) == (0, 168)


def test_a_changed_hour_is_a_correction_and_the_rest_are_duplicates(postgres_tx, tmp_path):
    text = PT_WEEK.read_text(encoding="utf-8").replace(
        "2024-01-01 00:00:00,Portugal,Portugal,PT,92.93,",
        "2024-01-01 00:00:00,Portugal,Portugal,PT,99.5,",
    )
    ingest("grid", PT_WEEK)
    changed = tmp_path / "PT_corrected.csv"
    changed.write_text(text, encoding="utf-8")
    summary = ingest("grid", changed)
    assert (summary["accepted"], summary["duplicates"]) == (1, 167)
    assert IngestRun.objects.latest("pk").corrections == 1
    assert _hours("PT", "2024-01-01 00:00", "2024-01-01 01:00")["direct"].iloc[0] == 99.5
    series = IntensitySeries.objects.get(zone__key="PT", year=2024)
    assert len(series.evidence_sha256) == 2


def test_gaps_are_filled_by_the_documented_rule_and_refilled_when_data_arrives(
    postgres_tx, tmp_path
):
    start = pd.Timestamp("2024-03-01 00:00")
    times = pd.date_range(start, periods=24 * 28, freq="h")
    values = 100 + 50 * np.sin(np.arange(len(times)) * 2 * np.pi / 24)
    gap_short = [300, 301]  # 2 h with values on both sides → linear
    gap_long = list(range(400, 430))  # 30 h → same hour of week (±1, ±2 weeks)
    keep = np.setdiff1d(np.arange(len(times)), gap_short + gap_long)
    rows = [(times[i].strftime("%Y-%m-%d %H:00"), values[i], values[i] * 1.2) for i in keep]
    summary = ingest("grid", hourly_csv(tmp_path / "xx.csv", "XX-TEST", rows))
    assert summary["accepted"] == len(keep)
    hours = _hours("XX-TEST", "2024-03-01", "2024-03-29")
    assert (hours["fill_method"].iloc[gap_short] == "linear").all()
    assert (hours["fill_method"].iloc[gap_long] == "same_hour_of_week").all()
    assert (hours["provenance"].iloc[gap_short + gap_long] == "gap_filled").all()
    # Linear between hours 299 and 302 (rule 1 of methodologies.grid).
    assert_allclose(
        hours["direct"].iloc[300], values[299] + (values[302] - values[299]) / 3, rtol=1e-12
    )
    # Hour 400 (Sunday 17 March, 16:00): the mean of the same hour 1 and 2 weeks before and
    # after, those that exist (the series ends before 31 March).
    same = [values[400 + k * 168] for k in (-2, -1, 1, 2) if 400 + k * 168 < len(values)]
    assert len(same) == 3
    assert_allclose(hours["direct"].iloc[400], np.mean(same), rtol=1e-12)
    series = IntensitySeries.objects.get(zone__key="XX-TEST")
    assert series.gap_filled == 32

    # The missing hours arrive: they become measured and nothing is filled any more.
    late = [(times[i].strftime("%Y-%m-%d %H:00"), values[i], values[i] * 1.2) for i in gap_long]
    ingest("grid", hourly_csv(tmp_path / "late.csv", "XX-TEST", late))
    series.refresh_from_db()
    assert (series.gap_filled, series.measured) == (2, len(keep) + 30)


def test_country_averages_load_from_ember_and_ifi(postgres_tx):
    ember = ingest("grid", EMBER)
    ifi = ingest("grid", IFI)
    assert (ember["accepted"], ifi["accepted"]) == (222, 233)
    # average-intensities.json: World 2024, 472.94 gCO2/kWh; Portugal 2024, 111.8.
    world = GridAverage.objects.get(basis="ember_average", code="World")
    assert (world.year, world.value_g_per_kwh, world.kind) == (2024, 472.94, "lifecycle")
    assert GridAverage.objects.get(basis="ember_average", iso2="PT").value_g_per_kwh == 111.8
    assert GridAverage.objects.filter(basis="ifi_operating_margin").count() == 233
    assert ingest("grid", EMBER)["duplicates"] == 222


def test_a_file_of_no_known_grid_format_fails_with_its_reason(postgres_tx, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    summary = ingest("grid", path)
    assert summary["exit"] == 1
    assert "not ENTSO-E XML" in summary["failure"]


def test_the_store_opens_one_zone_lazily_without_reading_values(postgres_tx, tmp_path):
    rows = [(f"2024-01-01 {h:02d}:00", 10.0 + h, 12.0 + h) for h in range(24)]
    ingest("grid", hourly_csv(tmp_path / "a.csv", "AA-TEST", rows))
    ingest("grid", hourly_csv(tmp_path / "b.csv", "BB-TEST", rows))
    ds = store.open_intensity(
        ["AA-TEST"],
        start=dt.datetime(2024, 1, 1, 5, tzinfo=UTC),
        end=dt.datetime(2024, 1, 1, 8, tzinfo=UTC),
    )
    assert list(ds["zone"].values) == ["AA-TEST"]
    assert not ds["direct"].variable._in_memory  # a lazy backend array until used
    assert_allclose(ds["direct"].values[0], [15.0, 16.0, 17.0])
    assert int(ds["provenance"].values[0][0]) == g.MEASURED
    ds.close()


def test_the_store_is_the_same_from_another_host(factors, settings, tmp_path):
    """A host with an empty var directory reads the zone-years another host wrote (from the
    database), and a host whose copy is older reads the newer bytes, never its own."""
    ingest("grid", ENTSOE / "FI_production.xml")
    here = store.load_intensity("FI", 2025)
    row = GridStoreFile.objects.get(name="intensity/FI/2025.nc")
    first_sha = row.sha256
    settings.VAR_DIR = tmp_path / "other-host"  # nothing on this host's disk
    there = store.load_intensity("FI", 2025)
    np.testing.assert_array_equal(here["direct"].values, there["direct"].values)
    assert store.mix_years("FI") == [2025]
    assert store.file_sha256(store.intensity_path("FI", 2025)) == first_sha
    # The other host writes a change; the first host's copy is then stale and is replaced.
    changed = there.copy(deep=True)
    changed["direct"].values[0][0] = 1.0
    store.save_intensity(changed, "FI", 2025)
    settings.VAR_DIR = tmp_path / "var"
    assert store.load_intensity("FI", 2025)["direct"].values[0][0] == 1.0
    assert GridStoreFile.objects.get(name="intensity/FI/2025.nc").sha256 != first_sha
