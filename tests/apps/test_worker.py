"""The ingest task executed by a real Celery worker process on Redis.

The test starts ``celery worker`` against the test database and runs the public
``manage.py ingest`` command in another process with CELERY_BROKER_URL set: the command
enqueues on Redis and waits; the worker does the work.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ROOT, write_customs

pytestmark = [pytest.mark.services, pytest.mark.worker]


def manage(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_ingest_runs_on_a_real_worker(celery_worker_process, service_env, tmp_path):
    defaults = manage(
        service_env, "ingest", "defaults", str(DEFAULTS_CSV), "--json", "--timeout", "240"
    )
    assert defaults["accepted"] > 10_000
    path = write_customs(
        tmp_path / "q.csv",
        [
            "Q1,1,2026-03-02,72081000,CN,Queue Steel,Imp,1000000,,4000,",
            "Q1,2,2026-03-02,72081000,XX,Queue Steel,Imp,1000,,4000,",
        ],
    )
    summary = manage(service_env, "ingest", "customs", str(path), "--json", "--timeout", "120")
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    assert Shipment.objects.get(declaration_id="Q1").embedded_emissions_t == pytest.approx(
        1000 * 3.5056
    )
    log = celery_worker_process.log.read_text()
    # The worker, not the command's process, executed both runs.
    assert log.count("evidence.ingest_run_execute") >= 2
    assert "succeeded" in log
