"""A worker killed with SIGKILL in the middle of a large ingest loses nothing and
duplicates nothing: after a restart the redelivered task ends with the exact row count."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db.models import Count

from apps.evidence.models import IngestRun
from apps.evidence.services import evidence_store_path
from apps.shipments.models import Shipment
from fixtures.trade.generate_declarations import EXTRACT, generate_declarations
from tests.apps.helpers import DEFAULTS_CSV, ROOT
from tests.conftest import Worker

pytestmark = [pytest.mark.services, pytest.mark.worker]


def test_sigkill_mid_ingest_then_restart_gives_exact_counts(service_env, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    env = dict(service_env, CM_MEDIA_ROOT=str(settings.MEDIA_ROOT), CM_VISIBILITY_TIMEOUT_S="10")
    # Reference data through the public command, in-process.
    subprocess.run(
        [sys.executable, "manage.py", "ingest", "defaults", str(DEFAULTS_CSV)],
        cwd=ROOT,
        env={k: v for k, v in env.items() if k != "CELERY_BROKER_URL"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    made = generate_declarations(EXTRACT, tmp_path / "big.csv", scale=30.0, seed=11)
    assert made["lines"] > 350_000

    worker = Worker(env, tmp_path / "worker1.log", new_session=True).start()
    evidence = evidence_store_path(path=tmp_path / "big.csv", kind="customs")
    # The test process enqueues on Redis, as the `ingest` command does.
    run = IngestRun.objects.create(source="customs", evidence=evidence)
    # Not set as the current app: the shared tasks of this process stay on the eager one.
    with Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False) as client:
        client.send_task("evidence.ingest_run_execute", args=[run.pk], queue="carbon-manifest")

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
    assert partial % 100_000 == 0, "only whole batches are committed"

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
