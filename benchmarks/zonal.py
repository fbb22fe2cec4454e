"""Benchmark of the zonal statistics engine (``methodologies.zonal``) against its peers.

    python benchmarks/zonal.py [SIZE]

World (in a temporary folder): a SIZE × SIZE (default 10 000 × 10 000) float32 GeoTIFF on a
UTM grid (EPSG:32633, 100 m pixels, tiled 512 × 512, uncompressed), a smooth random field
(sum of random plane waves) with a nodata strip (-9999); 5 000 footprints in the raster's
CRS: 4 500 small ones (circles and rotated squares, 1 to 30 pixels across) and 500 buffers of
5 km radius around 20 clustered sites, so they overlap heavily. Statistics: mean, sum and
max per footprint, coverage-fraction weighted (exactextract's rule).

Timed in one run (wall clock, single call each, after a warm-up read of the file so the
page cache is hot for everyone):

- ours, first raster: ``ZonalPlan.build`` + reading the band with rasterio + ``apply``;
- ours, further raster on the same grid: ``apply`` only (the plan is reused; target < 0.5 s);
- exactextract: ``exact_extract(path, footprints, ["mean", "sum", "max"])``;
- rasterstats: ``zonal_stats`` (centre-of-pixel rule, so only its time is compared) on a
  subset of every 10th footprint, extrapolated linearly to all 5 000 (said in the output);
- floor: reading the band + one numpy pass (``arr.sum()``).

Checks that our mean, sum and max equal exactextract's within 1e-6 relative and prints the
largest relative difference.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PIXEL = 100.0
ORIGIN = (200_000.0, 6_000_000.0)
CRS = "EPSG:32633"
NODATA = -9999.0


def make_raster(path: Path, size: int, seed: int) -> None:
    """A smooth random field as a tiled float32 GeoTIFF with a nodata strip."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    y = np.arange(size, dtype=np.float32)[:, None]
    x = np.arange(size, dtype=np.float32)[None, :]
    field = np.full((size, size), 300.0, dtype=np.float32)
    for _ in range(6):
        kx, ky = rng.normal(0, 2 * np.pi / 800, 2).astype(np.float32)
        phase = np.float32(rng.uniform(0, 2 * np.pi))
        field += np.float32(rng.uniform(1, 10)) * np.sin(kx * x + ky * y + phase)
    field[:, size // 3 : size // 3 + 20] = NODATA
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(field, 1)


def make_footprints(size: int, seed: int):
    """4 500 small footprints and 500 overlapping 5 km buffers, as a GeoDataFrame."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    extent = size * PIXEL
    x0, y1 = ORIGIN
    n_small = 4500
    cx = rng.uniform(x0 - 2_000, x0 + extent + 2_000, n_small)
    cy = rng.uniform(y1 - extent - 2_000, y1 + 2_000, n_small)
    radius = rng.uniform(0.5, 15, n_small) * PIXEL
    circles = shapely.buffer(shapely.points(cx, cy), radius, quad_segs=8)
    squares = shapely.box(cx - radius, cy - radius, cx + radius, cy + radius)
    angle = rng.uniform(0, 90, n_small)
    squares = np.array(
        [
            shapely.affinity.rotate(s, a, origin="centroid")
            for s, a in zip(squares, angle, strict=True)
        ]
    )
    small = np.where(rng.random(n_small) < 0.5, circles, squares)
    sites = np.column_stack([rng.uniform(x0, x0 + extent, 20), rng.uniform(y1 - extent, y1, 20)])
    pick = rng.integers(0, 20, 500)
    bx = sites[pick, 0] + rng.normal(0, 4_000, 500)
    by = sites[pick, 1] + rng.normal(0, 4_000, 500)
    big = shapely.buffer(shapely.points(bx, by), 5_000.0, quad_segs=16)
    geoms = np.concatenate([small, big])
    return gpd.GeoDataFrame({"facility_id": np.arange(len(geoms))}, geometry=geoms, crs=CRS)


def main(size: int) -> int:
    import rasterio
    from exactextract import exact_extract
    from rasterstats import zonal_stats

    from ingest.raster import iter_blocks
    from methodologies.zonal import Grid, ZonalPlan

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene.tif"
        t0 = time.perf_counter()
        make_raster(path, size, 1)
        footprints = make_footprints(size, 2)
        print(
            f"world: {size} x {size} float32, {len(footprints)} footprints "
            f"(made in {time.perf_counter() - t0:.1f} s)"
        )

        def read() -> np.ma.MaskedArray:
            with rasterio.open(path) as ds:
                return ds.read(1, masked=True)

        read()  # warm the page cache for everyone

        t0 = time.perf_counter()
        arr = read()
        floor_sum = float(np.ma.getdata(arr).sum())
        floor = time.perf_counter() - t0

        t0 = time.perf_counter()
        with rasterio.open(path) as ds:
            grid = Grid(ds.transform, ds.shape, ds.crs.to_wkt())
        plan = ZonalPlan.build(footprints, grid)
        t_build = time.perf_counter() - t0
        ours = plan.apply_blocks(iter_blocks(path, 1, (512, size)), percentiles=())
        first = time.perf_counter() - t0

        t0 = time.perf_counter()
        in_memory = plan.apply(arr, percentiles=())
        t_whole = time.perf_counter() - t0
        same = all(
            np.allclose(a, b, rtol=1e-12, equal_nan=True)
            for a, b in ((ours.sum, in_memory.sum), (ours.max, in_memory.max))
        )

        second_arr = np.ma.MaskedArray(np.ma.getdata(arr) * np.float32(1.01), mask=arr.mask)
        t0 = time.perf_counter()
        plan.apply(second_arr, percentiles=())
        further = time.perf_counter() - t0
        t0 = time.perf_counter()
        with_p95 = plan.apply(second_arr, percentiles=(95,))
        with_p95.percentile(95)
        further_p95 = time.perf_counter() - t0

        t0 = time.perf_counter()
        ee = exact_extract(
            str(path),
            footprints,
            ["mean", "sum", "max"],
            include_cols=["facility_id"],
            output="pandas",
        )
        t_ee = time.perf_counter() - t0

        subset = footprints.iloc[::10]
        t0 = time.perf_counter()
        zonal_stats(subset, str(path), stats=["mean", "sum", "max"], nodata=NODATA)
        t_rs = (time.perf_counter() - t0) * len(footprints) / len(subset)

    worst = 0.0
    for op, got in (("mean", ours.mean), ("sum", ours.sum), ("max", ours.max)):
        expected = ee[op].to_numpy(dtype=float)
        both = np.isfinite(expected) & np.isfinite(got)
        if (np.isfinite(expected) != np.isfinite(got)).any():
            print(f"MISMATCH: {op} defined for different footprints")
            worst = np.inf
        rel = np.abs(got[both] - expected[both]) / np.maximum(np.abs(expected[both]), 1e-300)
        worst = max(worst, float(rel.max()) if len(rel) else 0.0)

    print(f"plan: {plan.nnz} (footprint, pixel) entries")
    print(f"floor (read + arr.sum()):           {floor:7.3f} s   (sum {floor_sum:.6g})")
    print(
        f"ours, first raster (build+read+apply): {first:7.3f} s  "
        f"= build {t_build:.3f} + read & apply by strips {first - t_build:.3f}"
        f"   ratio to floor {first / floor:.2f}"
    )
    print(
        f"ours, apply to the whole in-memory array: {t_whole:.3f} s (same numbers as the "
        f"strips: {same})"
    )
    print(
        f"ours, further raster (apply only):  {further:7.3f} s   target < 0.5 s "
        f"{'OK' if further < 0.5 else 'MISSED'}   (with p95: {further_p95:.3f} s)"
    )
    print(
        f"exactextract:                       {t_ee:7.3f} s   exactextract / ours first "
        f"{t_ee / first:.2f}, / ours further {t_ee / further:.1f}"
    )
    print(
        f"rasterstats (extrapolated from {len(subset)} of {len(footprints)} footprints, "
        f"linear): {t_rs:7.3f} s   rasterstats / ours first {t_rs / first:.1f}"
    )
    print(
        f"max relative difference ours vs exactextract (mean, sum, max): {worst:.3g} "
        f"{'OK' if worst <= 1e-6 else 'ABOVE 1e-6'}"
    )
    print(f"first raster no slower than exactextract: {'OK' if first <= t_ee else 'MISSED'}")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
