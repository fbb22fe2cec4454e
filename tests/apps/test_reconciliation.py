"""Reconciliation of a declared Registry report with the customs lines and the evidence.

The round trip: the report ``cbam_report`` writes for importer "Imp" (Q1 2026: 900 t + 5 t
of CN 7208 10 00 from China on default values, 3.5056 tCO2e/t with the 2026 mark-up, see
tests/apps/test_cbam_report_command.py), read back with ``ingest cbam_report``, reconciles
with no difference. The same report altered by hand (the declared mass 905 → 900 t, the
SEE direct 3.5056 → 3.4) shows exactly those two alterations:
  quantity: 900 − 905 = −5 t, × the declared 3.4 tCO2e/t = −17 tCO2e;
  SEE: 900 t × (3.4 − 3.5056) = −95.04 tCO2e.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from apps.shipments.reconciliation import reconcile
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services
EORI = "DE1234567890"


@pytest.fixture
def report(postgres, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv",
            [
                "R1,1,2026-03-02,72081000,CN,Rep Steel,Imp,900000,,4000,",
                "R1,2,2026-03-02,72081000,CN,Rep Steel,Imp,5000,,4000,",
                "R2,1,2026-04-02,72081000,CN,Rep Steel,Imp,7000,,4000,",
                "R3,1,2026-03-05,72081000,CN,Rep Steel,Other Importer,1000,,4000,",
            ],
        ),
    )
    out = tmp_path / "q1.xml"
    call_command(
        "cbam_report", "--importer", "Imp", "--eori", EORI, "--year", "2026",
        "--quarter", "1", "--output", str(out), stdout=io.StringIO(),
    )  # fmt: skip
    return out


def test_a_report_the_platform_wrote_reconciles_with_no_difference(report, users):
    summary = ingest_json("cbam_report", report)
    assert summary["accepted"] == 1
    result = reconcile(declarant_id=EORI, year=2026, period="Q1")
    assert result["differences"] == []
    assert result["declared_t"] == pytest.approx(905) and result["customs_t"] == pytest.approx(905)
    assert result["customs_lines"] == 2  # April and the other importer are left out
    # the page and the API say the same, to officials only
    client = Client()
    client.force_login(users["official"])
    page = client.get(f"/reconciliation/{EORI}/2026/Q1/")
    assert page.status_code == 200 and "no difference" in page.content.decode()
    api = client.get(f"/api/v1/reconciliations/{EORI}/2026/Q1/")
    assert api.status_code == 200 and json.loads(api.content)["differences"] == []
    exporter = Client()
    exporter.force_login(users["exporter_a"])
    assert exporter.get(f"/reconciliation/{EORI}/2026/Q1/").status_code == 403
    assert exporter.get(f"/api/v1/reconciliations/{EORI}/2026/Q1/").status_code == 403
    assert client.get(f"/api/v1/reconciliations/{EORI}/2026/Q2/").status_code == 404


def test_a_report_altered_by_hand_shows_exactly_the_alterations(report, tmp_path):
    text = report.read_text(encoding="utf-8")
    produced = "<ProducedMeasure><NetMass>905</NetMass>"
    assert text.count("<NetMass>905</NetMass>") >= 1
    assert "<SpecificEmbeddedEmissions>3.5056</SpecificEmbeddedEmissions>" in text
    altered = tmp_path / "altered.xml"
    text = text.replace(
        "<SpecificEmbeddedEmissions>3.5056</SpecificEmbeddedEmissions>",
        "<SpecificEmbeddedEmissions>3.4</SpecificEmbeddedEmissions>",
    )
    if produced in text:
        text = text.replace(produced, "<ProducedMeasure><NetMass>900</NetMass>")
    else:  # the element may carry whitespace between children
        import re

        text = re.sub(r"(<ProducedMeasure>\s*<NetMass>)905(</NetMass>)", r"\g<1>900\g<2>", text)
    altered.write_text(text, encoding="utf-8")
    assert ingest_json("cbam_report", altered)["accepted"] == 1
    result = reconcile(declarant_id=EORI, year=2026, period="Q1")
    kinds = {d["kind"]: d for d in result["differences"]}
    assert sorted(kinds) == ["quantity", "see"]
    quantity, see = kinds["quantity"], kinds["see"]
    assert quantity["size_t"] == pytest.approx(-5)
    assert quantity["size_tco2e"] == pytest.approx(-5 * 3.4)
    assert (quantity["declared_t"], quantity["customs_t"]) == (pytest.approx(900), 905)
    assert [c["declaration"] for c in quantity["trace"]["customs"]] == ["R1", "R1"]
    assert see["declared_see_direct_t_per_t"] == pytest.approx(3.4)
    assert see["platform_see_direct_t_per_t"] == pytest.approx(3.5056)
    assert see["size_tco2e"] == pytest.approx(900 * (3.4 - 3.5056))
    assert see["trace"]["estimates"], "the estimate behind the platform's figure is named"


def test_the_demo_step_writes_reads_back_and_reconciles(report, users, settings, tmp_path):
    """apps/shipments/demo_reports.py on the small world above: no difference for the report as
    written; the altered copy (first SEE direct + 0.1) differs by 905 t × 0.1 = 90.5 tCO2e.
    The demo's lines declare their importer's EORI: here Imp's lines are declared again
    with one (a correction of each), and the ingest gives Imp's organisation that EORI."""
    from apps.shipments import demo_reports as demo

    settings.VAR_DIR = tmp_path
    again = tmp_path / "with_eori.csv"
    again.write_text(
        "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,importer_eori,"
        "net_mass_kg\n"
        "R1,1,2026-03-02,72081000,CN,Rep Steel,Imp,NLSYNTH000001,900000\n"
        "R1,2,2026-03-02,72081000,CN,Rep Steel,Imp,NLSYNTH000001,5000\n",
        encoding="utf-8",
    )
    assert ingest_json("customs", again)["accepted"] == 2  # two corrections

    class Command:
        stdout = io.StringIO()

        def _heading(self, text):
            self.stdout.write(text + "\n")

    command = Command()
    demo.run(command=command, number=9)
    text = command.stdout.getvalue()
    assert "importer 'Imp' (NLSYNTH000001), Q1 2026" in text
    assert "1 declared line(s), 2 customs line(s), 0 difference(s)" in text
    assert "1 difference(s), 90.500 tCO2e" in text
    assert "importer account: importer / importer-demo-2026 (Imp" in text
