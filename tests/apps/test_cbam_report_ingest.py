"""``manage.py ingest cbam_report PATH``: a Registry report stored whole as declared lines.

By hand (Reg. 2023/956 Annex IV point 2): 100 t × (1.91 + 0.14) = 205 tCO2e and
20.5 t × 2.1234568 = 43.5308644 tCO2e.
"""

from __future__ import annotations

import datetime as dt

import pytest

from apps.evidence.models import IngestRun
from apps.shipments.models import DeclaredLine
from ingest.cbam_report import write_cbam_report
from tests.apps.helpers import ingest_json
from tests.ingest.test_cbam_report import _report

pytestmark = pytest.mark.services


def test_report_lines_are_stored_once(postgres, tmp_path):
    p = tmp_path / "r.xml"
    p.write_bytes(
        write_cbam_report(_report(submission_date=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)))
    )
    summary = ingest_json("cbam_report", p)
    assert (summary["accepted"], summary["rejected"]) == (2, 0)
    lines = list(DeclaredLine.objects.order_by("emission_sequence"))
    assert [(x.method, x.cn_code, x.origin) for x in lines] == [
        ("actual", "72081000", "TR"),
        ("default", "72081000", "TR"),
    ]
    assert lines[0].embedded_emissions_t == pytest.approx(205.0)
    assert lines[1].embedded_emissions_t == pytest.approx(43.5308644)
    assert lines[0].installation_identifier == "TR-INST-1" and lines[1].see_indirect_t_per_t is None
    assert (lines[0].declarant_id, lines[0].year, lines[0].period) == (
        "DE123456789012345",
        2026,
        "Q1",
    )
    again = ingest_json("cbam_report", p)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert DeclaredLine.objects.count() == 2


def test_a_report_with_entities_fails_and_stores_nothing(postgres, tmp_path):
    p = tmp_path / "evil.xml"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x "boom">]>'
        '<QReport xmlns="http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1">&x;</QReport>'
    )
    import io

    from django.core.management import call_command

    with pytest.raises(SystemExit):
        call_command(
            "ingest", "cbam_report", str(p), "--json", stdout=io.StringIO(), stderr=io.StringIO()
        )
    run = IngestRun.objects.get(source="cbam_report")
    assert run.status == IngestRun.Status.FAILED and "DTD or entities" in run.failure
    assert DeclaredLine.objects.count() == 0
