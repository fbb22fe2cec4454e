"""Lost task messages are sent again; a broker that is down never answers HTTP 500 after
the data is committed (issue #16, item 6).

Redis keeps nothing on disk here (``--save "" --appendonly no``, as the issue's tester ran
it): a restart drops every queued message. Each test runs its own redis-server on a free
port, so the one other tests share is never stopped, and a real Celery worker on it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.utils import timezone

from apps.disclosures.models import DisclosureVersion
from apps.evidence.models import IngestRun
from apps.evidence.services import RECONCILE_GRACE, evidence_store_path
from apps.facilities.models import Installation
from tests.apps.helpers import DEFAULTS_CSV, ROOT, ingest_json, write_customs
from tests.conftest import Worker, service_missing
from tests.own_redis import OwnRedis

pytestmark = [pytest.mark.services, pytest.mark.worker, pytest.mark.timeout(900)]

QUEUE = "carbon-manifest"
TEMPLATE_CSV = ROOT / "fixtures" / "disclosures" / "template_example.csv"


@pytest.fixture
def own_redis(tmp_path):
    try:
        subprocess.run(["redis-server", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        service_missing("needs redis-server")
    server = OwnRedis(tmp_path, persistent=False)
    yield server
    server.stop()


@pytest.fixture
def env(service_env, own_redis, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    return dict(service_env, CELERY_BROKER_URL=own_redis.url, CM_MEDIA_ROOT=str(tmp_path / "media"))


def _send(env: dict, name: str, args: list | None = None) -> None:
    with Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False) as client:
        client.send_task(name, args=args or [], queue=QUEUE)


def _wait(run: IngestRun, seconds: float = 180) -> IngestRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED):
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run.pk} still {run.status} after {seconds} s")


def test_the_reconciler_is_on_the_beat_schedule():
    from config.celery import app

    entry = app.conf.beat_schedule["evidence-ingest-runs-reconcile"]
    assert entry["task"] == "evidence.ingest_runs_reconcile"
    assert entry["schedule"] <= RECONCILE_GRACE.total_seconds()
    assert "evidence.ingest_runs_reconcile" in app.tasks


def test_runs_whose_messages_a_redis_restart_lost_are_sent_again(env, own_redis, tmp_path):
    """A pending run whose message the restart dropped, and a running run whose worker
    died with its message gone (its lease free): old code left both as they were forever.
    The reconciler, sent as beat sends it, gets both done; a fresh pending run within the
    grace period is left to its own message."""
    ingest_json("defaults", DEFAULTS_CSV)  # in process
    own_redis.start()
    path = write_customs(
        tmp_path / "c.csv", ["D1,1,2026-01-10,72081000,CN,Acme,Importer,1000,500,4000,"]
    )
    other = write_customs(
        tmp_path / "d.csv", ["D2,1,2026-01-11,72081000,IN,Bharat,Importer,2000,500,4000,"]
    )
    pending = IngestRun.objects.create(
        source="customs", evidence=evidence_store_path(path=path), original_name=path.name
    )
    _send(env, "evidence.ingest_run_execute", [pending.pk])
    assert own_redis.queued(QUEUE) == 1
    own_redis.stop()
    own_redis.start()
    assert own_redis.queued(QUEUE) == 0, "the restart lost the message"

    crashed = IngestRun.objects.create(
        source="customs",
        evidence=evidence_store_path(path=other),
        original_name=other.name,
        status=IngestRun.Status.RUNNING,
        started_at=timezone.now(),
        attempts=1,
    )
    long_ago = timezone.now() - RECONCILE_GRACE - dt.timedelta(seconds=5)
    IngestRun.objects.filter(pk__in=[pending.pk, crashed.pk]).update(created_at=long_ago)
    fresh = IngestRun.objects.create(
        source="customs", evidence=pending.evidence, original_name="fresh.csv"
    )

    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        time.sleep(3)
        pending.refresh_from_db()
        crashed.refresh_from_db()
        assert (pending.status, crashed.status) == ("pending", "running"), "nothing sends them"
        _send(env, "evidence.ingest_runs_reconcile")
        assert _wait(pending).status == IngestRun.Status.DONE, pending.failure
        assert _wait(crashed).status == IngestRun.Status.DONE, crashed.failure
    finally:
        worker.stop()
    assert (pending.accepted, crashed.accepted, crashed.attempts) == (1, 1, 2)
    fresh.refresh_from_db()
    assert fresh.status == IngestRun.Status.PENDING and fresh.enqueued_at is None


SCRIPT = """
import json, os, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from apps.accounts.models import User
from apps.facilities.models import Installation
client = Client(raise_request_exception=False)
client.force_login(User.objects.get(username="exporter_a"))
path = sys.argv[1]
response = client.post("/disclosures/upload/", {
    "installation": Installation.objects.get(identifier="IN-MH-0042").pk,
    "period": 2025,
    "file": SimpleUploadedFile("ours.csv", open(path, "rb").read()),
}, follow=True)
print(json.dumps({"status": response.status_code, "page": response.content.decode()}))
"""


def _portal_upload(env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(TEMPLATE_CSV)],
        cwd=ROOT,
        env=dict(env, DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_upload_with_redis_down_is_kept_pending_and_a_reupload_sends_it(
    env, own_redis, users, tmp_path
):
    """Old code: HTTP 500 after the version and its run were committed, and the same file
    uploaded again returned the stuck version without sending anything."""
    Installation.objects.create(
        identifier="IN-MH-0042", name="Example", organisation=users["org_a"], country="IN"
    )
    answer = _portal_upload(env)  # own_redis is not started: nothing listens on its port
    assert answer["status"] == 200, answer["page"][-2000:]
    assert "not yet queued for reading" in answer["page"]
    version = DisclosureVersion.objects.get()
    run = version.ingest_run
    assert run.status == IngestRun.Status.PENDING and run.enqueued_at is None
    assert "task queue is unreachable" in run.enqueue_failure

    # The command says so too, and does not wait for a run nothing will execute.
    path = write_customs(tmp_path / "c.csv", ["D1,1,2026-01-10,72081000,CN,A,B,1,1,4000,"])
    command = subprocess.run(
        [sys.executable, "manage.py", "ingest", "customs", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 1
    assert "task queue is unreachable" in command.stderr
    assert "stays pending" in command.stderr

    own_redis.start()
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        again = _portal_upload(env)
        assert again["status"] == 200
        assert _wait(run).status == IngestRun.Status.DONE, run.failure
    finally:
        worker.stop()
    version.refresh_from_db()
    assert version.ingest_run_id == run.pk and version.status == "review"
    assert DisclosureVersion.objects.count() == 1
    run.refresh_from_db()
    assert run.enqueue_failure == "" and run.enqueued_at is not None
