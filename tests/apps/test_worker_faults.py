"""A worker killed with SIGKILL in the middle of a large ingest loses nothing and
duplicates nothing: after a restart the redelivered task ends with the exact row count.

These are runs read whole, in batches (``CM_CUSTOMS_CHUNK_LINES=0``); a file split into
chunks, and a whole worker host killed mid-chunk: tests/apps/evidence/test_multihost.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import connection
from django.db.models import Count

from apps.evidence.models import IngestRun
from apps.evidence.services import evidence_store_path
from apps.shipments.models import Shipment
from fixtures.trade.generate_declarations import EXTRACT, generate_declarations
from tests.apps.helpers import DEFAULTS_CSV, ROOT, ingest_json
from tests.conftest import Worker

# Minutes of ingest, bounded by the waits below: more than the global 300 s timeout when
# the suite runs in parallel (xdist) on a small machine.
pytestmark = [pytest.mark.services, pytest.mark.worker, pytest.mark.timeout(1200)]

# Lines per customs batch (CM_CUSTOMS_BATCH_ROWS) in these runs: a tenth of the default,
# so that a file of several batches is quick to generate and to load.
BATCH = 10_000


def test_sigkill_mid_ingest_then_restart_gives_exact_counts(service_env, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(
        service_env,
        CM_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CM_VISIBILITY_TIMEOUT_S="10",
        CM_CUSTOMS_CHUNK_LINES="0",
        CM_CUSTOMS_BATCH_ROWS=str(BATCH),
    )
    _defaults_ingest(env)
    made = generate_declarations(EXTRACT, tmp_path / "big.csv", scale=5.0, seed=11)
    assert made["lines"] > 4 * BATCH

    worker = Worker(env, tmp_path / "worker1.log", new_session=True).start()
    evidence = evidence_store_path(path=tmp_path / "big.csv")
    run = IngestRun.objects.create(source="customs", evidence=evidence)
    _send(env, run)

    # Wait until at least one batch is committed, then kill the whole worker.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.accepted > 0 and run.status == IngestRun.Status.RUNNING:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"no batch committed in time: {run.status}, {worker.log.read_text()[-1500:]}")
    os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    partial = Shipment.objects.filter(ingest_run=run).count()
    assert 0 < partial < made["valid_lines"], "killed after a whole batch, before the end"
    assert partial % BATCH == 0, "only whole batches are committed"

    # A new worker picks the task up again once the visibility timeout has passed.
    restarted = Worker(env, tmp_path / "worker2.log", new_session=True).start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED):
                break
            time.sleep(0.5)
    finally:
        restarted.stop()
    assert run.status == IngestRun.Status.DONE, (run.failure, restarted.log.read_text()[-2000:])
    assert run.attempts == 2
    assert run.accepted == made["valid_lines"]
    rows = Shipment.objects.filter(ingest_run=run)
    assert rows.count() == made["valid_lines"]
    assert not rows.values("declaration_id", "line").annotate(n=Count("id")).filter(n__gt=1)
    assert not rows.filter(estimate__isnull=True).exists()


def _defaults_ingest(env: dict[str, str]) -> None:
    """Reference data through the public command, in this process (its tasks run here, as
    without a broker; committed, so the workers read them). The default-value table also
    extends the CN catalogue, so the generated files' lines are all CBAM goods. ``env``:
    the workers' environment, whose database this process's is."""
    from tests.conftest import database_url_of

    assert env["DATABASE_URL"] == database_url_of(connection), "not the workers' database"
    summary = ingest_json("defaults", DEFAULTS_CSV)
    assert summary["accepted"] > 0, summary


def _send(env: dict[str, str], run: IngestRun) -> None:
    """Enqueue the run on Redis, as the `ingest` command does from another process. Not
    set as the current app: the shared tasks of this process stay on the eager one."""
    with Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False) as client:
        client.send_task("evidence.ingest_run_execute", args=[run.pk], queue="carbon-manifest")


def _pool_children(worker: Worker) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(worker.proc.pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def _wait_for(run: IngestRun, done, seconds: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if done(run):
            return
        time.sleep(0.05)
    pytest.fail(f"{what}: {run.status}, attempts {run.attempts}; {worker.log.read_text()[-1500:]}")


def test_a_task_that_keeps_crashing_its_worker_is_given_up_and_marked_failed(
    service_env, tmp_path, settings
):
    """A poison task: each execution kills the worker's pool process (SIGKILL, as an
    out-of-memory kill or a crash in a C library would). The task is delivered again
    each time, until the run has been attempted MAX_ATTEMPTS times; the next delivery
    marks it failed without running it. The worker itself stays up and serves on."""
    from apps.evidence.services import MAX_ATTEMPTS

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(service_env, CM_MEDIA_ROOT=str(settings.MEDIA_ROOT), CM_CUSTOMS_CHUNK_LINES="0")
    generate_declarations(EXTRACT, tmp_path / "poison.csv", scale=3.0, seed=3)
    worker = Worker(env, tmp_path / "worker.log", new_session=True).start()
    try:
        run = IngestRun.objects.create(
            source="customs",
            evidence=evidence_store_path(path=tmp_path / "poison.csv"),
        )
        _send(env, run)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            _wait_for(
                run,
                lambda r, a=attempt: r.attempts == a and r.status == IngestRun.Status.RUNNING,
                120,
                f"attempt {attempt} did not start",
                worker,
            )
            for pid in _pool_children(worker):
                os.kill(pid, signal.SIGKILL)
        _wait_for(run, lambda r: r.status == IngestRun.Status.FAILED, 120, "not failed", worker)
        assert f"gave up after {MAX_ATTEMPTS} attempts" in run.failure
        assert run.attempts == MAX_ATTEMPTS + 1
        assert run.deliveries == MAX_ATTEMPTS + 1
        assert worker.proc.poll() is None, "the worker itself survives its pool's crashes"

        # ... and goes on serving: a good file right after is ingested.
        good = tmp_path / "good.csv"
        good.write_text(
            "declaration_id,line,date,cn_code,origin,exporter,net_mass_kg\n"
            "G1,1,2026-03-01,72081000,CN,Steel Co,1000\n",
            encoding="utf-8",
        )
        after = IngestRun.objects.create(source="customs", evidence=evidence_store_path(path=good))
        _send(env, after)
        _wait_for(after, lambda r: r.status == IngestRun.Status.DONE, 120, "not served", worker)
        assert after.accepted == 1
    finally:
        worker.stop()


def test_a_task_that_outlives_the_visibility_timeout_runs_to_one_result(
    service_env, tmp_path, settings
):
    """Redis delivers an unacknowledged task again once its visibility timeout has passed,
    even while the first worker still runs it. The second worker finds the run's lease
    taken and stops; the first finishes alone: one result, exact counts, no duplicates."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(
        service_env,
        CM_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CM_CUSTOMS_CHUNK_LINES="0",
        CM_VISIBILITY_TIMEOUT_S="2",
        CM_UNACKED_RESTORE_INTERVAL_S="1",
        CM_CUSTOMS_BATCH_ROWS=str(BATCH),
    )
    _defaults_ingest(env)
    # Long enough to outlive the 2 s visibility timeout several times over.
    made = generate_declarations(EXTRACT, tmp_path / "long.csv", scale=12.0, seed=11)
    first = Worker(env, tmp_path / "worker1.log").start()
    second = Worker(env, tmp_path / "worker2.log").start()
    try:
        run = IngestRun.objects.create(
            source="customs",
            evidence=evidence_store_path(path=tmp_path / "long.csv"),
        )
        _send(env, run)
        _wait_for(
            run,
            lambda r: r.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED),
            300,
            "not finished",
            first,
        )
    finally:
        first.stop()
        second.stop()
    assert run.status == IngestRun.Status.DONE, run.failure
    assert run.deliveries >= 2, "the task was delivered again while it ran"
    assert run.attempts == 1, "only one execution ran it"
    rows = Shipment.objects.filter(ingest_run=run)
    assert run.accepted == rows.count() == made["valid_lines"]
    assert not rows.values("declaration_id", "line").annotate(n=Count("id")).filter(n__gt=1)
    from apps.audit.models import AuditEvent

    events = AuditEvent.objects.filter(object_type="ingest_run", object_id=str(run.pk))
    assert list(events.values_list("action", flat=True)) == ["ingest.customs"]


def test_a_task_past_its_soft_time_limit_ends_failed_naming_the_limit(
    service_env, tmp_path, settings
):
    """Issue #16 item 4: tasks have time limits. An ingest still running at the soft limit
    (CM_TASK_SOFT_TIME_LIMIT_S) is stopped, its run marked failed once with the limit named
    and not retried; the worker and its pool process serve the next task."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(
        service_env,
        CM_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CM_CUSTOMS_CHUNK_LINES="0",
        CM_TASK_SOFT_TIME_LIMIT_S="2",
        CM_TASK_TIME_LIMIT_S="120",
    )
    generate_declarations(EXTRACT, tmp_path / "slow.csv", scale=10.0, seed=5)
    worker = Worker(env, tmp_path / "worker.log", new_session=True).start()
    try:
        pool = _pool_children(worker)
        run = IngestRun.objects.create(
            source="customs",
            evidence=evidence_store_path(path=tmp_path / "slow.csv"),
        )
        _send(env, run)
        _wait_for(run, lambda r: r.status == IngestRun.Status.FAILED, 120, "not stopped", worker)
        assert run.failure == (
            "stopped at the task time limit of 2 s (CM_TASK_SOFT_TIME_LIMIT_S)"
        ), run.failure
        assert run.attempts == 1
        good = tmp_path / "good.csv"
        good.write_text(
            "declaration_id,line,date,cn_code,origin,exporter,net_mass_kg\n"
            "T1,1,2026-03-01,72081000,CN,Steel Co,1000\n",
            encoding="utf-8",
        )
        after = IngestRun.objects.create(source="customs", evidence=evidence_store_path(path=good))
        _send(env, after)
        _wait_for(after, lambda r: r.status == IngestRun.Status.DONE, 120, "not served", worker)
        assert _pool_children(worker) == pool, "the soft limit does not cost the pool process"
        run.refresh_from_db()
        assert run.attempts == 1 and run.status == IngestRun.Status.FAILED
    finally:
        worker.stop()


def _celery_conf(**env: str) -> subprocess.CompletedProcess:
    code = (
        "from config.celery import app; c = app.conf; "
        "print(c.task_soft_time_limit, c.task_time_limit, c.worker_max_memory_per_child)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_workers_limits_come_from_the_environment_and_are_checked():
    # Defaults: soft 1800 s, hard 1900 s, 1024 MiB = 1,048,576 KiB (Celery counts KiB).
    default = _celery_conf()
    assert default.stdout.split() == ["1800", "1900", "1048576"], default.stderr
    # 300 MiB → 307,200 KiB.
    set_ = _celery_conf(
        CM_TASK_SOFT_TIME_LIMIT_S="60", CM_TASK_TIME_LIMIT_S="90", CM_WORKER_MAX_MEMORY_MB="300"
    )
    assert set_.stdout.split() == ["60", "90", "307200"], set_.stderr
    wrong = _celery_conf(CM_TASK_SOFT_TIME_LIMIT_S="90", CM_TASK_TIME_LIMIT_S="60")
    assert wrong.returncode != 0
    assert "CM_TASK_TIME_LIMIT_S must be greater than CM_TASK_SOFT_TIME_LIMIT_S (60 <= 90)" in (
        wrong.stderr
    )
