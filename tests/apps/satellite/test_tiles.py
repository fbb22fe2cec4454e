"""Scale-out: a scene split into tiles, one task per tile, combined exactly; the result
equals the whole-raster result, with real Celery workers on Redis, and every step is safe
to run twice."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import shapely
from celery import Celery
from numpy.testing import assert_allclose, assert_array_equal

from apps.evidence.models import IngestRun
from apps.evidence.services import evidence_store_path, ingest_run_create
from apps.satellite import services
from apps.satellite.models import Observation, Scene, TileResult
from ingest.raster import read_raster
from methodologies.zonal import Grid, ZonalPlan
from tests.apps.satellite.helpers import installation_at, lonlat_of_pixel, write_geotiff
from tests.conftest import Worker

pytestmark = pytest.mark.services

TILE = [37, 50]  # uneven tiles: 150 × 170 pixels → 5 × 4 = 20 tiles


def noisy(seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).gamma(2.0, 50.0, size=(2, 150, 170)).astype(np.float32)
    data[:, 70:75, 80:90] = np.nan  # a cloud inside a footprint
    return data


def footprints_world() -> list:
    """Overlapping, edge-crossing and tile-crossing footprints."""
    return [
        installation_at("T-A", *lonlat_of_pixel(50, 50)),
        installation_at("T-B", *lonlat_of_pixel(58, 52)),  # overlaps T-A
        installation_at("T-C", *lonlat_of_pixel(85, 72)),  # over the cloud, across tiles
        installation_at("T-D", *lonlat_of_pixel(168, 148)),  # crosses two raster edges
    ]


def whole_raster_result(path, installations):
    """The reference: the engine's plan applied to the whole array of each band."""
    data, meta = read_raster(path)
    geoms = shapely.from_geojson([json.dumps(i.footprint_geojson) for i in installations])
    plan = ZonalPlan.build(
        geoms, Grid.from_meta(meta), ids=[i.pk for i in installations], crs="EPSG:4326"
    )
    return [plan.apply(data[b], percentiles=(95,)) for b in range(data.shape[0])]


def assert_equals_whole(scene: Scene, whole, installations) -> None:
    for b, stats in enumerate(whole, start=1):
        for k, inst in enumerate(installations):
            obs = Observation.objects.get(scene=scene, installation=inst, band=b)
            assert_allclose(obs.count, stats.count[k], rtol=1e-12)
            assert_allclose(obs.sum, stats.sum[k], rtol=1e-12)
            assert obs.max == stats.max[k]  # maxima combine exactly
            assert obs.p95 == stats.percentile(95)[k]  # merged samples: exact
            assert_allclose(obs.in_raster_fraction, stats.in_raster_fraction[k], rtol=1e-12)


def test_tiles_in_process_equal_the_whole_raster_and_rerun_safely(postgres, tmp_path):
    installations = footprints_world()
    path = write_geotiff(tmp_path / "s.tif", noisy(1), time="2025-04-01", variable="frp")
    run = ingest_run_create(
        source="raster",
        evidence=evidence_store_path(path=path),
        original_name=path.name,
        options={"tile_shape": TILE},
    )
    run.refresh_from_db()
    assert run.status == IngestRun.Status.DONE, run.failure
    scene = Scene.objects.get()
    assert (scene.tile_count, TileResult.objects.filter(scene=scene).count()) == (20, 20)
    assert run.accepted == 2 * len(installations)
    assert_equals_whole(scene, whole_raster_result(path, installations), installations)

    # A redelivered tile task and a second combine change nothing.
    before = list(Observation.objects.order_by("id").values_list("id", "sum", "max"))
    services.scene_tile_compute(scene_id=scene.pk, tile=3)
    assert services.scene_combine(scene_id=scene.pk) is None
    assert TileResult.objects.filter(scene=scene).count() == 20
    assert list(Observation.objects.order_by("id").values_list("id", "sum", "max")) == before


@pytest.mark.worker
def test_tiles_on_two_real_workers_equal_the_whole_raster(
    celery_worker_process, service_env, tmp_path
):
    installations = footprints_world()
    second = Worker(service_env, tmp_path / "worker2.log").start()
    try:
        path = write_geotiff(tmp_path / "w.tif", noisy(2), time="2025-05-01", variable="frp")
        evidence = evidence_store_path(path=path)
        run = IngestRun.objects.create(
            source="raster", evidence=evidence, options={"tile_shape": TILE}
        )
        # Enqueued on Redis as the `ingest` command does; the workers do the rest.
        with Celery(broker=service_env["CELERY_BROKER_URL"], set_as_current=False) as client:
            client.send_task("evidence.ingest_run_execute", args=[run.pk], queue="carbon-manifest")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED):
                break
            time.sleep(0.3)
    finally:
        second.stop()
    logs = celery_worker_process.log.read_text() + second.log.read_text()
    assert run.status == IngestRun.Status.DONE, (run.failure, logs[-3000:])
    scene = Scene.objects.get(ingest_run=run)
    assert scene.status == Scene.Status.DONE
    assert TileResult.objects.filter(scene=scene).count() == 20
    # Each tile task ran once per delivery (no redelivery here); the combine ran.
    assert logs.count("satellite.scene_tile_compute[") >= 2 * 20  # received + succeeded
    assert "satellite.scene_combine[" in logs
    assert_equals_whole(scene, whole_raster_result(path, installations), installations)
    assert_array_equal(
        sorted(Observation.objects.filter(scene=scene).values_list("installation_id", flat=True)),
        sorted([i.pk for i in installations] * 2),
    )


def test_a_truncated_scene_fails_its_run_cleanly_in_the_tile_path(postgres, tmp_path):
    footprints_world()
    import rasterio.shutil

    whole = write_geotiff(tmp_path / "t.tif", noisy(3), time="2025-06-01", variable="frp")
    # A cloud-optimised GeoTIFF keeps its header first: cut, its header still reads and the
    # tiles at the end of the file do not.
    cog = tmp_path / "t_cog.tif"
    rasterio.shutil.copy(whole, cog, driver="COG", blocksize=32)
    raw = cog.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(raw[: int(len(raw) * 0.6)])
    run = ingest_run_create(
        source="raster",
        evidence=evidence_store_path(path=cut),
        original_name=cut.name,
        options={"tile_shape": TILE},
    )
    run.refresh_from_db()
    assert run.status == IngestRun.Status.FAILED
    assert "truncated or corrupt" in run.failure and "tile" in run.failure
    assert Scene.objects.get().status == Scene.Status.FAILED
    assert not Observation.objects.exists()
