"""Redis restarted while a worker runs a task (issue #16, item 5).

The worker must survive the broker going away and coming back (kombu used to die with
"Unrecoverable error: AttributeError ... 'NoneType' object has no attribute 'hostname'"
while restoring unacknowledged messages), and the task that was running must end exactly
once: one execution, the exact row count, no duplicate rows.

The test never touches the shared Redis: it starts its own ``redis-server`` on a free port
(append-only file on, as a production broker that must not lose queued tasks is run),
points a real worker at it and restarts that server mid-task.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db.models import Count

from apps.evidence.models import IngestRun
from apps.evidence.services import evidence_store_path
from apps.shipments.models import Shipment
from fixtures.trade.generate_declarations import EXTRACT, generate_declarations
from tests.apps.test_worker_faults import _defaults_ingest, _send, _wait_for
from tests.conftest import Worker
from tests.own_redis import REDIS_SERVER, OwnRedis

pytestmark = [pytest.mark.services, pytest.mark.worker, pytest.mark.timeout(900)]


@pytest.fixture
def own_redis(tmp_path):
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is needed for the broker restart test")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder, persistent=True).start()
    yield server
    server.stop()


@pytest.mark.parametrize("down_s", [0.0, 12.0], ids=["restarted-at-once", "down-12s"])
def test_a_redis_restart_mid_task_leaves_the_worker_up_and_the_task_done_once(
    service_env, own_redis, tmp_path, settings, down_s
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(
        service_env,
        CELERY_BROKER_URL=own_redis.url,
        CM_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        # Short, so that a restore after the restart would show within the test.
        CM_VISIBILITY_TIMEOUT_S="8",
        CM_UNACKED_RESTORE_INTERVAL_S="1",
        CM_CUSTOMS_CHUNK_LINES="0",  # one task read whole (chunks: evidence/test_multihost.py)
        CM_CUSTOMS_BATCH_ROWS="10000",  # several batches: the broker goes away between two
    )
    _defaults_ingest(env)
    made = generate_declarations(EXTRACT, tmp_path / "big.csv", scale=8.0, seed=5)
    worker = Worker(env, tmp_path / "worker.log", new_session=True).start()
    try:
        run = IngestRun.objects.create(
            source="customs",
            evidence=evidence_store_path(path=tmp_path / "big.csv"),
        )
        _send(env, run)
        _wait_for(run, lambda r: r.status == IngestRun.Status.RUNNING, 120, "not started", worker)
        # Mid-task: the broker goes away (SIGTERM: it writes its append-only file and
        # exits) and comes back at once, or after 12 s of reconnection attempts (the task
        # may end meanwhile: its acknowledgement then waits for the broker).
        own_redis.stop()
        run.refresh_from_db()
        assert run.status == IngestRun.Status.RUNNING, "the broker went away mid-task"
        time.sleep(down_s)
        assert worker.proc.poll() is None, worker.log.read_text()[-3000:]
        own_redis.start()
        _wait_for(
            run,
            lambda r: r.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED),
            400,
            "not finished",
            worker,
        )
        # Past a visibility timeout: a redelivery, if any, has been seen and refused.
        time.sleep(10)
        log = worker.log.read_text()
        assert worker.proc.poll() is None, f"the worker died: {log[-3000:]}"
        assert "Unrecoverable error" not in log, log[-3000:]

        # ... and it goes on serving on the restarted broker.
        good = tmp_path / "good.csv"
        good.write_text(
            "declaration_id,line,date,cn_code,origin,exporter,net_mass_kg\n"
            "R1,1,2026-03-01,72081000,CN,Steel Co,1000\n",
            encoding="utf-8",
        )
        after = IngestRun.objects.create(source="customs", evidence=evidence_store_path(path=good))
        _send(env, after)
        _wait_for(after, lambda r: r.status == IngestRun.Status.DONE, 120, "not served", worker)
    finally:
        worker.stop()
    run.refresh_from_db()
    assert run.status == IngestRun.Status.DONE, run.failure
    assert run.attempts == 1, "executed exactly once"
    rows = Shipment.objects.filter(ingest_run=run)
    assert run.accepted == rows.count() == made["valid_lines"]
    assert not rows.values("declaration_id", "line").annotate(n=Count("id")).filter(n__gt=1)
    assert after.accepted == 1
