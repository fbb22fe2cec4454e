"""`manage.py ingest raster` end to end on PostgreSQL: observations per installation agree
with exactextract (the reference of the coverage-fraction pixel rule), on synthetic and real
rasters, with reprojection, overlapping footprints and footprints crossing the edge."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.management import call_command
from numpy.testing import assert_allclose

from apps.audit.models import AuditEvent
from apps.satellite.models import Observation, Scene
from ingest.raster import read_raster
from methodologies.zonal import Grid, ZonalPlan, reproject
from tests.apps.helpers import ingest_json
from tests.apps.satellite.helpers import (
    RASTERS,
    UTM,
    installation_at,
    lonlat_of_pixel,
    write_geotiff,
)
from tests.conftest import service_missing

pytestmark = pytest.mark.services


def ingest_raw(source: str, path) -> tuple[int, dict]:
    """Run the public command; (exit status, its last JSON line)."""
    out = io.StringIO()
    code = 0
    try:
        call_command("ingest", source, str(path), "--json", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def exactextract_stats(raster_path, installations, crs: str):
    """exactextract's count/sum/mean/max on the same footprints, reprojected vertex by vertex
    to the raster's CRS as the platform does."""
    try:
        import exactextract
    except ImportError:  # a test dependency: under CM_REQUIRE_SERVICES=1 this fails
        service_missing("exactextract is not installed")
    geoms = shapely.from_geojson([json.dumps(i.footprint_geojson) for i in installations])
    frame = gpd.GeoDataFrame(
        {"facility_id": [i.pk for i in installations]},
        geometry=reproject(geoms, "EPSG:4326", crs),
        crs=crs,
    )
    table = exactextract.exact_extract(
        str(raster_path),
        frame,
        ["count", "sum", "mean", "max"],
        include_cols=["facility_id"],
        output="pandas",
    )
    # one band: exactextract names the columns without the band prefix
    table = table.rename(columns={op: f"band_1_{op}" for op in ("count", "sum", "mean", "max")})
    return table.set_index("facility_id")


@pytest.fixture
def gradient_tif(tmp_path):
    """200 × 240 float32, value = 0.5·row + 0.01·col² (no symmetry a wrong pixel rule could
    hide behind), one nodata hole."""
    rows, cols = np.mgrid[0:200, 0:240]
    data = (0.5 * rows + 0.01 * cols**2).astype(np.float32)
    data[100:104, 60:64] = -9999.0
    return write_geotiff(
        tmp_path / "gradient.tif",
        data,
        nodata=-9999.0,
        time="2025-03-01T10:30:00Z",
        variable="thermal",
    )


def test_observations_agree_with_exactextract_after_reprojection(postgres, gradient_tif):
    inside = installation_at("IN-1", *lonlat_of_pixel(60.3, 101.7))  # covers the nodata hole
    edge = installation_at("EDGE-1", *lonlat_of_pixel(236.0, 50.0))  # crosses the east edge
    far = installation_at("FAR-1", 10.0, 50.0)  # nowhere near

    summary = ingest_json("raster", gradient_tif)
    assert summary["source"] == "raster"
    assert (summary["accepted"], summary["rejected"]) == (2, 0)

    theirs = exactextract_stats(gradient_tif, [inside, edge], UTM)
    for inst in (inside, edge):
        obs = Observation.objects.get(installation=inst)
        row = theirs.loc[inst.pk]
        # exactextract keeps coverage fractions in float32: agreement ~1e-7; we ask 1e-6.
        assert_allclose(obs.count, row["band_1_count"], rtol=1e-6)
        assert_allclose(obs.sum, row["band_1_sum"], rtol=1e-6)
        assert_allclose(obs.mean, row["band_1_mean"], rtol=1e-6)
        assert obs.max == pytest.approx(row["band_1_max"], rel=1e-7)
        assert obs.pixel_rule == "coverage_fraction"
        assert obs.variable == "thermal"
        assert obs.time.isoformat() == "2025-03-01T10:30:00+00:00"
    assert not Observation.objects.filter(installation=far).exists()

    # A 500 m disc is ≈ 0.9984·π·500² m² = 784,142 m² ≈ 871.3 pixels of 30 m × 30 m
    # (ingest/facilities: the inscribed 64-gon).
    inside_obs = Observation.objects.get(installation=inside)
    assert inside_obs.footprint_px == pytest.approx(0.9984 * np.pi * 500**2 / 900, rel=2e-3)
    # The 16 nodata pixels lie inside: valid fraction below 1, in-raster fraction 1.
    assert inside_obs.in_raster_fraction == pytest.approx(1.0, abs=1e-9)
    assert inside_obs.valid_fraction == pytest.approx(1 - 16 / inside_obs.footprint_px, rel=1e-6)
    # The edge footprint's centre is 4 pixels (120 m) inside the east edge: the circular
    # segment beyond a chord at d = 120 m of a disc of r = 500 m is
    # r²·acos(d/r) − d·√(r² − d²) = 273,852 m², 34.87 % of π·r², so 65.13 % is inside
    # (to ~0.2 %: the 64-gon and the UTM scale factor 0.9996).
    edge_obs = Observation.objects.get(installation=edge)
    assert edge_obs.in_raster_fraction == pytest.approx(0.6513, abs=2e-3)
    assert edge_obs.valid_fraction == pytest.approx(edge_obs.in_raster_fraction)


def test_overlapping_footprints_each_get_their_own_statistics(postgres, gradient_tif):
    # Centres 300 m apart: the two 500 m discs overlap by about half.
    a = installation_at("OV-A", *lonlat_of_pixel(120, 60))
    b = installation_at("OV-B", *lonlat_of_pixel(130, 60))
    ingest_json("raster", gradient_tif)
    theirs = exactextract_stats(gradient_tif, [a, b], UTM)
    obs = {o.installation_id: o for o in Observation.objects.all()}
    for inst in (a, b):
        assert_allclose(obs[inst.pk].sum, theirs.loc[inst.pk, "band_1_sum"], rtol=1e-6)
        assert_allclose(obs[inst.pk].count, theirs.loc[inst.pk, "band_1_count"], rtol=1e-6)
    # Each is measured whole: both count the full disc, and their means differ (the field
    # grows with the column).
    assert obs[a.pk].count == pytest.approx(obs[b.pk].count, rel=1e-3)
    assert obs[b.pk].mean > obs[a.pk].mean


def test_reingesting_the_same_raster_is_a_no_op(postgres, gradient_tif):
    installation_at("RE-1", *lonlat_of_pixel(100, 100))
    first = ingest_json("raster", gradient_tif)
    again = ingest_json("raster", gradient_tif)
    assert again["file_sha256"] == first["file_sha256"]
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert Observation.objects.count() == 1
    assert Scene.objects.count() == 1


def test_coverage_weights_are_computed_once_per_grid(postgres, tmp_path):
    installation_at("TS-1", *lonlat_of_pixel(50, 50))
    for month in (1, 2, 3):
        data = np.full((120, 120), 300.0 + month, dtype=np.float32)
        write_geotiff(tmp_path / f"m{month}.tif", data, time=f"2025-0{month}-01", variable="t")
        ingest_json("raster", tmp_path / f"m{month}.tif")
    payloads = [
        json.loads(bytes(e.data))["payload"]
        for e in AuditEvent.objects.filter(action="ingest.raster").order_by("index")
    ]
    assert [p["coverage_weights_reused"] for p in payloads] == [False, True, True]
    assert len({p["grid_sha256"] for p in payloads}) == 1
    means = Observation.objects.order_by("time").values_list("mean", flat=True)
    assert_allclose(list(means), [301.0, 302.0, 303.0], rtol=1e-12)


def test_real_rgb_byte_tif_through_the_platform(postgres):
    """RGB.byte.tif (rasterio test data, Landsat 7, UTM 18N, nodata 0): a facility inside the
    scene gets per-band statistics equal to exactextract's on the same file."""
    transform = _affine(read_raster(RASTERS / "RGB.byte.tif")[1]["transform"])
    lon, lat = lonlat_of_pixel(400, 350, crs="EPSG:32618", transform=transform)
    inst = installation_at("RGB-1", lon, lat)
    summary = ingest_json("raster", RASTERS / "RGB.byte.tif")
    assert summary["accepted"] == 3  # one observation per band
    theirs = exactextract_stats(RASTERS / "RGB.byte.tif", [inst], "EPSG:32618").loc[inst.pk]
    for band in (1, 2, 3):
        obs = Observation.objects.get(installation=inst, band=band)
        assert_allclose(obs.sum, theirs[f"band_{band}_sum"], rtol=1e-6)
        assert_allclose(obs.mean, theirs[f"band_{band}_mean"], rtol=1e-6)
        assert obs.max == theirs[f"band_{band}_max"]


def test_real_netcdf_is_unpacked_before_zonal_statistics(postgres):
    """gridMET tmmx 2019-01-21 (CF: scale 0.1, offset 220 K, fill 32767): the observation is
    in kelvin and equals the engine's coverage-weighted mean on the unpacked array."""
    data, meta = read_raster(RASTERS / "tmmx_20190121.nc")
    grid = Grid.from_meta(meta)
    # A point in the middle of the grid (geographic CRS: x = lon, y = lat).
    a, _, c, _, e, f = meta["transform"]
    lon, lat = c + a * 700.5, f + e * 300.5
    inst = installation_at("NC-1", lon, lat)
    summary = ingest_json("raster", RASTERS / "tmmx_20190121.nc")
    assert summary["accepted"] == 1
    obs = Observation.objects.get(installation=inst)
    expected = ZonalPlan.build(
        shapely.from_geojson([json.dumps(inst.footprint_geojson)]), grid, crs="EPSG:4326"
    ).apply(data[0])
    assert_allclose(obs.mean, expected.mean[0], rtol=1e-12)
    assert 230 < obs.mean < 310  # kelvin, not packed counts (≈ 100–900)
    assert (obs.units, obs.variable) == ("K", "air_temperature")
    assert obs.time is None  # the file gives its day only in its name


def test_non_epsg_geostationary_raster_is_measured(postgres):
    """goes.tif: +proj=geos (no EPSG code). The footprint is reprojected to it."""
    _, meta = read_raster(RASTERS / "goes.tif")
    assert meta["crs_epsg"] is None
    lon, lat = lonlat_of_pixel(271, 271, crs=meta["crs"], transform=_affine(meta["transform"]))
    inst = installation_at("GEOS-1", lon, lat)
    summary = ingest_json("raster", RASTERS / "goes.tif")
    assert summary["accepted"] == 3
    obs = Observation.objects.filter(installation=inst)
    assert {o.band for o in obs} == {1, 2, 3}
    assert all(o.in_raster_fraction == pytest.approx(1.0) for o in obs)
    assert Scene.objects.get().crs_epsg is None


def _affine(t):
    from rasterio.transform import Affine

    return Affine(*t)


def test_a_vrt_named_tif_is_refused_cleanly(postgres, tmp_path):
    fake = tmp_path / "scene.tif"
    fake.write_text(f'<VRTDataset rasterXSize="1" rasterYSize="1"><!-- {RASTERS} -->')
    code, summary = ingest_raw("raster", fake)
    assert code == 1
    assert "VRT" in summary["failure"]
    assert Scene.objects.count() == 0


def test_a_truncated_geotiff_is_refused_cleanly(postgres, tmp_path, gradient_tif):
    installation_at("TR-1", *lonlat_of_pixel(100, 100))
    raw = gradient_tif.read_bytes()
    half = tmp_path / "half.tif"
    half.write_bytes(raw[: len(raw) // 2])
    code, summary = ingest_raw("raster", half)
    assert code == 1
    assert "truncated or corrupt" in summary["failure"]
    assert Scene.objects.count() == 0
    assert Observation.objects.count() == 0


def test_a_time_stacked_netcdf_gives_one_observation_per_time_step(postgres):
    """PLANET_SCOPE_3D.nc (rioxarray test data): `blue`, 2 time steps × 10 × 10, 3 m
    pixels, EPSG:32722, nodata 0. A declared 12 m × 12 m footprint gets one observation per
    time step, dated, equal to the engine on the unpacked array."""
    from apps.facilities.models import Installation

    data, meta = read_raster(RASTERS / "PLANET_SCOPE_3D.nc")
    box = shapely.box(466_266 + 7.5, 8_084_700 - 19.5, 466_266 + 19.5, 8_084_700 - 7.5)
    lonlat = reproject(np.array([box]), "EPSG:32722", "EPSG:4326")[0]
    inst = Installation.objects.create(
        identifier="PS-1",
        name="Tiny plot",
        country="BR",
        footprint_geojson=json.loads(shapely.to_geojson(lonlat)),
        footprint_source="declared",
    )
    summary = ingest_json("raster", RASTERS / "PLANET_SCOPE_3D.nc")
    assert summary["accepted"] == 2
    plan = ZonalPlan.build(np.array([lonlat]), Grid.from_meta(meta), crs="EPSG:4326")
    for band, when in enumerate(meta["times"], start=1):
        obs = Observation.objects.get(installation=inst, band=band)
        assert obs.time.isoformat() == when
        assert obs.variable == "blue"
        expected = plan.apply(data[band - 1])
        assert_allclose(obs.mean, expected.mean[0], rtol=1e-12)
        assert_allclose(obs.count, expected.count[0], rtol=1e-12)
        # 4 × 4 pixels of 3 m, up to the vertex-wise reprojection round trip.
        assert obs.footprint_px == pytest.approx(16.0, rel=1e-6)
