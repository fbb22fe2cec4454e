"""Zonal statistics of raster scenes over facility footprints, with one pixel rule.

Pixel rule ``coverage_fraction`` (version :data:`PIXEL_RULE_VERSION`), as exactextract
defines it (https://isciences.github.io/exactextract/operations.html):

- a pixel's weight w ∈ (0, 1] is the fraction of the pixel's area that the footprint covers,
  computed exactly for the polygon's straight edges (pixels with w < :data:`MIN_WEIGHT` are
  dropped: they are floating-point noise, not area);
- a pixel is *valid* when it is inside the grid, not masked and finite; the mask is the
  array's own (``numpy.ma``): ``ingest.raster`` masks every pixel GDAL's masks call invalid
  (nodata value, per-dataset mask, alpha band) and every fill value, as exactextract does
  when it reads the file itself;
- ``count`` = Σ w over valid pixels [pixels]; ``sum`` = Σ w·x [value × pixels];
  ``mean`` = sum / count; ``max`` = max x over valid pixels with w > 0;
- ``p95`` (any ``pXX``): the weighted inverse-CDF percentile, the smallest value x_k such that
  the weights of the valid pixels with values ≤ x_k add up to at least q/100 · count (no
  interpolation; with equal weights it equals ``numpy.percentile(..., method="inverted_cdf")``);
- ``footprint_px`` = the footprint's area in pixels (whether inside the grid or not);
  ``in_raster_fraction`` = Σ w over the grid's pixels / footprint_px (below 1 when the
  footprint crosses the raster edge); ``valid_fraction`` = count / footprint_px (lower still
  when nodata pixels fall inside the footprint).

Every footprint is measured on its own, so overlapping footprints each get their own,
complete statistics (a pixel can weigh in several footprints).

Coverage fractions are computed in pixel space (the footprint mapped through the inverse of
the grid's affine transform, so rotated grids work too) with the winding-number
decomposition of the polygon: for an edge piece inside cell (i, j) with vertical extent dv
and mean column position ū, the cell receives dv·(j + 1 − ū) and every cell right of it in
row i receives dv (a running sum along the row). Summed over the rings of a positively
oriented polygon this is minus the covered area of each cell, exactly (up to rounding). All of
it is numpy over all edges of a batch of footprints at once: no Python loop per pixel, edge or
polygon.

Footprints are reprojected to the grid's CRS with pyproj (vertices transformed; the edges
between them stay straight in the grid's CRS, which for footprints of a few km is far below a
pixel).

Use::

    plan = ZonalPlan.build(footprints, grid, ids=..., crs="EPSG:4326")  # once per grid
    stats = plan.apply(array)            # every scene on that grid; a masked array or NaNs
    parts = [plan.apply(block, window=w) for w, block in blocks]  # tiles, any order
    combine(parts)                       # == plan.apply(whole array)
    plan.apply_blocks(iter_blocks(path, 1, (512, cols)))  # same, one strip in memory

The plan is a CSR matrix (``indptr``, ``indices`` = flat pixel index row-major, ``weights``)
from footprints to pixels; :meth:`ZonalPlan.apply` gathers the pixels once and reduces them
with ``np.add.reduceat`` / ``np.maximum.reduceat`` per footprint.

Tiles: sums, counts and areas add, maxima take the maximum; percentiles are computed per
footprint from the merged weighted samples (each partial result keeps its valid
(footprint, value, weight) samples when percentiles are asked for), so :func:`combine` is
exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely

from methodologies.errors import MethodologyError

PIXEL_RULE = "coverage_fraction"
PIXEL_RULE_VERSION = "1"
#: Weights below this fraction of a pixel are rounding noise and are dropped [1].
MIN_WEIGHT = 1e-9
#: Largest number of bounding-box cells (footprint bbox rows × (cols + 1)) in one batch of
#: the plan builder: bounds its temporary memory (two float64 arrays of this size).
BATCH_CELLS = 1_000_000
DEFAULT_PERCENTILES = (95.0,)


class ZonalError(MethodologyError):
    """Footprints, grid or arrays that zonal statistics cannot use; the message says why."""


@dataclass(frozen=True)
class Grid:
    """A raster grid: affine ``transform`` (a, b, c, d, e, f as in GDAL/affine:
    x = a·col + b·row + c, y = d·col + e·row + f), ``shape`` (rows, cols), ``crs`` (WKT,
    an "EPSG:n" string, or None when unknown: footprints are then taken as in grid units)."""

    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]
    crs: str | None = None

    def __post_init__(self) -> None:
        t = tuple(float(v) for v in tuple(self.transform)[:6])
        object.__setattr__(self, "transform", t)
        object.__setattr__(self, "shape", (int(self.shape[-2]), int(self.shape[-1])))
        if abs(t[0] * t[4] - t[1] * t[3]) == 0:
            raise ZonalError(f"grid transform {t} is singular (zero pixel area)")

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Grid:
        """The grid of a raster read by ``ingest.raster.read_raster`` (its ``meta``)."""
        return cls(meta["transform"], meta["shape"][-2:], meta.get("crs"))

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def to_pixel(self, geoms: np.ndarray) -> np.ndarray:
        """``geoms`` (grid CRS) mapped to pixel space: col, row as x, y [pixels]."""
        a, b, c, d, e, f = self.transform
        det = a * e - b * d
        # inverse affine: col = (e(x − c) − b(y − f)) / det, row = (−d(x − c) + a(y − f)) / det
        ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
        ic, if_ = -(ia * c + ib * f), -(id_ * c + ie * f)

        def apply(xy: np.ndarray) -> np.ndarray:
            x, y = xy[:, 0], xy[:, 1]
            return np.column_stack([ia * x + ib * y + ic, id_ * x + ie * y + if_])

        return shapely.transform(geoms, apply)


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    if hasattr(crs, "to_wkt"):
        return crs.to_wkt()
    return str(crs)


def reproject(geoms: np.ndarray, src_crs: Any, dst_crs: Any) -> np.ndarray:
    """``geoms`` from ``src_crs`` to ``dst_crs`` (anything pyproj reads: WKT, "EPSG:4326",
    a pyproj or rasterio CRS), vertex by vertex, x/y in the CRSs' east/north order."""
    src, dst = _crs_text(src_crs), _crs_text(dst_crs)
    if src is None or dst is None:
        return geoms
    from pyproj import CRS, Transformer

    source, target = CRS.from_user_input(src), CRS.from_user_input(dst)
    if source == target:
        return geoms
    transformer = Transformer.from_crs(source, target, always_xy=True)

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def _edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All ring edges of ``polys`` (pixel space, positively oriented): u0, v0, u1, v1 and the
    index of the footprint each edge belongs to (edges come grouped by footprint, in order)."""
    parts, part_owner = shapely.get_parts(polys, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        empty = np.empty(0)
        return empty, empty, empty, empty, np.empty(0, dtype=np.int64)
    same = ring_of[1:] == ring_of[:-1]
    u0, v0 = coords[:-1][same, 0], coords[:-1][same, 1]
    u1, v1 = coords[1:][same, 0], coords[1:][same, 1]
    owner = part_owner[ring_part[ring_of[:-1][same]]]
    return u0, v0, u1, v1, owner


def _crossings(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each interval (lo, hi): the integers strictly inside it, flattened, with the
    interval's index."""
    first = np.floor(lo) + 1
    n = np.maximum(np.ceil(hi) - first, 0).astype(np.int64)
    owner = np.repeat(np.arange(len(lo)), n)
    start = np.cumsum(n) - n
    k = first[owner] + (np.arange(n.sum()) - start[owner])
    return k, owner


def _coverage_batch(
    polys: np.ndarray, rows: int, cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage fractions of a batch of pixel-space footprints on a rows × cols grid:
    (footprint index in the batch, flat pixel index, weight), sorted by footprint then pixel."""
    bounds = shapely.bounds(polys)
    c0 = np.floor(bounds[:, 0]).astype(np.int64)
    r0 = np.floor(bounds[:, 1]).astype(np.int64)
    nc = np.floor(bounds[:, 2]).astype(np.int64) - c0 + 1
    nr = np.floor(bounds[:, 3]).astype(np.int64) - r0 + 1
    width = nc + 1  # one extra column receives the running sum's end (≈ 0)
    size = nr * width
    offset = np.cumsum(size) - size
    total = int(size.sum())

    u0, v0, u1, v1, owner = _edges(polys)
    du, dv = u1 - u0, v1 - v0
    n_edges = len(u0)
    # Split every edge at the integer columns and rows it crosses: t ∈ [0, 1] along the edge.
    ku, eu = _crossings(np.minimum(u0, u1), np.maximum(u0, u1))
    kv, ev = _crossings(np.minimum(v0, v1), np.maximum(v0, v1))
    edge = np.concatenate([np.arange(n_edges), np.arange(n_edges), eu, ev])
    t = np.concatenate(
        [
            np.zeros(n_edges),
            np.ones(n_edges),
            (ku - u0[eu]) / du[eu],
            (kv - v0[ev]) / dv[ev],
        ]
    )
    order = np.lexsort((t, edge))
    edge, t = edge[order], t[order]
    piece = edge[1:] == edge[:-1]
    e = edge[:-1][piece]
    ta, tb = t[:-1][piece], t[1:][piece]
    ua, ub = u0[e] + ta * du[e], u0[e] + tb * du[e]
    va, vb = v0[e] + ta * dv[e], v0[e] + tb * dv[e]
    um, vm = 0.5 * (ua + ub), 0.5 * (va + vb)
    p = owner[e]
    col = np.floor(um).astype(np.int64)
    i = np.floor(vm).astype(np.int64) - r0[p]
    j = col - c0[p]
    dvp = vb - va
    at = offset[p] + i * width[p] + j
    # Running sum along each bounding-box row. Every row's steps add up to zero (a closed
    # ring crosses each row as often down as up), so one cumulative sum over the batch serves
    # all rows; its rounding drift stays ~1e-13 within a batch of BATCH_CELLS cells.
    cover = np.cumsum(np.bincount(at + 1, weights=dvp, minlength=total + 1)[:total])
    cover += np.bincount(at, weights=dvp * (col + 1 - um), minlength=total)
    np.negative(cover, out=cover)

    keep = cover >= MIN_WEIGHT
    pos = np.flatnonzero(keep)
    p = np.repeat(np.arange(len(polys)), np.add.reduceat(keep, offset, dtype=np.int64))
    rel = pos - offset[p]
    i, j = np.divmod(rel, width[p])
    r, c = r0[p] + i, c0[p] + j
    inside = (j < nc[p]) & (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    w = np.minimum(cover[pos[inside]], 1.0)
    return p[inside], r[inside] * cols + c[inside], w


@dataclass(frozen=True)
class ZonalStats:
    """Zonal statistics of one scene (or one tile of it) per footprint.

    Arrays are aligned with ``ids``. ``valid_px`` (the count), ``sum``, ``in_raster_px`` add
    over tiles; ``max`` combines by maximum; ``samples`` (footprint index, value, weight of
    each valid pixel) is kept when ``percentiles`` are asked for, so they merge exactly.
    """

    ids: np.ndarray
    footprint_px: np.ndarray
    in_raster_px: np.ndarray
    valid_px: np.ndarray
    sum: np.ndarray
    max: np.ndarray
    percentiles: tuple[float, ...] = ()
    samples: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    pixel_rule: str = PIXEL_RULE
    pixel_rule_version: str = PIXEL_RULE_VERSION

    @property
    def count(self) -> np.ndarray:
        """Σ w over valid pixels [pixels]."""
        return self.valid_px

    @property
    def mean(self) -> np.ndarray:
        """Weighted mean [value units]; NaN where no valid pixel."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.valid_px > 0, self.sum / self.valid_px, np.nan)

    @property
    def valid_fraction(self) -> np.ndarray:
        """count / footprint area [1]."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.footprint_px > 0, self.valid_px / self.footprint_px, 0.0)

    @property
    def in_raster_fraction(self) -> np.ndarray:
        """Σ w over the grid's pixels / footprint area [1]."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.footprint_px > 0, self.in_raster_px / self.footprint_px, 0.0)

    def percentile(self, q: float) -> np.ndarray:
        """Weighted inverse-CDF percentile ``q`` ∈ (0, 100] per footprint (module docstring)."""
        if self.samples is None:
            raise ZonalError("percentiles were not kept: apply the plan with percentiles=(q,)")
        return _weighted_percentile(*self.samples, len(self.ids), q)

    def to_frame(self) -> pd.DataFrame:
        """One row per footprint: ``facility_id``, ``count``, ``valid_fraction``,
        ``in_raster_fraction``, ``footprint_px``, ``sum``, ``mean``, ``max``, ``pXX`` for each
        percentile, ``pixel_rule``, ``pixel_rule_version``."""
        frame = pd.DataFrame(
            {
                "facility_id": self.ids,
                "count": self.valid_px,
                "valid_fraction": self.valid_fraction,
                "in_raster_fraction": self.in_raster_fraction,
                "footprint_px": self.footprint_px,
                "sum": self.sum,
                "mean": self.mean,
                "max": self.max,
            }
        )
        for q in self.percentiles:
            frame[_pname(q)] = self.percentile(q)
        frame["pixel_rule"] = self.pixel_rule
        frame["pixel_rule_version"] = self.pixel_rule_version
        return frame


def _pname(q: float) -> str:
    return f"p{q:g}".replace(".", "_")


def _weighted_percentile(
    seg: np.ndarray, values: np.ndarray, weights: np.ndarray, n: int, q: float
) -> np.ndarray:
    if not 0 < q <= 100:
        raise ZonalError(f"percentile {q} is outside (0, 100]")
    out = np.full(n, np.nan)
    if len(seg) == 0:
        return out
    order = np.lexsort((values, seg))
    seg, values, weights = seg[order], values[order], weights[order]
    cum = np.cumsum(weights)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], len(seg)]
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = cum[ends - 1] - base
    target = base + (q / 100.0) * total
    # Tolerance: cumulative sums round; a target hit up to rounding counts as reached.
    at = np.searchsorted(cum, target - 1e-12 * np.maximum(total, 1.0), side="left")
    at = np.clip(at, starts, ends - 1)
    out[seg[starts]] = values[at]
    return out


def _window(window: Any) -> tuple[int, int, int, int]:
    if hasattr(window, "row_off"):
        return int(window.row_off), int(window.col_off), int(window.height), int(window.width)
    (row_off, col_off), (height, width) = window
    return int(row_off), int(col_off), int(height), int(width)


@dataclass(frozen=True)
class ZonalPlan:
    """Coverage weights of footprints on one grid, as CSR arrays (see the module docstring).

    ``indptr`` (n + 1), ``indices`` (flat pixel index, row-major, ascending within a
    footprint), ``weights`` (coverage fraction), ``seg`` (footprint index of each entry),
    ``footprint_px`` (area of each footprint [pixels]), ``ids``, ``grid``.
    """

    grid: Grid
    ids: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    seg: np.ndarray
    footprint_px: np.ndarray

    @classmethod
    def build(
        cls,
        footprints: Any,
        grid: Grid,
        *,
        ids: Sequence[Any] | None = None,
        crs: Any = None,
    ) -> ZonalPlan:
        """Plan for ``footprints`` (a GeoSeries / GeoDataFrame, or a sequence of shapely
        (Multi)Polygons) on ``grid``. ``crs`` is the footprints' CRS (default: the
        GeoSeries' own, else the grid's); ``ids`` default to the GeoDataFrame's
        ``facility_id`` column, else 0..n-1. Invalid polygons are repaired with
        ``shapely.make_valid``; a footprint that is not polygonal raises :class:`ZonalError`.
        """
        if ids is None and hasattr(footprints, "columns") and "facility_id" in footprints:
            ids = footprints["facility_id"].to_numpy()
        if crs is None:
            crs = getattr(footprints, "crs", None)
        geoms = np.asarray(getattr(footprints, "geometry", footprints), dtype=object)
        n = len(geoms)
        ids = np.arange(n) if ids is None else np.asarray(ids)
        if len(ids) != n:
            raise ZonalError(f"{len(ids)} ids for {n} footprints")
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if missing.any():
            raise ZonalError(f"footprint {ids[np.flatnonzero(missing)[0]]} has no geometry")
        kind = shapely.get_type_id(geoms)
        bad = ~np.isin(kind, (3, 6))  # Polygon, MultiPolygon
        if bad.any():
            first = np.flatnonzero(bad)[0]
            raise ZonalError(
                f"footprint {ids[first]} is a {geoms[first].geom_type}, "
                "not a (Multi)Polygon; give points a footprint (a buffer) first"
            )
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms = geoms.copy()
            geoms[invalid] = shapely.make_valid(
                geoms[invalid], method="structure", keep_collapsed=False
            )
        if crs is not None and grid.crs is not None:
            geoms = reproject(geoms, crs, grid.crs)
        px = shapely.orient_polygons(grid.to_pixel(geoms), exterior_cw=False)
        area = shapely.area(px)
        rows, cols = grid.shape
        bounds = shapely.bounds(px)
        cells = (np.floor(bounds[:, 3]) - np.floor(bounds[:, 1]) + 1) * (
            np.floor(bounds[:, 2]) - np.floor(bounds[:, 0]) + 2
        )
        # Batches of consecutive footprints whose bounding boxes hold ≤ BATCH_CELLS cells.
        cum = np.cumsum(cells)
        parts_p, parts_i, parts_w = [], [], []
        start = 0
        while start < n:
            base = cum[start - 1] if start else 0.0
            stop = max(int(np.searchsorted(cum, base + BATCH_CELLS, side="right")), start + 1)
            p, idx, w = _coverage_batch(px[start:stop], rows, cols)
            parts_p.append(p + start)
            parts_i.append(idx)
            parts_w.append(w)
            start = stop
        seg = np.concatenate(parts_p) if parts_p else np.empty(0, np.int64)
        indices = np.concatenate(parts_i) if parts_i else np.empty(0, np.int64)
        weights = np.concatenate(parts_w) if parts_w else np.empty(0)
        index_dtype = np.int32 if grid.size < 2**31 else np.int64
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(seg, minlength=n), out=indptr[1:])
        return cls(
            grid=grid,
            ids=ids,
            indptr=indptr,
            indices=indices.astype(index_dtype),
            weights=weights,
            seg=seg.astype(np.int32 if n < 2**31 else np.int64),
            footprint_px=area,
        )

    @cached_property
    def _by_pixel(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries in row-major pixel order: (entry order, flat pixel index), for blocks."""
        order = np.argsort(self.indices, kind="stable")
        return order, self.indices[order]

    def apply_blocks(
        self,
        blocks: Iterable[tuple[Any, np.ndarray]],
        *,
        percentiles: Iterable[float] = DEFAULT_PERCENTILES,
        nodata: float | None = None,
    ) -> ZonalStats:
        """Statistics of a scene given as ``(window, block)`` pairs that partition the grid
        (``ingest.raster.iter_blocks`` yields them): the same numbers as :meth:`apply` on
        the whole array and as :func:`combine` of per-block results, with the memory of one
        block. Full-width strips are the fastest windows."""
        percentiles = tuple(float(q) for q in percentiles)
        order, flat = self._by_pixel
        cols = self.grid.shape[1]
        n = len(self.ids)
        in_raster, count, total = np.zeros(n), np.zeros(n), np.zeros(n)
        high = np.full(n, -np.inf)
        kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for window, block in blocks:
            r0, c0, h, w = _window(window)
            data, mask = np.ma.getdata(block), np.ma.getmask(block)
            if data.shape != (h, w):
                raise ZonalError(f"block shape {data.shape} is not the window's {(h, w)}")
            lo, hi = np.searchsorted(flat, (r0 * cols, (r0 + h) * cols))
            entry, pixel = order[lo:hi], flat[lo:hi]
            r, c = np.divmod(pixel, cols)
            if c0 > 0 or w < cols:
                inside = (c >= c0) & (c < c0 + w)
                entry, r, c = entry[inside], r[inside], c[inside]
            local = (r - r0) * w + (c - c0)
            values = data.reshape(-1)[local]
            valid = np.isfinite(values)
            if mask is not np.ma.nomask:
                valid &= ~mask.reshape(-1)[local]
            if nodata is not None and not np.isnan(nodata):
                valid &= values != nodata
            seg, weights = self.seg[entry], self.weights[entry]
            values = values.astype(np.float64)
            w_valid = np.where(valid, weights, 0.0)
            in_raster += np.bincount(seg, weights, minlength=n)
            count += np.bincount(seg, w_valid, minlength=n)
            # NaN × 0 is NaN: invalid pixels must be zeroed, not weighted by 0
            total += np.bincount(seg, np.where(valid, values * weights, 0.0), minlength=n)
            np.maximum.at(high, seg[valid], values[valid])
            if percentiles:
                kept.append((seg[valid].astype(np.int64), values[valid], weights[valid]))
        high[np.isneginf(high)] = np.nan
        samples = None
        if percentiles:
            samples = (
                tuple(np.concatenate([k[i] for k in kept]) for i in range(3))
                if kept
                else (np.empty(0, np.int64), np.empty(0), np.empty(0))
            )
        return ZonalStats(
            ids=self.ids,
            footprint_px=self.footprint_px,
            in_raster_px=in_raster,
            valid_px=count,
            sum=total,
            max=high,
            percentiles=percentiles,
            samples=samples,
        )

    @property
    def nnz(self) -> int:
        """Number of (footprint, pixel) entries."""
        return len(self.indices)

    def apply(
        self,
        array: np.ndarray,
        *,
        window: Any = None,
        percentiles: Iterable[float] = DEFAULT_PERCENTILES,
        nodata: float | None = None,
    ) -> ZonalStats:
        """Statistics of ``array`` (2-D, the grid's shape; or the block read at ``window``,
        a rasterio ``Window`` or ((row_off, col_off), (height, width))) per footprint.

        Masked, NaN/inf and ``nodata`` pixels are invalid. With ``window`` the result covers
        the pixels of that block only; :func:`combine` the blocks of a partition of the grid
        to get the whole-scene statistics.
        """
        data = np.ma.getdata(array)
        mask = np.ma.getmask(array)
        if data.ndim != 2:
            raise ZonalError(f"expected a 2-D array, got shape {data.shape}")
        percentiles = tuple(float(q) for q in percentiles)
        rows, cols = self.grid.shape
        if window is None:
            if data.shape != (rows, cols):
                raise ZonalError(f"array shape {data.shape} is not the grid's {(rows, cols)}")
            flat_index, seg, weights = self.indices, self.seg, self.weights
        else:
            r0, c0, h, w = _window(window)
            if data.shape != (h, w):
                raise ZonalError(f"block shape {data.shape} is not the window's {(h, w)}")
            r, c = np.divmod(self.indices, cols)
            sel = (r >= r0) & (r < r0 + h) & (c >= c0) & (c < c0 + w)
            flat_index = (r[sel] - r0) * w + (c[sel] - c0)
            seg, weights = self.seg[sel], self.weights[sel]
        values = data.reshape(-1)[flat_index]
        valid = np.isfinite(values)
        if mask is not np.ma.nomask:
            valid &= ~mask.reshape(-1)[flat_index]
        if nodata is not None and not np.isnan(nodata):
            valid &= values != nodata
        values = values.astype(np.float64)
        n = len(self.ids)
        in_raster = _segment_sum(seg, weights, n)
        w_valid = np.where(valid, weights, 0.0)
        count = _segment_sum(seg, w_valid, n)
        total = _segment_sum(seg, np.where(valid, values * weights, 0.0), n)
        high = _segment_max(seg, np.where(valid, values, -np.inf), n)
        samples = None
        if percentiles:
            samples = (seg[valid].astype(np.int64), values[valid], weights[valid])
        return ZonalStats(
            ids=self.ids,
            footprint_px=self.footprint_px,
            in_raster_px=in_raster,
            valid_px=count,
            sum=total,
            max=high,
            percentiles=percentiles,
            samples=samples,
        )


def _segments(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts of the runs of equal values in the sorted ``seg``, and each run's value."""
    if len(seg) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    return starts, seg[starts]


def _segment_sum(seg: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    starts, which = _segments(seg)
    if len(starts):
        out[which] = np.add.reduceat(values, starts)
    return out


def _segment_max(seg: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    starts, which = _segments(seg)
    if len(starts):
        out[which] = np.maximum.reduceat(values, starts)
    out[np.isneginf(out)] = np.nan
    return out


def combine(results: Sequence[ZonalStats]) -> ZonalStats:
    """Whole-scene statistics from the statistics of tiles that partition the grid.

    Counts, sums and in-raster areas add; maxima combine by maximum (NaN = no valid pixel);
    percentile samples are concatenated. Raises :class:`ZonalError` when the parts come
    from different footprints, pixel rules or percentile requests.
    """
    if not results:
        raise ZonalError("nothing to combine")
    first = results[0]
    for r in results[1:]:
        if (
            len(r.ids) != len(first.ids)
            or not np.array_equal(r.ids, first.ids)
            or (r.pixel_rule, r.pixel_rule_version) != (first.pixel_rule, first.pixel_rule_version)
            or r.percentiles != first.percentiles
        ):
            raise ZonalError("cannot combine results of different plans, rules or percentiles")
    samples = None
    if first.percentiles:
        samples = tuple(np.concatenate([r.samples[k] for r in results]) for k in range(3))
    return ZonalStats(
        ids=first.ids,
        footprint_px=first.footprint_px,
        in_raster_px=np.sum([r.in_raster_px for r in results], axis=0),
        valid_px=np.sum([r.valid_px for r in results], axis=0),
        sum=np.sum([r.sum for r in results], axis=0),
        max=np.fmax.reduce([r.max for r in results], axis=0),
        percentiles=first.percentiles,
        samples=samples,
        pixel_rule=first.pixel_rule,
        pixel_rule_version=first.pixel_rule_version,
    )


def zonal_stats(
    footprints: Any,
    array: np.ndarray,
    grid: Grid,
    *,
    ids: Sequence[Any] | None = None,
    crs: Any = None,
    percentiles: Iterable[float] = DEFAULT_PERCENTILES,
) -> pd.DataFrame:
    """One-shot convenience: ``ZonalPlan.build(...).apply(array).to_frame()``."""
    plan = ZonalPlan.build(footprints, grid, ids=ids, crs=crs)
    return plan.apply(array, percentiles=percentiles).to_frame()


__all__ = [
    "PIXEL_RULE",
    "PIXEL_RULE_VERSION",
    "Grid",
    "ZonalError",
    "ZonalPlan",
    "ZonalStats",
    "combine",
    "reproject",
    "zonal_stats",
]
