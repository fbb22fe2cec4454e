"""``methodologies.zonal``: coverage-fraction zonal statistics (pixel rule in the module
docstring), checked against hand-worked areas and against exactextract 0.3 (the reference
implementation of the coverage-fraction rule) on every real raster of fixtures/rasters,
masks included.

exactextract is a test dependency: when it is missing the comparisons are skipped, unless
CM_REQUIRE_SERVICES=1 (CI), in which case they fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import CRS

from ingest.raster import iter_blocks, read_raster
from ingest.raster.reader import open_checked
from methodologies.zonal import (
    PIXEL_RULE,
    PIXEL_RULE_VERSION,
    Grid,
    ZonalError,
    ZonalPlan,
    combine,
)
from tests.conftest import service_missing

RASTERS = Path(__file__).resolve().parents[2] / "fixtures" / "rasters"
RGB = RASTERS / "RGB.byte.tif"
# A 10 × 10 grid of unit pixels, north up, x in [0, 10], y in [0, 10].
UNIT = Grid((1.0, 0.0, 0.0, 0.0, -1.0, 10.0), (10, 10))


@pytest.fixture(scope="module")
def rgb():
    data, meta = read_raster(RGB)
    return data[0], Grid.from_meta(meta)


def _polygons(grid: Grid, n: int, seed: int) -> list:
    """Circles, rotated boxes, a polygon with a hole and a multipolygon across the scene,
    some crossing its edge."""
    a, _, c, _, e, f = grid.transform
    rows, cols = grid.shape
    x0, x1, y0, y1 = c, c + a * cols, f + e * rows, f
    rng = np.random.default_rng(seed)
    cx = rng.uniform(x0 - 3000, x1 + 3000, n)
    cy = rng.uniform(y0 - 3000, y1 + 3000, n)
    r = rng.uniform(150, 9000, n)
    circles = list(shapely.buffer(shapely.points(cx, cy), r, quad_segs=6))
    boxes = [
        shapely.affinity.rotate(shapely.box(x - s, y - s / 2, x + s, y + s / 2), ang)
        for x, y, s, ang in zip(cx[:20], cy[:20], r[:20], rng.uniform(0, 90, 20), strict=True)
    ]
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    holed = shapely.Point(mx, my).buffer(20000).difference(shapely.Point(mx, my).buffer(9000))
    multi = shapely.MultiPolygon(
        [
            shapely.box(mx, my, mx + 5000, my + 5000),
            shapely.box(x0 + 1000, y0 + 1000, x0 + 4000, y0 + 2500),
        ]
    )
    return [*circles, *boxes, holed, multi]


def test_weights_are_the_covered_fraction_of_each_pixel():
    square = shapely.box(2, 2, 5, 5)  # 9 whole pixels
    half = shapely.box(6, 6, 6.5, 7)  # half of one pixel
    triangle = shapely.Polygon([(0.5, 0.5), (4.5, 0.5), (0.5, 4.5)])  # area 8
    plan = ZonalPlan.build([square, half, triangle], UNIT)
    for k, area in enumerate([9.0, 0.5, 8.0]):
        w = plan.weights[plan.indptr[k] : plan.indptr[k + 1]]
        assert_allclose(w.sum(), area, rtol=1e-12)
        assert (w > 0).all() and (w <= 1).all()
    assert_allclose(plan.weights[: plan.indptr[1]], 1.0)
    assert_allclose(plan.weights[plan.indptr[1] : plan.indptr[2]], [0.5])
    assert_allclose(plan.footprint_px, [9.0, 0.5, 8.0])


def test_hand_worked_statistics_and_the_rule_name():
    values = np.arange(100, dtype=float).reshape(10, 10)  # value = 10 * row + col
    # x in [2.5, 4], y in [8, 9] → row 1, cols 2 (weight 0.5) and 3 (weight 1): values 12, 13
    stats = ZonalPlan.build([shapely.box(2.5, 8, 4, 9)], UNIT).apply(values)
    assert_allclose(stats.count, [1.5])
    assert_allclose(stats.sum, [0.5 * 12 + 13])
    assert_allclose(stats.mean, [(0.5 * 12 + 13) / 1.5])
    assert_allclose(stats.max, [13])
    # weighted inverse CDF: weights 0.5 (12), 1 (13); 95 % of 1.5 is reached at 13
    assert_allclose(stats.percentile(95), [13])
    assert_allclose(stats.percentile(30), [12])
    frame = stats.to_frame()
    assert list(frame.columns) == [
        "facility_id",
        "count",
        "valid_fraction",
        "in_raster_fraction",
        "footprint_px",
        "sum",
        "mean",
        "max",
        "p95",
        "pixel_rule",
        "pixel_rule_version",
    ]
    assert (frame["pixel_rule"] == PIXEL_RULE).all() and PIXEL_RULE == "coverage_fraction"
    assert (frame["pixel_rule_version"] == PIXEL_RULE_VERSION).all()


def test_percentile_with_equal_weights_is_numpys_inverted_cdf():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(10, 10))
    stats = ZonalPlan.build([shapely.box(1, 1, 9, 9)], UNIT).apply(values, percentiles=(95, 50))
    inside = values[1:9, 1:9].ravel()
    for q in (95, 50):
        assert_allclose(stats.percentile(q), [np.percentile(inside, q, method="inverted_cdf")])


def test_overlapping_footprints_each_get_their_own_statistics(rgb):
    band, grid = rgb
    a, _, c, _, e, f = grid.transform
    x, y = c + 400 * a, f + 350 * e
    first = shapely.Point(x, y).buffer(12000)
    second = shapely.Point(x + 9000, y).buffer(12000)  # overlaps the first by a lens
    together = ZonalPlan.build([first, second], grid).apply(band)
    for k, geom in enumerate([first, second]):
        alone = ZonalPlan.build([geom], grid).apply(band)
        assert_allclose(together.count[k], alone.count[0], rtol=1e-12)
        assert_allclose(together.sum[k], alone.sum[0], rtol=1e-12)
        assert together.max[k] == alone.max[0]
        assert together.percentile(95)[k] == alone.percentile(95)[0]


def test_a_footprint_crossing_the_raster_edge_is_clipped_and_says_so():
    values = np.ones((10, 10))
    values[0, 0] = np.nan  # nodata inside the footprint too
    # x in [-2, 2], y in [8, 10]: 8 px² of footprint, 4 inside the grid, 1 of them NaN
    stats = ZonalPlan.build([shapely.box(-2, 8, 2, 10)], UNIT).apply(values)
    assert_allclose(stats.footprint_px, [8.0])
    assert_allclose(stats.in_raster_fraction, [0.5])
    assert_allclose(stats.valid_fraction, [3 / 8])
    assert_allclose(stats.mean, [1.0])
    outside = ZonalPlan.build([shapely.box(20, 20, 21, 21)], UNIT).apply(values)
    assert outside.count[0] == 0 and np.isnan(outside.mean[0]) and np.isnan(outside.max[0])


def test_wgs84_footprints_are_reprojected_to_the_utm_grid(rgb):
    band, grid = rgb
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    utm = _polygons(grid, 30, seed=5)[:30]
    wgs84 = [
        shapely.transform(g, lambda xy: np.column_stack(to_wgs84.transform(*xy.T))) for g in utm
    ]
    native = ZonalPlan.build(utm, grid).apply(band)
    moved = ZonalPlan.build(wgs84, grid, crs="EPSG:4326").apply(band)
    # Vertices come back to within micrometres; the statistics agree to ~1e-9.
    assert_allclose(moved.count, native.count, rtol=1e-8, atol=1e-8)
    assert_allclose(moved.sum, native.sum, rtol=1e-8, atol=1e-6)


def test_tiles_combine_to_the_whole_raster_result(rgb):
    band, grid = rgb
    plan = ZonalPlan.build(_polygons(grid, 60, seed=7), grid)
    whole = plan.apply(band)
    rows, cols = grid.shape
    parts = [
        plan.apply(
            band[r : r + 100, c : c + 130], window=((r, c), band[r : r + 100, c : c + 130].shape)
        )
        for r in range(0, rows, 100)
        for c in range(0, cols, 130)
    ]
    merged = combine(parts[::-1])  # any order
    assert_allclose(merged.count, whole.count, rtol=1e-12)
    assert_allclose(merged.sum, whole.sum, rtol=1e-12)
    assert_allclose(merged.in_raster_px, whole.in_raster_px, rtol=1e-12)
    np.testing.assert_array_equal(merged.max, whole.max)
    np.testing.assert_array_equal(merged.percentile(95), whole.percentile(95))


def test_blocks_read_from_the_file_give_the_whole_raster_result(rgb):
    band, grid = rgb
    plan = ZonalPlan.build(_polygons(grid, 40, seed=11), grid)
    whole = plan.apply(band)
    streamed = plan.apply_blocks(iter_blocks(RGB, 1, (64, 200)))
    assert_allclose(streamed.sum, whole.sum, rtol=1e-12)
    assert_allclose(streamed.count, whole.count, rtol=1e-12)
    np.testing.assert_array_equal(streamed.max, whole.max)
    np.testing.assert_array_equal(streamed.percentile(95), whole.percentile(95))


def test_nan_pixels_inside_a_footprint_do_not_poison_streamed_sums():
    # A cloud (NaN) over part of one footprint and all of another: streaming by blocks
    # must give apply()'s numbers (NaN × weight 0 is NaN, so invalid pixels are zeroed).
    array = np.arange(100, dtype=float).reshape(10, 10)
    array[0:4, :] = np.nan
    plan = ZonalPlan.build([shapely.box(1, 6, 4, 9), shapely.box(2, 2, 5, 6.5)], UNIT)
    whole = plan.apply(array)
    blocks = [((r, 0), array[r : r + 3]) for r in range(0, 10, 3)]
    streamed = plan.apply_blocks(
        ((type("W", (), {"row_off": r, "col_off": 0, "height": b.shape[0], "width": 10})(), b))
        for (r, _), b in blocks
    )
    assert np.isfinite(streamed.sum).all()
    assert_allclose(streamed.sum, whole.sum, rtol=1e-12)
    assert_allclose(streamed.count, whole.count, rtol=1e-12)
    # box(1, 6, 4, 9) in a grid whose top is y = 10: rows 1–3 (all NaN) → nothing valid.
    assert whole.count[0] == 0 and streamed.sum[0] == 0


def _exactextract():
    """exactextract, or a skip — a failure when CM_REQUIRE_SERVICES=1 asks for every check."""
    try:
        import exactextract
    except ImportError:
        service_missing("exactextract (a test dependency) is not installed")
    return exactextract


def test_agrees_with_exactextract_on_rgb_byte(rgb):
    exactextract = _exactextract()
    import geopandas as gpd

    band, grid = rgb
    polys = _polygons(grid, 120, seed=1)
    frame = gpd.GeoDataFrame({"facility_id": np.arange(len(polys))}, geometry=polys, crs=grid.crs)
    ours = ZonalPlan.build(frame, grid).apply(band)
    theirs = exactextract.exact_extract(
        str(RGB),
        frame,
        ["count", "sum", "mean", "max"],
        include_cols=["facility_id"],
        output="pandas",
    )
    for op, got in (
        ("count", ours.count),
        ("sum", ours.sum),
        ("mean", ours.mean),
        ("max", ours.max),
    ):
        expected = theirs[f"band_1_{op}"].to_numpy(dtype=float)
        defined = expected > 0 if op in ("count", "sum") else np.isfinite(expected)
        assert defined.sum() > 50
        # exactextract keeps coverage fractions in float32: agreement to ~1e-7, we ask 1e-6
        assert_allclose(got[defined], expected[defined], rtol=1e-6)
        assert np.all(np.abs(got[~defined]) < 1e-6) or op in ("mean", "max")


def test_non_polygon_footprints_are_refused():
    with pytest.raises(ZonalError, match="Point"):
        ZonalPlan.build([shapely.Point(1, 1)], UNIT)
    with pytest.raises(ZonalError, match="shape"):
        ZonalPlan.build([shapely.box(1, 1, 2, 2)], UNIT).apply(np.zeros((3, 3)))


# Every real raster of fixtures/rasters (README there), each variable of a NetCDF.
REAL_RASTERS = [
    ("RGB.byte.tif", None),
    ("goes.tif", None),  # a per-dataset mask leaves out the space around the Earth's disk
    ("world.byte.tif", None),
    ("float.tif", None),
    ("float_nan.tif", None),
    ("MODIS_ARRAY.nc", None),
    ("PLANET_SCOPE_3D.nc", "blue"),
    ("PLANET_SCOPE_3D.nc", "green"),
    ("sentinel_2_L1C_geographic.nc", "red"),
    ("sentinel_2_L1C_geographic.nc", "nir"),
    ("tmmx_20190121.nc", None),
    ("OMI-Aura_L3-OMNO2d_monthly_Romania.nc", None),
    ("OMI-Aura_L3-OMNO2d_ymonmean_2015_2019_Romania.nc4", None),
]


def _footprints(grid: Grid, n: int, seed: int) -> list:
    """Circles (from a fifth of a pixel to a third of the raster) and rotated boxes in pixel
    space, some across the raster's edge, mapped to the grid's coordinates."""
    rows, cols = grid.shape
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(-1, cols + 1, n), rng.uniform(-1, rows + 1, n)
    r = np.exp(rng.uniform(np.log(0.2), np.log(max(min(rows, cols) / 3, 0.5)), n))
    shapes = list(shapely.buffer(shapely.points(cx, cy), r, quad_segs=5))
    for k in range(0, n, 3):
        box = shapely.box(cx[k] - r[k], cy[k] - r[k] / 2, cx[k] + r[k], cy[k] + r[k] / 2)
        shapes[k] = shapely.affinity.rotate(box, rng.uniform(0, 90))
    a, b, c, d, e, f = grid.transform
    return [shapely.affinity.affine_transform(g, (a, b, d, e, c, f)) for g in shapes]


def _reference_sources(name: str, variable: str | None, meta: dict, wkt: str) -> list:
    """exactextract's raster source for every band: the pixels and masks as rasterio (GDAL)
    reads them, ``read(masked=True)`` (nodata, per-dataset and alpha masks), not through our
    reader; scale and offset applied; masked pixels given to exactextract as NaN (exactextract
    0.3 drops a NumPy mask on some windows, as on goes.tif's corners; NaN it always honours).
    The grid is the one our reader found (for MODIS GDAL does not see it: the file keeps it in
    a variable attribute); a grid whose rows run south to north is flipped, as exactextract
    wants north up."""
    from exactextract.raster import NumPyRasterSource

    a, b, c, d, e, f = meta["transform"]
    assert b == 0 and d == 0, "exactextract takes axis-aligned grids only"
    sources = []
    with open_checked(RASTERS / name, variable=variable) as (ds, _):
        h, w = ds.height, ds.width
        for band in range(1, ds.count + 1):
            masked = ds.read(band, masked=True)
            scale, offset = ds.scales[band - 1], ds.offsets[band - 1]
            values = masked.data.astype(np.float64) * scale + offset
            values[np.ma.getmaskarray(masked)] = np.nan
            if e < 0:
                extent = (c, f + e * h, c + a * w, f)
            else:
                values, extent = values[::-1], (c, f, c + a * w, f + e * h)
            sources.append(NumPyRasterSource(np.ascontiguousarray(values), *extent, srs_wkt=wkt))
    return sources


@pytest.mark.parametrize(("name", "variable"), REAL_RASTERS)
def test_agrees_with_exactextract_on_every_real_raster(name, variable):
    """count (Σ coverage × valid), sum and mean per footprint and band, ours vs exactextract
    0.3 reading the same file with GDAL's masks; exactextract keeps coverage fractions in
    float32, so agreement is to ~1e-7: we ask 1e-6 (relative) on every footprint."""
    exactextract = _exactextract()
    import geopandas as gpd

    data, meta = read_raster(RASTERS / name, variable=variable)
    grid = Grid.from_meta(meta)
    polys = _footprints(grid, 36, seed=len(name))
    plan = ZonalPlan.build(polys, grid)
    # Footprints in the grid's CRS on both sides (a stand-in CRS when the file has none,
    # as exactextract wants one): nothing is reprojected.
    crs = CRS.from_user_input(meta["crs"] or "EPSG:4326")
    frame = gpd.GeoDataFrame({"k": np.arange(len(polys))}, geometry=polys, crs=crs)
    for band, source in enumerate(_reference_sources(name, variable, meta, crs.to_wkt())):
        ours = plan.apply(data[band], percentiles=())
        theirs = exactextract.exact_extract(
            source, frame, ["count", "sum", "mean"], include_cols=["k"], output="pandas"
        ).sort_values("k")
        for op, got in (("count", ours.count), ("sum", ours.sum), ("mean", ours.mean)):
            expected = theirs[op].to_numpy(dtype=float)
            both_nan = np.isnan(expected) & np.isnan(got)
            assert_allclose(
                got[~both_nan], expected[~both_nan], rtol=1e-6, atol=1e-9,
                err_msg=f"{name} {variable or ''} band {band + 1} {op}",
            )  # fmt: skip
        assert (ours.count > 0).sum() >= 5  # the footprints do meet valid pixels
