"""One source registry (apps/evidence/sources.py): the ``ingest`` command and the worker
read each source's reader, ingester, options, run creation and ``--json`` additions from
its entry, so adding a source is adding an entry (docs/contributing.md)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils.module_loading import import_string

from apps.evidence.models import IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.sources import SOURCES, Option, Source

#: The public list of sources (README, "Public interfaces"), plus the CBAM report.
PUBLIC = {"defaults", "customs", "grid", "factors", "raster", "facilities", "disclosure"}


def test_every_entry_names_a_reader_and_services_that_exist():
    assert PUBLIC | {"cbam_report"} == set(SOURCES)
    for key, source in SOURCES.items():
        reader = import_string(source.reader)
        assert reader.__name__.startswith("read_"), key
        assert callable(import_string(source.ingester)), key
        for hook in (source.submit, source.summary):
            assert not hook or callable(import_string(hook)), (key, hook)


def test_the_disclosure_options_are_its_entrys():
    assert [o.flag for o in SOURCES["disclosure"].options] == [
        "--exporter",
        "--installation",
        "--period",
    ]
    assert all(not s.options for k, s in SOURCES.items() if k != "disclosure")


def _toy_ingester(*, run: IngestRun) -> IngestOutcome:
    outcome = IngestOutcome(rows_read=1, accepted=1, rejected=0, duplicates=0)
    with transaction.atomic():
        ingest_run_finish(run=run, outcome=outcome)
    return outcome


def _toy_summary(*, run: IngestRun) -> dict:
    return {"colour": run.options["colour"], "batch": run.options["batch"]}


@pytest.mark.services
def test_a_new_entry_brings_its_options_and_summary_to_the_command(
    postgres_tx, tmp_path, monkeypatch
):
    toy = Source(
        reader="ingest.customs.read_customs",
        ingester=f"{__name__}._toy_ingester",
        options=(Option("colour", "toy: a colour"), Option("batch", "toy: a number", int, 0)),
        summary=f"{__name__}._toy_summary",
    )
    monkeypatch.setitem(SOURCES, "toy", toy)
    path = tmp_path / "toy.csv"
    path.write_text("a,b\n1,2\n")
    out = io.StringIO()
    call_command(
        "ingest", "toy", str(path), "--colour", "red", "--batch", "7", "--json", stdout=out
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["source"], summary["accepted"]) == ("toy", 1)
    assert (summary["colour"], summary["batch"]) == ("red", 7)
    run = IngestRun.objects.get()
    assert run.options == {"colour": "red", "batch": 7}
