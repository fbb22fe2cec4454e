"""Issue #19 journeys over the data, in a real browser: lines flagged implausible at ingest
are shown as flagged and left out of headline figures unless included (a switch kept in
the query string); rankings, summary rows, the compare view, flags as a workflow and
forgiving filters. One world and one walk (each world costs an ingest of the default
values; CI time matters); axe-core finds no serious or critical violation on the pages.

The world (tests.apps.shipments.test_data_journeys.py works its figures by hand):
P1/1 1,000 t of 7208 from CN (ordinary), P1/2 10 t at EUR 10/t (flagged by value),
P2/1 30 t of 2523 from TR (ordinary), P2/2 5,000 t of 2523 (flagged by mass).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.apps.shipments.test_data_journeys import LINES
from tests.browser.conftest import assert_accessible
from tests.browser.test_official_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]


@pytest.fixture
def world(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    report = ingest_json("customs", write_customs(tmp_path / "data-journeys.csv", LINES))
    assert report["accepted"] == 4, report
    return users


def test_the_data_journeys(world, page: Page):
    log_in(page, "official")

    # (1) The dashboard leaves the flagged lines out, says so, and includes them on asking.
    page.goto("/dashboard/")
    card = page.locator("#implausible-card")
    expect(card).to_contain_text("Lines flagged implausible at ingest")
    expect(card).to_contain_text("2 (5,010.0 t")
    expect(card).to_contain_text("Left out of the figures on this page")
    expect(page.locator(".kpis")).to_contain_text("1,030 t")
    assert_accessible(page)
    card.get_by_role("link", name="Include them").click()
    expect(page).to_have_url(re.compile(r"implausible=include"))
    expect(page.locator(".kpis")).to_contain_text("6,040 t")
    expect(page.locator("#implausible-card")).to_contain_text("Included in the figures")
    page.locator("#implausible-card").get_by_role("link", name="See the flagged lines").click()
    expect(page.locator("#implausible-note")).to_contain_text("Showing only the lines flagged")
    expect(page.locator("table.data tbody .flag-implausible")).to_have_count(2)
    expect(page.locator("#list-summary")).to_contain_text("5,010.000 t")

    # The shipment list leaves them out, and its summary row with them.
    page.goto("/shipments/")
    expect(page.locator("#implausible-note")).to_contain_text("2 lines flagged implausible")
    expect(page.locator("#list-summary")).to_contain_text("All 2 lines")
    expect(page.locator("#list-summary")).to_contain_text("1,030.000 t")
    page.locator("#implausible-note").get_by_role("link", name="Include them").click()
    expect(page.locator("#list-summary")).to_contain_text("All 4 lines")
    expect(page.locator("#list-summary")).to_contain_text("6,040.000 t")

    # The risk view too.
    page.goto("/risk/")
    expect(page.locator("#implausible-note")).to_contain_text("2 lines flagged implausible")
    page.locator("#implausible-note").get_by_role("link", name="Include them").click()
    expect(page.locator("#implausible-note")).to_contain_text("are included in this ranking")
    assert_accessible(page)

    # (2) Rankings by CN code, origin and exporter, sortable, with units and a summary row.
    page.goto("/rankings/")
    table = page.locator("#ranking-table")
    expect(table.locator("thead")).to_contain_text("Net mass (t)")
    expect(table.locator("thead")).to_contain_text("Embedded emissions (tCO₂e)")
    expect(page.locator("#ranking-summary")).to_contain_text("1,030.0")
    page.get_by_label("Rank by").select_option("origin")
    page.get_by_role("button", name="Rank").click()
    table.get_by_role("link", name="Net mass (t)").click()  # largest first
    expect(table.locator("tbody tr").first).to_contain_text("CN")
    table.get_by_role("link", name="Net mass (t)").click()  # then smallest first
    expect(table.locator("tbody tr").first).to_contain_text("TR")
    expect(table.locator("th[aria-sort='ascending']")).to_contain_text("Net mass (t)")
    assert_accessible(page)

    # (3) Compare exporters of the product, from the shipment report and the exporter page.
    page.goto("/shipments/")
    page.get_by_role("link", name="P1 / 1").click()
    page.get_by_role("link", name="Compare exporters of CN 72081000 from CN").click()
    expect(page.locator("#compare-scope")).to_contain_text("Same origin")
    expect(page.locator("#compare-table")).to_contain_text("Exporter A")
    page.get_by_role("link", name="Compare across origins").click()
    expect(page.locator("#compare-scope")).to_contain_text("Across origins")
    assert_accessible(page)
    page.locator("#compare-table").get_by_role("link", name="Exporter A").click()
    page.get_by_role("link", name="Compare exporters of CN 72081000 from CN").click()
    expect(page.locator("#compare-table tbody tr")).to_have_count(1)

    # (4) Flags as a workflow: the dashboard's card leads to them; open → review → resolved.
    page.goto("/dashboard/")
    expect(page.locator("#flag-card")).to_contain_text("2 (2 open, 0 under review)")
    page.locator("#flag-card").get_by_role("link", name="Review the flags").click()
    rows = page.locator("#flag-table tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="Shipment P1 / 2")
    expect(row).to_contain_text("value per tonne EUR 10")
    row.get_by_role("button", name="Start review").click()
    row = page.locator("#flag-table tbody tr").filter(has_text="Shipment P1 / 2")
    expect(row.locator(".flag-status")).to_have_text("Under review")
    row.get_by_label("Note (what was found)").fill("value keyed in thousands; importer confirmed")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#flag-messages")).to_contain_text("resolved")
    expect(page.locator("#flag-table tbody tr")).to_have_count(1)  # unresolved only
    assert_accessible(page)
    page.get_by_role("link", name="Resolved (1)", exact=True).click()
    row = page.locator("#flag-table tbody tr")
    expect(row).to_contain_text("value keyed in thousands; importer confirmed")
    row.get_by_role("link", name="Shipment P1 / 2 (CN 72081000, CN)").click()
    expect(page.locator("#implausible-reason")).to_contain_text("flagged implausible at ingest")

    # (5) Forgiving inputs: a country's name, ISO date pickers, and an empty result that
    # names the filter that emptied it.
    page.goto("/shipments/")
    page.get_by_label("Origin").fill("China")
    page.get_by_label("From").fill("2026-03-02")  # <input type="date">: ISO, never guessed
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.locator("#list-summary")).to_contain_text("1,000.000 t")
    page.get_by_label("CN code or prefix").fill("2523")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#empty-result")).to_contain_text("the filter Origin = “China” left none")
    assert_accessible(page)
    page.locator("#empty-result").get_by_role("link", name="Remove that filter").click()
    expect(page.locator("table.data tbody")).to_contain_text("P2 / 1")  # cement from TR
