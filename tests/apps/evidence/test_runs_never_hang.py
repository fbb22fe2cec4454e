"""An unexpected error ends the run as failed with its reason; it never leaves a run
``running`` (or a disclosure ``processing``) forever (issue #16, item 3).

The three triggers the issue names run on a real Celery worker on Redis, against
PostgreSQL (old code: the task raised, the run stayed ``running`` and the waits below ran
out): two spellings of one exporter in one customs file, a NUL byte after the first 64 KiB
of a CSV, an exporter's XLSX whose sheet name is over 55 characters. Each is fixed, and its
report names the row. An error no reader expects (injected in process) fails the run and
the disclosure version with the reason, and the same file uploaded again runs again.
"""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import openpyxl
import pytest
from celery import Celery
from django.core.management import call_command
from django.db import transaction

from apps.accounts.models import Organisation
from apps.disclosures.models import DisclosureVersion
from apps.disclosures.services import disclosure_ensure, version_create
from apps.evidence.models import IngestRun
from apps.evidence.services import evidence_store_path
from apps.facilities.models import Installation
from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ROOT, ingest_json, write_customs

pytestmark = pytest.mark.services

TEMPLATE_XLSX = ROOT / "fixtures" / "disclosures" / "template_example.xlsx"
TEMPLATE_CSV = ROOT / "fixtures" / "disclosures" / "template_example.csv"
WAIT_S = 180


def _on_worker(
    env: dict, source: str, path: Path, version: DisclosureVersion | None = None
) -> IngestRun:
    """Store the file and send its run to the worker on Redis, as the command does from
    another process (a disclosure's run extracts the ``version`` made up front, as the
    command makes it); wait until the run is final (old code: never)."""
    run = IngestRun.objects.create(
        source=source,
        evidence=evidence_store_path(path=path),
        original_name=path.name,
        options={"version_id": version.pk} if version else {},
    )
    if version is not None:
        version.ingest_run = run
        version.save(update_fields=["ingest_run"])
    with Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False) as client:
        client.send_task("evidence.ingest_run_execute", args=[run.pk], queue="carbon-manifest")
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (IngestRun.Status.DONE, IngestRun.Status.FAILED):
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run.pk} still {run.status} after {WAIT_S} s (attempts {run.attempts})")


@pytest.mark.worker
@pytest.mark.filterwarnings("ignore:Title is more than 31 characters")
def test_the_issues_triggers_end_their_runs_on_a_worker(
    celery_worker_process, service_env, tmp_path
):
    ingest_json("defaults", DEFAULTS_CSV)  # in process: the CN catalogue and default values

    # 1. Two spellings of one exporter (old code: IntCastingNaNError on a missing key).
    spellings = write_customs(
        tmp_path / "spellings.csv",
        [
            "D1,1,2026-01-10,72081000,CN,Acme Steel Ltd,Importer GmbH,1000,500,4000,",
            "D1,2,2026-01-10,72081000,CN,ACME STEEL LTD.,Importer GmbH,2000,900,4000,",
        ],
    )
    run = _on_worker(service_env, "customs", spellings)
    assert run.status == IngestRun.Status.DONE, run.failure
    assert (run.accepted, run.rejected) == (2, 0)
    exporters = set(Shipment.objects.filter(ingest_run=run).values_list("exporter_id", flat=True))
    assert len(exporters) == 1, "two spellings of one name are one organisation"

    # 2. A NUL byte after the first 64 KiB (old code: PostgreSQL refused the text).
    lines = [
        f"N{i},1,2026-02-10,72081000,IN,Bharat Steel,Importer GmbH,1000,500,4000,"
        for i in range(1, 1101)
    ]
    lines.append("N9999,1,2026-02-10,72081000,IN,Bharat\x00Steel,Importer GmbH,1000,500,4000,")
    nul = write_customs(tmp_path / "nul.csv", lines)
    assert nul.read_bytes().index(b"\x00") > 65536
    run = _on_worker(service_env, "customs", nul)
    assert run.status == IngestRun.Status.DONE, run.failure
    assert (run.accepted, run.rejected) == (1100, 1)
    [error] = run.errors
    assert (error["line"], error["field"]) == (1102, "exporter")  # header is line 1
    assert "NUL" in error["reason"]

    # 3. An XLSX whose sheet name is over 55 characters (old code: the cell reference
    #    overflowed a 64-character column).
    workbook = openpyxl.load_workbook(TEMPLATE_XLSX)
    title = "Installation data for the reporting period 2025, unit two (verified copy)"
    assert len(f"{title}!D38") > 64, "longer than the old column, with the last row's cell"
    workbook.worksheets[0].title = title
    long_sheet = tmp_path / "exporter.xlsx"
    workbook.save(long_sheet)
    exporter = Organisation.objects.create(
        name="Example Steel", key="example steel", kind=Organisation.Kind.EXPORTER
    )
    installation = Installation.objects.create(
        identifier="IN-MH-0042", name="Example", organisation=exporter, country="IN"
    )
    with transaction.atomic():  # as the command makes it (apps/disclosures/command.py)
        disclosure = disclosure_ensure(
            organisation=exporter, installation=installation, period_year=2025
        )
        version, _ = version_create(
            disclosure=disclosure,
            evidence=evidence_store_path(path=long_sheet),
            user=None,
            original_name=long_sheet.name,
        )
    run = _on_worker(service_env, "disclosure", long_sheet, version)
    assert run.status == IngestRun.Status.DONE, run.failure
    version = DisclosureVersion.objects.get(ingest_run=run)
    assert version.status == "review", version.failure
    cells = list(version.values.values_list("cell", flat=True))
    assert cells and all(title in cell for cell in cells), cells[:3]


def test_an_unexpected_error_fails_the_run_and_version_and_a_reupload_runs_again(
    postgres_tx, users, monkeypatch
):
    """Old code: the RuntimeError escaped the executor; the run stayed running and the
    version processing, and the same file again returned that stuck version."""
    from tests.apps.disclosures.conftest import upload

    installation = Installation.objects.create(
        identifier="IN-MH-0042", name="Example", organisation=users["org_a"], country="IN"
    )

    def broken(path):
        raise RuntimeError("a bug nobody expected")

    monkeypatch.setattr("apps.disclosures.extraction.read_template", broken)
    version = upload(users["exporter_a"], installation, TEMPLATE_CSV, 2025)
    failed_run = version.ingest_run
    assert failed_run.status == IngestRun.Status.FAILED
    assert "RuntimeError: a bug nobody expected" in failed_run.failure
    assert "template_example.csv" in failed_run.failure
    assert version.status == "failed" and version.failure == failed_run.failure
    assert version.disclosure.status == "failed"

    monkeypatch.undo()
    again = upload(users["exporter_a"], installation, TEMPLATE_CSV, 2025)
    assert again.pk == version.pk, "the same file is the same version"
    assert again.ingest_run_id != failed_run.pk
    assert again.ingest_run.status == IngestRun.Status.DONE
    assert again.status == "review" and again.failure == ""
    failed_run.refresh_from_db()
    assert failed_run.status == IngestRun.Status.FAILED, "the failed run keeps its reason"


def test_the_command_reports_an_unexpected_error_and_exits_1(postgres_tx, tmp_path, monkeypatch):
    """Old code: the exception escaped (in process) or the command waited forever."""

    from apps.evidence.sources import SOURCES

    broken = dataclasses.replace(SOURCES["customs"], ingester=f"{__name__}._broken_ingester")
    monkeypatch.setitem(SOURCES, "customs", broken)
    path = write_customs(tmp_path / "x.csv", ["D1,1,2026-01-10,72081000,CN,A,B,1,1,4000,"])
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("ingest", "customs", str(path), stdout=io.StringIO(), stderr=err)
    assert exited.value.code == 1
    assert "x.csv: nothing could be read: unexpected error reading x.csv: KeyError" in (
        err.getvalue()
    )
    run = IngestRun.objects.get()
    assert run.status == IngestRun.Status.FAILED and run.finished_at is not None


def _broken_ingester(*, run):
    raise KeyError("exporter_id")


def test_a_time_limit_that_lands_mid_query_still_fails_the_run(postgres_tx, tmp_path, monkeypatch):
    """CI saw it once: Celery's soft limit raised while a query was in flight outside a
    transaction, so the connection was still busy with it; writing the failure and releasing
    the lease then raised "another command is already in progress" and the run stayed
    ``running``. The connection is replaced and the run ends failed, naming the limit."""
    from apps.evidence.services import ingest_run_execute
    from apps.evidence.sources import SOURCES

    interrupted = dataclasses.replace(
        SOURCES["customs"], ingester=f"{__name__}._interrupted_mid_query"
    )
    monkeypatch.setitem(SOURCES, "customs", interrupted)
    path = write_customs(tmp_path / "x.csv", ["D1,1,2026-01-10,72081000,CN,A,B,1,1,4000,"])
    run = IngestRun.objects.create(
        source="customs", evidence=evidence_store_path(path=path), original_name="x.csv"
    )
    ingest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == IngestRun.Status.FAILED
    assert run.failure.startswith("stopped at the task time limit of ")
    assert run.attempts == 1


def _interrupted_mid_query(*, run):
    from celery.exceptions import SoftTimeLimitExceeded
    from django.db import connection

    # The state the signal leaves: a query sent on the session, its result never read.
    connection.ensure_connection()
    connection.connection.pgconn.send_query(b"SELECT pg_sleep(0.2)")
    raise SoftTimeLimitExceeded()
