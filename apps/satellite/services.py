"""Writes of satellite evidence: the ``raster`` ingest (scenes → per-installation
observations, split into tiles for several workers when large), activity indices and
reconciliation flags.

The raster ingest
    1. validates the file before reading a pixel (``ingest.raster``: local regular file, GTiff
       or netCDF by signature and driver, no VRT, ``/vsi`` or ``driver:`` paths, a budget on
       width × height × bands); a refused or truncated file fails the run with its reason;
    2. selects every installation whose footprint, reprojected to the raster's CRS, meets the
       raster's extent;
    3. builds the coverage weights of those footprints on the grid (``methodologies.zonal``)
       once per (grid, footprints) and keeps them (in memory and in the database):
       every further scene of a time series on the same grid reuses them;
    4. measures every band: in one pass (block by block) when the scene fits one tile, else
       one Celery task per tile (:func:`scene_tile_compute`), each storing its partial sums
       once per (scene, tile) (``ON CONFLICT DO NOTHING``); the task that sees the last tile
       in enqueues :func:`scene_combine`, which adds counts and sums, takes maxima and merges
       percentile samples (exact, ``methodologies.zonal.combine``), stores the observations,
       finishes the ingest run and appends its audit event in one transaction. It runs at
       most once per scene (row lock + status), so a duplicate delivery is a no-op.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.audit.services import audit_append
from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.store import evidence_local_path
from apps.facilities.models import Installation
from apps.satellite.models import (
    ActivityIndex,
    Observation,
    ReconciliationFlag,
    Scene,
    TileResult,
    ZonalPlanCache,
)
from ingest.raster import MAX_CELLS, iter_blocks, raster_meta, read_window
from methodologies import satellite as activity_model
from methodologies.errors import MethodologyError
from methodologies.trace import canonical_bytes
from methodologies.zonal import (
    PIXEL_RULE,
    PIXEL_RULE_VERSION,
    Grid,
    ZonalPlan,
    ZonalStats,
    combine,
    reproject,
)

#: Largest tile [cells = rows × cols × bands]: a scene above it is split for the workers.
TILE_CELLS = 16_000_000
#: Observations whose valid fraction is below this are left out of activity indices [1].
MIN_VALID_FRACTION = 0.5
#: The observation statistic the activity index is built on.
SIGNAL_STATISTIC = "mean"
#: Fewest usable observations in a baseline for an index (the methodology needs 3; fewer
#: than 6 give an index dominated by noise) [1].
MIN_BASELINE_OBSERVATIONS = 6
#: The baseline of a period: the installation's usable observations in the this many months
#: that end with the period (the period included; nothing after it) [months].
BASELINE_MONTHS = 24
PERCENTILES = (95.0,)
_PLAN_MEMORY = 4  # plans kept in memory per process
_plans: OrderedDict[str, ZonalPlan] = OrderedDict()


class SatelliteError(Exception):
    """A satellite computation that cannot be made; the message says why."""


# --- grids and coverage plans -------------------------------------------------------------


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def grid_key(meta: dict) -> str:
    """SHA-256 of a raster's grid: CRS (WKT), affine transform and (rows, cols)."""
    return _sha([meta.get("crs"), list(meta["transform"]), list(meta["shape"][-2:])])


def _grid_extent(grid: Grid) -> shapely.Polygon:
    a, b, c, d, e, f = grid.transform
    rows, cols = grid.shape
    corners = [(0, 0), (cols, 0), (cols, rows), (0, rows)]
    return shapely.Polygon([(a * u + b * v + c, d * u + e * v + f) for u, v in corners])


def footprints_on_grid(grid: Grid, installations: list[Installation]) -> tuple[list[int], Any]:
    """(ids, footprints in the grid's CRS) of the installations whose footprint, reprojected
    to the grid's CRS, meets the grid's extent. Footprints that do not project (e.g. off a
    geostationary disc) are left out; none when the grid has no CRS."""
    if grid.crs is None or not installations:
        return [], np.empty(0, dtype=object)
    geoms = shapely.from_geojson([json.dumps(i.footprint_geojson) for i in installations])
    projected = reproject(geoms, "EPSG:4326", grid.crs)
    bounds = shapely.bounds(projected)
    finite = np.isfinite(bounds).all(axis=1)
    hit = finite.copy()
    hit[finite] = shapely.intersects(projected[finite], _grid_extent(grid))
    ids = [installations[i].pk for i in np.flatnonzero(hit)]
    return ids, projected[hit]


def zonal_plan_get(*, grid: Grid, installations: list[Installation]) -> tuple[ZonalPlan, str, bool]:
    """The coverage plan of the installations meeting ``grid``: (plan, key, reused). Built
    once per (grid, footprints) and kept in memory and in the database
    (:class:`~apps.satellite.models.ZonalPlanCache`), where every host finds it."""
    ids, geoms = footprints_on_grid(grid, installations)
    by_id = {i.pk: i for i in installations}
    key = _sha(
        [grid.crs, list(grid.transform), list(grid.shape)]
        + [[pk, _sha(by_id[pk].footprint_geojson)] for pk in ids]
    )
    if key in _plans:
        _plans.move_to_end(key)
        return _plans[key], key, True
    stored = ZonalPlanCache.objects.filter(key=key).values_list("data", flat=True).first()
    reused = stored is not None
    if reused:
        with np.load(io.BytesIO(bytes(stored))) as z:
            plan = ZonalPlan(
                grid=grid,
                ids=z["ids"],
                indptr=z["indptr"],
                indices=z["indices"],
                weights=z["weights"],
                seg=z["seg"],
                footprint_px=z["footprint_px"],
            )
    else:
        plan = ZonalPlan.build(geoms, grid, ids=np.asarray(ids, dtype=np.int64))
        buffer = io.BytesIO()
        np.savez(
            buffer,
            ids=plan.ids,
            indptr=plan.indptr,
            indices=plan.indices,
            weights=plan.weights,
            seg=plan.seg,
            footprint_px=plan.footprint_px,
        )
        # Two hosts building the same plan at once store it once (the same bytes).
        ZonalPlanCache.objects.bulk_create(
            [ZonalPlanCache(key=key, data=buffer.getvalue())], ignore_conflicts=True
        )
    _plans[key] = plan
    while len(_plans) > _PLAN_MEMORY:
        _plans.popitem(last=False)
    return plan, key, reused


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float] | None:
    """The grid's extent in longitude/latitude (its boundary densified, 64 points a side),
    or None when part of it does not project (e.g. off a geostationary disc) or the grid
    has no CRS: then no installation can be left out on its coordinates."""
    if grid.crs is None:
        return None
    from pyproj import Transformer

    a, b, c, d, e, f = grid.transform
    rows, cols = grid.shape
    t = np.linspace(0.0, 1.0, 65)
    u = np.concatenate([t * cols, np.full(65, cols), t[::-1] * cols, np.zeros(65)])
    v = np.concatenate([np.zeros(65), t * rows, np.full(65, rows), t[::-1] * rows])
    x, y = a * u + b * v + c, d * u + e * v + f
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    if lon.max() - lon.min() > 180:  # crosses the antimeridian: no shortcut
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


#: Margin around the grid's lon/lat extent when selecting installations by their point
#: [degrees]: larger than any footprint's reach from its point (a 500 m buffer is 0.005°).
SELECT_MARGIN_DEG = 0.1


def _installations_with_footprint(grid: Grid | None = None) -> list[Installation]:
    """Installations with a footprint; with ``grid``, only those whose point lies within
    the grid's lon/lat extent plus :data:`SELECT_MARGIN_DEG` (and those without a point)."""
    qs = Installation.objects.exclude(footprint_geojson=None)
    bounds = _lonlat_bounds(grid) if grid is not None else None
    if bounds is not None:
        w, s, e, n = bounds
        m = SELECT_MARGIN_DEG
        qs = qs.filter(
            Q(latitude__isnull=True)
            | Q(longitude__isnull=True)
            | Q(latitude__range=(s - m, n + m), longitude__range=(w - m, e + m))
        )
    return list(qs.only("id", "footprint_geojson").order_by("id"))


def _scene_grid(scene: Scene) -> Grid:
    return Grid(tuple(scene.transform), (scene.height, scene.width), scene.crs_wkt or None)


def _scene_plan(scene: Scene) -> ZonalPlan:
    """The plan a scene was measured with; refuses when footprints changed meanwhile."""
    wanted = set(scene.installation_ids)
    installations = [i for i in _installations_with_footprint(_scene_grid(scene)) if i.pk in wanted]
    plan, key, _ = zonal_plan_get(grid=_scene_grid(scene), installations=installations)
    if key != scene.plan_key:
        raise SatelliteError(
            f"scene {scene.pk}: footprints changed while it was being measured; ingest it again"
        )
    return plan


def tile_windows(rows: int, cols: int, tile_rows: int, tile_cols: int) -> list[list[int]]:
    """[row_off, col_off, height, width] of the tiles partitioning a rows × cols grid."""
    return [
        [r, c, min(tile_rows, rows - r), min(tile_cols, cols - c)]
        for r in range(0, rows, tile_rows)
        for c in range(0, cols, tile_cols)
    ]


def _tile_shape(meta: dict, options: dict) -> tuple[int, int]:
    bands, rows, cols = meta["shape"]
    if options.get("tile_shape"):
        tr, tc = (int(v) for v in options["tile_shape"])
        return max(1, min(tr, rows)), max(1, min(tc, cols))
    budget = int(options.get("tile_cells") or TILE_CELLS)
    return max(1, min(rows, budget // max(1, cols * bands))), cols


# --- the raster ingest ----------------------------------------------------------------------


def _times(meta: dict) -> list[str]:
    if meta.get("times"):
        return [t if "T" in str(t) else "" for t in meta["times"]]
    return [meta["acquired"]] if meta.get("acquired") else []


def raster_ingest(*, run: IngestRun) -> IngestOutcome | None:
    """Ingest a raster evidence file (module docstring). Returns the outcome when the run
    finished here; None when tiles were enqueued (the combine step finishes the run)."""
    with evidence_local_path(run.evidence) as path:
        return _raster_ingest(run=run, path=path)


def _raster_ingest(*, run: IngestRun, path) -> IngestOutcome | None:
    options = run.options or {}
    max_cells = int(options.get("max_cells") or getattr(settings, "RASTER_MAX_CELLS", MAX_CELLS))
    meta = raster_meta(path, variable=options.get("variable"), max_cells=max_cells)
    grid = Grid(meta["transform"], meta["shape"][-2:], meta.get("crs"))
    variable = meta.get("variable") or ""
    done_before = (
        Scene.objects.filter(evidence=run.evidence, variable=variable)
        .exclude(status=Scene.Status.FAILED)
        .first()
    )
    if done_before is not None and done_before.ingest_run_id != run.pk:
        # The same content again: its observations exist (or are being computed).
        with transaction.atomic():
            outcome = IngestOutcome(
                rows_read=meta["shape"][0],
                accepted=0,
                rejected=0,
                duplicates=done_before.observations.count(),
                extra={"scene": done_before.pk, "scene_status": done_before.status},
            )
            ingest_run_finish(run=run, outcome=outcome)
        return outcome

    plan, plan_key, reused = zonal_plan_get(
        grid=grid, installations=_installations_with_footprint(grid)
    )
    tile_rows, tile_cols = _tile_shape(meta, options)
    windows = tile_windows(grid.shape[0], grid.shape[1], tile_rows, tile_cols)
    with transaction.atomic():
        Scene.objects.filter(
            evidence=run.evidence, variable=variable, status=Scene.Status.FAILED
        ).delete()
        scene, _ = Scene.objects.get_or_create(
            evidence=run.evidence,
            variable=variable,
            defaults=dict(
                ingest_run=run,
                format=meta["format"],
                crs_wkt=meta.get("crs") or "",
                crs_epsg=meta.get("crs_epsg"),
                transform=list(meta["transform"]),
                bands=meta["shape"][0],
                height=meta["shape"][1],
                width=meta["shape"][2],
                band_names=[str(b) for b in meta.get("bands") or []],
                times=_times(meta),
                units=(meta.get("units") or "")[:64],
                grid_key=grid_key(meta),
                plan_key=plan_key,
                installation_ids=[int(i) for i in plan.ids],
                pixel_rule=PIXEL_RULE,
                pixel_rule_version=PIXEL_RULE_VERSION,
                tile_rows=tile_rows,
                tile_cols=tile_cols,
                tile_count=len(windows),
            ),
        )
        if scene.status == Scene.Status.DONE:
            return None
        if len(windows) == 1:
            stats = [
                plan.apply_blocks(
                    iter_blocks(path, band, variable=options.get("variable"), max_cells=max_cells),
                    percentiles=PERCENTILES,
                )
                for band in range(1, scene.bands + 1)
            ]
            return _scene_finish(scene, stats, plan_reused=reused, meta=meta)
        scene_id = scene.pk
        transaction.on_commit(lambda: _tiles_enqueue(scene_id, len(windows)))
    return None


def _tiles_enqueue(scene_id: int, count: int) -> None:
    from apps.satellite.tasks import scene_tile_compute_task

    for tile in range(count):
        scene_tile_compute_task.delay(scene_id, tile)


def _pack(stats: list[ZonalStats]) -> bytes:
    arrays = {}
    for b, s in enumerate(stats, start=1):
        arrays.update(
            {
                f"b{b}_in_raster": s.in_raster_px,
                f"b{b}_count": s.valid_px,
                f"b{b}_sum": s.sum,
                f"b{b}_max": s.max,
                f"b{b}_seg": s.samples[0],
                f"b{b}_value": s.samples[1],
                f"b{b}_weight": s.samples[2],
            }
        )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _unpack(data: bytes, plan: ZonalPlan, bands: int) -> list[ZonalStats]:
    with np.load(io.BytesIO(bytes(data))) as z:
        return [
            ZonalStats(
                ids=plan.ids,
                footprint_px=plan.footprint_px,
                in_raster_px=z[f"b{b}_in_raster"],
                valid_px=z[f"b{b}_count"],
                sum=z[f"b{b}_sum"],
                max=z[f"b{b}_max"],
                percentiles=PERCENTILES,
                samples=(z[f"b{b}_seg"], z[f"b{b}_value"], z[f"b{b}_weight"]),
            )
            for b in range(1, bands + 1)
        ]


def scene_tile_compute(*, scene_id: int, tile: int) -> None:
    """Measure one tile of a scene (all bands) and store its partials once; when every
    tile is in, enqueue the combine step. Safe to run twice."""
    from ingest.base import IngestError

    scene = Scene.objects.select_related("ingest_run__evidence").get(pk=scene_id)
    if scene.status != Scene.Status.TILING:
        return
    if not TileResult.objects.filter(scene=scene, tile=tile).exists():
        window = tile_windows(scene.height, scene.width, scene.tile_rows, scene.tile_cols)[tile]
        r0, c0, h, w = window
        try:
            plan = _scene_plan(scene)
            with evidence_local_path(scene.evidence) as path:
                block = read_window(
                    path,
                    ((r0, c0), (h, w)),
                    variable=scene.variable or None,
                    max_cells=scene.bands * scene.height * scene.width,
                )
        except (IngestError, SatelliteError) as exc:
            _scene_fail(scene, f"tile {tile} {window}: {exc}")
            return
        stats = [
            plan.apply(block[b], window=((r0, c0), (h, w)), percentiles=PERCENTILES)
            for b in range(scene.bands)
        ]
        TileResult.objects.bulk_create(
            [TileResult(scene=scene, tile=tile, window=window, partials=_pack(stats))],
            ignore_conflicts=True,  # ON CONFLICT DO NOTHING: one row per (scene, tile)
        )
    # Counted after our commit: the last tile to commit sees them all.
    if TileResult.objects.filter(scene=scene).count() == scene.tile_count:
        from apps.satellite.tasks import scene_combine_task

        scene_combine_task.delay(scene.pk)


def scene_combine(*, scene_id: int) -> IngestOutcome | None:
    """Combine the tiles of a scene into its observations and finish its ingest run; once
    (a second call finds the scene done and does nothing)."""
    with transaction.atomic():
        scene = (
            Scene.objects.select_for_update(of=("self",))
            .select_related("ingest_run__evidence", "ingest_run__requested_by")
            .get(pk=scene_id)
        )
        if scene.status != Scene.Status.TILING:
            return None
        tiles = list(TileResult.objects.filter(scene=scene).order_by("tile"))
        if len(tiles) != scene.tile_count:
            return None
        plan = _scene_plan(scene)
        parts = [_unpack(t.partials, plan, scene.bands) for t in tiles]
        stats = [combine([p[b] for p in parts]) for b in range(scene.bands)]
        return _scene_finish(scene, stats, plan_reused=True, meta=None)


def _scene_finish(
    scene: Scene, stats: list[ZonalStats], *, plan_reused: bool, meta: dict | None
) -> IngestOutcome:
    """Store the observations of every band, mark the scene done, finish its run, refresh
    the monthly activity indices of the installations seen. Inside a transaction."""
    times = [scene.band_time(b) for b in range(1, scene.bands + 1)]
    rows = []
    for b, s in enumerate(stats, start=1):
        frame = s.to_frame()
        moment = datetime.fromisoformat(times[b - 1]) if times[b - 1] else None
        for r in frame.itertuples(index=False):
            rows.append(
                Observation(
                    installation_id=int(r.facility_id),
                    scene=scene,
                    band=b,
                    time=moment,
                    variable=scene.variable,
                    units=scene.units,
                    count=float(r.count),
                    valid_fraction=float(r.valid_fraction),
                    in_raster_fraction=float(r.in_raster_fraction),
                    footprint_px=float(r.footprint_px),
                    sum=float(r.sum),
                    mean=_finite(r.mean),
                    max=_finite(r.max),
                    p95=_finite(r.p95),
                    pixel_rule=r.pixel_rule,
                    pixel_rule_version=r.pixel_rule_version,
                )
            )
    Observation.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    stored = Observation.objects.filter(scene=scene).count()
    scene.status = Scene.Status.DONE
    scene.finished_at = timezone.now()
    scene.save(update_fields=["status", "finished_at"])
    errors = []
    if not scene.crs_wkt:
        errors.append(
            {
                "line": None,
                "field": "crs",
                "value": "",
                "reason": "the raster has no CRS: no footprint can be placed on it",
            }
        )
    outcome = IngestOutcome(
        rows_read=scene.bands,
        accepted=stored,
        rejected=0,
        duplicates=len(rows) - stored,
        errors=errors,
        extra={
            "scene": scene.pk,
            "installations": len(scene.installation_ids),
            "bands": scene.bands,
            "tiles": scene.tile_count,
            "grid_sha256": scene.grid_key,
            "coverage_weights_reused": plan_reused,
            "pixel_rule": f"{scene.pixel_rule} v{scene.pixel_rule_version}",
        },
    )
    ingest_run_finish(run=scene.ingest_run, outcome=outcome)
    moments = sorted({datetime.fromisoformat(t) for t in times if t})
    if scene.installation_ids and moments:
        activity_indices_refresh(
            installation_ids=scene.installation_ids, variable=scene.variable, times=moments
        )
    return outcome


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _scene_fail(scene: Scene, reason: str) -> None:
    with transaction.atomic():
        locked = Scene.objects.select_for_update().get(pk=scene.pk)
        if locked.status != Scene.Status.TILING:
            return
        locked.status, locked.failure = Scene.Status.FAILED, reason
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "failure", "finished_at"])
        run = locked.ingest_run
        run.status, run.failure, run.finished_at = IngestRun.Status.FAILED, reason, timezone.now()
        run.save(update_fields=["status", "failure", "finished_at"])
        audit_append(
            actor=run.requested_by,
            action="ingest.raster.failed",
            object_type="ingest_run",
            object_id=run.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"file": run.name, "reason": reason},
        )


# --- activity indices -----------------------------------------------------------------------


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of "YYYY" or "YYYY-MM"."""
    try:
        if len(period) == 4:
            year = int(period)
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        year, month = (int(p) for p in period.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    except ValueError:
        raise SatelliteError(f"period {period!r}: expected YYYY or YYYY-MM") from None


def _reference_for(
    installation: Installation, period: str, reference_t: float | None, sigma_t: float | None
) -> tuple[float | None, float]:
    """P_ref and σ_ref [t] for ``period``: the annual reference × the period's share of its
    year (a month of a 365-day year: days/365)."""
    annual = reference_t if reference_t is not None else installation.reference_production_t
    sigma = sigma_t if sigma_t is not None else installation.reference_production_sigma_t
    if annual is None:
        return None, 0.0
    if reference_t is not None or len(period) == 4:
        return float(annual), float(sigma or 0.0)
    start, end = period_bounds(period)
    year_days = (
        datetime(start.year + 1, 1, 1, tzinfo=UTC) - datetime(start.year, 1, 1, tzinfo=UTC)
    ).days
    share = (end - start).days / year_days
    return float(annual) * share, float(sigma or 0.0) * share


def _signal(installation_id: int, variable: str) -> list[tuple[datetime, float]]:
    qs = (
        Observation.objects.filter(
            installation_id=installation_id,
            variable=variable,
            time__isnull=False,
            mean__isnull=False,
            valid_fraction__gte=MIN_VALID_FRACTION,
        )
        .order_by("time", "scene_id", "band")
        .values_list("time", SIGNAL_STATISTIC)
    )
    return list(qs)


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def default_variable(installation_id: int) -> str:
    """The variable observed most often over the installation."""
    row = (
        Observation.objects.filter(installation_id=installation_id)
        .values("variable")
        .annotate(n=Count("id"))
        .order_by("-n", "variable")
        .first()
    )
    if row is None:
        raise SatelliteError(f"installation {installation_id}: no satellite observation")
    return row["variable"]


def activity_index_compute(
    *,
    installation: Installation,
    period: str,
    variable: str | None = None,
    reference_production_t: float | None = None,
    reference_production_sigma_t: float | None = None,
    disclosed_production_t: float | None = None,
    disclosed_sigma_t: float = 0.0,
    k: float = activity_model.K_DEFAULT,
    signal: list[tuple[datetime, float]] | None = None,
    units: str | None = None,
) -> tuple[ActivityIndex, dict]:
    """Compute and store the ``satellite.activity`` index of an installation for a period:
    baseline = the installation's usable observations (valid fraction ≥
    :data:`MIN_VALID_FRACTION`) in the :data:`BASELINE_MONTHS` months ending with the period
    (no look-ahead), period = those inside the period, signal = the observation's
    coverage-weighted mean. Without a reference production the index is computed per unit
    reference (P_ref = 1 t) and the expected production is left empty. Returns (row, result
    of the methodology). Raises :class:`SatelliteError` when there are too few observations
    or the baseline has no spread. ``signal``: the installation's (time, value) observations
    when the caller has them already."""
    variable = default_variable(installation.pk) if variable is None else variable
    start, end = period_bounds(period)
    if signal is None:
        signal = _signal(installation.pk, variable)
    since = _months_before(end, BASELINE_MONTHS)
    history = [v for t, v in signal if since <= t < end]
    in_period = [v for t, v in signal if start <= t < end]
    if not in_period:
        raise SatelliteError(f"{installation}: no usable observation of {variable!r} in {period}")
    if len(history) < MIN_BASELINE_OBSERVATIONS:
        raise SatelliteError(
            f"{installation} {period}: {len(history)} usable observation(s) in the "
            f"{BASELINE_MONTHS}-month baseline; at least {MIN_BASELINE_OBSERVATIONS} needed"
        )
    p_ref, s_ref = _reference_for(
        installation, period, reference_production_t, reference_production_sigma_t
    )
    case = {
        "methodology": activity_model.METHODOLOGY_ID,
        "facility_id": installation.identifier,
        "period": period,
        "signal_unit": units if units is not None else _units(installation.pk, variable),
        "baseline_observations": history,
        "period_observations": in_period,
        "reference_production_t": p_ref if p_ref else 1.0,
        "reference_production_sigma_t": s_ref if p_ref else 0.0,
        "k": k,
    }
    if disclosed_production_t is not None:
        if not p_ref:
            raise SatelliteError(
                f"{installation}: no reference production (reference_production_t) to compare "
                "a disclosure with"
            )
        case["disclosed_production_t"] = float(disclosed_production_t)
        case["disclosed_sigma_t"] = float(disclosed_sigma_t)
    try:
        result = activity_model.compute(case)
    except MethodologyError as exc:
        raise SatelliteError(f"{installation} {period}: {exc}") from exc
    trace_bytes, sha = canonical_bytes(result["trace"]), result["trace_sha256"]
    values = dict(
        period_start=start,
        period_end=end,
        statistic=SIGNAL_STATISTIC,
        n_period=len(in_period),
        n_baseline=len(history),
        baseline_p10=result["baseline_p10"],
        baseline_median=result["baseline_median"],
        period_mean=result["period_mean"],
        activity_index=result["activity_index"],
        activity_index_sigma=result["activity_index_sigma"],
        reference_production_t=p_ref,
        reference_production_sigma_t=s_ref if p_ref else None,
        expected_production_t=result["expected_production_t"] if p_ref else None,
        expected_production_sigma_t=result["expected_production_sigma_t"] if p_ref else None,
        methodology=activity_model.METHODOLOGY_ID,
        methodology_version=activity_model.VERSION,
        trace=trace_bytes.decode(),
        trace_sha256=sha,
    )
    if disclosed_production_t is not None:
        values.update(
            disclosed_production_t=result["disclosed_production_t"],
            disclosed_sigma_t=float(disclosed_sigma_t),
            z_score=result["z_score"],
            flagged=result["flagged"],
        )
    row, _ = ActivityIndex.objects.update_or_create(
        installation=installation, variable=variable, period=period, defaults=values
    )
    return row, result


def _units(installation_id: int, variable: str) -> str:
    obs = Observation.objects.filter(installation_id=installation_id, variable=variable).first()
    return obs.units if obs else ""


def activity_indices_refresh(
    *, installation_ids: list[int], variable: str, times: list[datetime] | None = None
) -> int:
    """Recompute the monthly indices of these installations whose baseline window holds
    one of ``times`` (the new observations' times; all months when None). Months without
    enough data are skipped. Returns how many were stored."""
    stored = 0
    for installation in Installation.objects.filter(pk__in=installation_ids):
        signal = _signal(installation.pk, variable)
        if len(signal) < MIN_BASELINE_OBSERVATIONS:
            continue
        units = _units(installation.pk, variable)
        for period in sorted({f"{t.year:04d}-{t.month:02d}" for t, _ in signal}):
            _, end = period_bounds(period)
            since = _months_before(end, BASELINE_MONTHS)
            if times is not None and not any(since <= t < end for t in times):
                continue
            try:
                activity_index_compute(
                    installation=installation,
                    period=period,
                    variable=variable,
                    signal=signal,
                    units=units,
                )
            except SatelliteError:
                continue
            stored += 1
    return stored


# --- reconciliation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationOutcome:
    """Result of :func:`reconciliation_check`: the index row, the numbers, and the flag when
    the disclosure disagrees beyond k·σ (None otherwise)."""

    activity_index: ActivityIndex
    disclosed_production_t: float
    expected_production_t: float
    combined_sigma_t: float
    z_score: float
    flagged: bool
    flag: ReconciliationFlag | None


def reconciliation_check(
    *,
    installation: Installation,
    period: str,
    disclosed_production_t: float,
    disclosed_sigma_t: float = 0.0,
    variable: str | None = None,
    reference_production_t: float | None = None,
    reference_production_sigma_t: float | None = None,
    k: float = activity_model.K_DEFAULT,
    disclosure_ref: str = "",
    actor: Any = None,
) -> ReconciliationOutcome:
    """Compare a disclosed production [t] of ``installation`` for ``period`` ("YYYY" or
    "YYYY-MM") with the satellite-implied production (``satellite.activity``) and raise,
    update or close the reconciliation flag of (installation, variable, period,
    disclosure_ref). ``reference_production_t`` defaults to the installation's annual
    reference (scaled to a month by days). The flag and its audit event commit together.
    Raises :class:`SatelliteError` when the check cannot be made (no observations in the
    period, fewer than 3 in the baseline, no reference production)."""
    with transaction.atomic():
        index, result = activity_index_compute(
            installation=installation,
            period=period,
            variable=variable,
            reference_production_t=reference_production_t,
            reference_production_sigma_t=reference_production_sigma_t,
            disclosed_production_t=disclosed_production_t,
            disclosed_sigma_t=disclosed_sigma_t,
            k=k,
        )
        key = dict(
            installation=installation,
            variable=index.variable,
            period=period,
            disclosure_ref=disclosure_ref,
        )
        existing = ReconciliationFlag.objects.select_for_update().filter(**key).first()
        flag = None
        if result["flagged"]:
            flag = _flag_raise(existing, key, index, result, k, actor)
        elif existing is not None and existing.status in (
            ReconciliationFlag.Status.OPEN,
            ReconciliationFlag.Status.REVIEW,
        ):
            reconciliation_flag_close(
                flag=existing,
                actor=actor,
                reason=f"a later check is within the combined uncertainty (z = "
                f"{result['z_score']:+.2f}, k = {k:g})",
            )
    return ReconciliationOutcome(
        activity_index=index,
        disclosed_production_t=result["disclosed_production_t"],
        expected_production_t=result["expected_production_t"],
        combined_sigma_t=result["combined_sigma_t"],
        z_score=result["z_score"],
        flagged=bool(result["flagged"]),
        flag=flag,
    )


def _flag_raise(
    existing: ReconciliationFlag | None,
    key: dict,
    index: ActivityIndex,
    result: dict,
    k: float,
    actor: Any,
) -> ReconciliationFlag:
    if existing is not None and existing.trace_sha256 == index.trace_sha256:
        return existing  # the same check again: keep the flag and its status
    d, e = result["disclosed_production_t"], result["expected_production_t"]
    reason = (
        f"disclosed production {d:,.0f} t is {result['z_score']:+.1f} σ from the "
        f"satellite-implied {e:,.0f} ± {result['expected_production_sigma_t']:,.0f} t "
        f"(combined σ {result['combined_sigma_t']:,.0f} t; flagged when |z| > {k:g})"
    )
    values = dict(
        activity_index=index,
        quantity="production",
        disclosed_value=d,
        disclosed_sigma=index.disclosed_sigma_t or 0.0,
        satellite_value=e,
        satellite_sigma=result["expected_production_sigma_t"],
        unit="t",
        combined_uncertainty=result["combined_sigma_t"],
        z_score=result["z_score"],
        k=k,
        model=activity_model.METHODOLOGY_ID,
        model_version=activity_model.VERSION,
        parameters={
            "k": k,
            "baseline_low_percentile": activity_model.BASELINE_LOW_PERCENTILE,
            "baseline_mid_percentile": activity_model.BASELINE_MID_PERCENTILE,
            "signal": f"observation {SIGNAL_STATISTIC} of {index.variable or 'the raster'}",
            "min_valid_fraction": MIN_VALID_FRACTION,
            "reference_production_t": index.reference_production_t,
            "reference_production_sigma_t": index.reference_production_sigma_t,
        },
        validation={
            "statement": activity_model.VALIDATION,
            "baseline_observations": index.n_baseline,
            "period_observations": index.n_period,
            "baseline_p10": index.baseline_p10,
            "baseline_median": index.baseline_median,
        },
        trace=index.trace,
        trace_sha256=index.trace_sha256,
        reason=reason,
        status=ReconciliationFlag.Status.OPEN,
        closed_at=None,
        closed_by=None,
        closed_reason="",
    )
    if existing is None:
        flag = ReconciliationFlag.objects.create(**key, **values)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        flag = existing
    audit_append(
        actor=actor,
        action="satellite.flag.raise",
        object_type="reconciliation_flag",
        object_id=flag.pk,
        payload={
            "installation": flag.installation.identifier,
            "period": flag.period,
            "disclosed_t": d,
            "satellite_implied_t": e,
            "combined_sigma_t": flag.combined_uncertainty,
            "z": flag.z_score,
            "trace_sha256": flag.trace_sha256,
        },
    )
    return flag


def reconciliation_flag_review(*, flag: ReconciliationFlag, actor: Any, note: str = "") -> None:
    """Put an open flag under review (docs/web.md, "Flags"), with its event."""
    with transaction.atomic():
        flag.status = ReconciliationFlag.Status.REVIEW
        flag.save(update_fields=["status"])
        audit_append(
            actor=actor,
            action="satellite.flag.review",
            object_type="reconciliation_flag",
            object_id=flag.pk,
            payload={"note": note},
        )


def reconciliation_flag_close(*, flag: ReconciliationFlag, actor: Any, reason: str) -> None:
    """Close an open flag (reviewed, or superseded by a consistent check), with its event."""
    with transaction.atomic():
        flag.status = ReconciliationFlag.Status.CLOSED
        flag.closed_at = timezone.now()
        flag.closed_by = actor if getattr(actor, "pk", None) else None
        flag.closed_reason = reason
        flag.save(update_fields=["status", "closed_at", "closed_by", "closed_reason"])
        audit_append(
            actor=actor,
            action="satellite.flag.close",
            object_type="reconciliation_flag",
            object_id=flag.pk,
            payload={"reason": reason},
        )
