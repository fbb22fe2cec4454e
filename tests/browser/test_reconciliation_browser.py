"""An official reads a reconciliation in a real browser: the importer's report, altered by
hand after the platform wrote it, shows its two differences with their sizes and traces
(hand-worked in tests/apps/test_reconciliation.py)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.browser.test_official_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]
EORI = "DE1234567890"


@pytest.fixture
def altered_report(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv",
            [
                "R1,1,2026-03-02,72081000,CN,Rep Steel,Imp,900000,,4000,",
                "R1,2,2026-03-02,72081000,CN,Rep Steel,Imp,5000,,4000,",
            ],
        ),
    )
    out = tmp_path / "q1.xml"
    call_command(
        "cbam_report", "--importer", "Imp", "--eori", EORI, "--year", "2026",
        "--quarter", "1", "--output", str(out), stdout=io.StringIO(),
    )  # fmt: skip
    text = out.read_text(encoding="utf-8").replace(
        "<SpecificEmbeddedEmissions>3.5056</SpecificEmbeddedEmissions>",
        "<SpecificEmbeddedEmissions>3.4</SpecificEmbeddedEmissions>",
    )
    text = re.sub(r"(<ProducedMeasure>\s*<NetMass>)905(</NetMass>)", r"\g<1>900\g<2>", text)
    out.write_text(text, encoding="utf-8")
    assert ingest_json("cbam_report", out)["accepted"] == 1
    return users


def test_an_official_sees_the_reconciliation_of_an_altered_report(page: Page, altered_report):
    log_in(page, "official")
    page.goto("/reconciliation/")
    page.get_by_role("link", name=EORI).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reconciliation: Imp")
    expect(page.locator("#difference-count")).to_contain_text("2")
    rows = page.locator("#differences tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="quantity")).to_contain_text("-5.000")
    expect(rows.filter(has_text="quantity")).to_contain_text("-17.000")
    expect(rows.filter(has_text="see")).to_contain_text("-95.040")
    rows.filter(has_text="quantity").get_by_role("link", name="R1/1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Shipment R1")
