"""Issue #19 §3: an export runs as a background job on a real Celery worker (Redis,
PostgreSQL), records its progress, writes only the user's own lines, and is safe to run
twice (the second delivery finds the job claimed and writes nothing)."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = [pytest.mark.services, pytest.mark.worker]

LINES = [
    "W1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,",
    "W1,2,2026-03-03,72071111,IN,Exporter A,Imp,500000,,4000,",
    "W1,3,2026-03-04,72071111,TR,Exporter A,Imp,250000,,4000,",
    "W2,1,2026-03-05,72085120,TR,Exporter B,Imp,2000000,,4000,",
]


def test_an_export_job_is_written_by_a_real_worker_once(
    celery_worker_process, service_env, users, tmp_path
):
    from celery import Celery

    from apps.shipments.export_jobs import export_path
    from apps.shipments.models import ExportJob

    ingest_json("defaults", DEFAULTS_CSV)
    report = ingest_json("customs", write_customs(tmp_path / "export-customs.csv", LINES))
    assert report["accepted"] == len(LINES), report
    # Exporter A's lines from India only: two of its three, none of exporter B's.
    job = ExportJob.objects.create(user=users["exporter_a"], query="origin=IN", format="csv")
    # Not the current app: later tests' tasks must stay on this process's own (eager) app.
    sender = Celery("sender", broker=service_env["CELERY_BROKER_URL"], set_as_current=False)
    for _ in range(2):  # delivered twice: one file, written once
        sender.send_task("shipments.export_run", args=[job.pk], queue="carbon-manifest")
    sender.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        log = celery_worker_process.log.read_text()
        if job.status in ("done", "failed") and log.count("shipments.export_run") >= 4:
            break
        time.sleep(0.2)
    assert job.status == "done", (job.status, job.error)
    assert (job.rows_total, job.rows_done) == (2, 2)
    rows = list(csv.DictReader(io.StringIO(export_path(job).read_text(encoding="utf-8-sig"))))
    assert sorted((r["declaration_id"], r["line"]) for r in rows) == [("W1", "1"), ("W1", "2")]
    assert {r["exporter"] for r in rows} == {"Exporter A"}
    # One delivery wrote the file (True), the other found it claimed (False).
    assert "succeeded" in log and ": True" in log and ": False" in log, log[-2000:]
