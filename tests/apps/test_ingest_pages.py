"""Ingest runs in the web app: progress, the error report and its CSV download."""

from __future__ import annotations

import csv
import io

import pytest

from apps.evidence.models import IngestRun
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def run_with_errors(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "e.csv",
            [
                "E1,1,2026-01-05,72081000,CN,Good Steel,Imp,5000,,4000,",
                'E1,2,2026-01-05,72081000,"=HYPERLINK(""http://x"")",Good Steel,Imp,5000,,4000,',
                "E1,3,2026-01-05,72081000,CN,Good Steel,Imp,-5,,4000,",
            ],
        ),
    )
    return IngestRun.objects.get(source="customs")


def test_an_official_reads_the_error_report_and_downloads_it(run_with_errors, users, client):
    client.force_login(users["official"])
    listing = client.get("/ingests/").content.decode()
    assert f"/ingests/{run_with_errors.pk}/" in listing
    page = client.get(f"/ingests/{run_with_errors.pk}/").content.decode()
    assert "accepted 1" in page and "rejected 2" in page
    assert "net mass must be &gt; 0" in page

    response = client.get(f"/ingests/{run_with_errors.pk}/errors.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["file", "line", "field", "value", "reason"]
    by_line = {row[1]: row for row in rows[1:]}
    assert by_line["3"][2] == "origin"
    # A value that a spreadsheet would run as a formula is neutralised.
    assert by_line["3"][3].startswith("'=HYPERLINK")
    assert by_line["4"][2].startswith("net_mass")


def test_exporters_do_not_see_runs_of_others(run_with_errors, users, client):
    client.force_login(users["exporter_a"])
    assert f"/ingests/{run_with_errors.pk}/" not in client.get("/ingests/").content.decode()
    assert client.get(f"/ingests/{run_with_errors.pk}/").status_code == 404
    assert client.get(f"/ingests/{run_with_errors.pk}/errors.csv").status_code == 404


def test_anonymous_is_sent_to_the_login(run_with_errors, client):
    assert client.get("/ingests/").status_code == 302
