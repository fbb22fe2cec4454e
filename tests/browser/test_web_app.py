"""The web app in a real browser: an official opens the dashboard, filters the shipments,
opens a report, follows its trace and evidence links, exports the filtered list as CSV and
XLSX and checks their content; the methodology pages, the print layout, a phone-sized
screen and keyboard use. Screenshots of each step go to test-artifacts/browser/."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.apps.helpers import ingest_json, write_customs
from tests.apps.web.world import defaults_extract
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.services]

LINES = [
    "J1,1,2026-03-02,72081000,CN,Exporter A,Importer North,1000000,,4000,",
    "J1,2,2026-03-02,76011010,IN,Exporter A,=cmd|' /C calc'!A0,20000,,4000,",
    "J2,1,2026-04-10,72081000,CN,Exporter B,Importer South,500000,,4000,",
    "J2,2,2026-04-10,25232900,TR,Exporter B,Importer South,30000,,4000,",
    "J3,1,2026-05-04,25232900,TR,Exporter A,Importer North,12000,,4000,",
]


@pytest.fixture
def world(postgres, users, tmp_path):
    from apps.shipments.models import Shipment

    ingest_json("defaults", defaults_extract(tmp_path / "defaults.csv"))
    report = ingest_json("customs", write_customs(tmp_path / "journey.csv", LINES))
    assert report["accepted"] == 5, report
    return {
        **users,
        "steel": Shipment.objects.get(declaration_id="J1", line=1),
        "alu": Shipment.objects.get(declaration_id="J1", line=2),
    }


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pw-" + username)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"web_{name}.png", full_page=True)


def test_an_official_goes_from_the_dashboard_to_a_report_its_trace_and_an_export(
    world, page: Page, tmp_path
):
    log_in(page, "official")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # Charts are images with an accessible name, and their numbers are in tables.
    charts = page.get_by_role("img", name=re.compile("Embedded emissions by product group"))
    expect(charts).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(5)
    expect(page.get_by_text("benchmark not available", exact=False)).to_be_visible()
    expect(page.locator("main")).to_contain_text("4.4536 tCO₂e/t")  # OTHER 7208, 2026
    page.get_by_text("Table", exact=True).first.click()  # open the product-group table
    groups = page.locator("#groups-heading ~ figure table tbody th")
    expect(groups).to_have_text(["Iron and steel", "Cement", "Aluminium"])
    shot(page, "1_dashboard")

    # From an origin in the dashboard to the filtered list.
    page.get_by_text("Table", exact=True).nth(1).click()
    page.locator("#origins-heading ~ figure").get_by_role("link", name="CN").click()
    expect(page).to_have_url(re.compile(r"/shipments/\?origin=CN$"))
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)

    # Filter: product group and sort, through the form.
    page.goto("/shipments/")
    page.get_by_label("Product group").select_option("iron_and_steel")
    page.get_by_label("Sort by").select_option("mass")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"product_group=iron_and_steel.*sort=mass"))
    expect(rows.locator("td:first-child")).to_have_text(["J1 / 1", "J2 / 1"])
    shot(page, "2_filtered_list")

    # The CSV export of the current filter, written in the background (its page shows the
    # progress, then the download link).
    page.get_by_role("button", name="Export CSV").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download shipments-").click()
    saved = tmp_path / "shipments.csv"
    info.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert sorted(r["declaration_id"] + "/" + r["line"] for r in exported) == ["J1/1", "J2/1"]
    assert {r["cn_code"] for r in exported} == {"72081000"}
    assert {r["see_total_t_per_t"] for r in exported} == {"3.5056"}
    assert sum(float(r["embedded_emissions_t"]) for r in exported) == pytest.approx(5258.4)

    # Back to the filtered list (the export's page links to it), then the report, its
    # evidence and trace links.
    page.get_by_role("link", name="← Shipments").click()
    page.get_by_role("link", name="J1 / 1", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/shipments/{world['steel'].pk}/$"))
    expect(page.locator("#cbam-figure .tier")).to_have_text("Default value, 2026 mark-up (+10 %)")
    trace = page.locator("section.trace")
    expect(trace.locator("table.steps tbody tr")).to_have_count(4)
    expect(trace.locator("table.steps")).to_contain_text("total_t_per_t = 3.1869 t/t")
    expect(page.locator("section.certificates")).to_contain_text("benchmark not available")
    expect(page.locator("section.audit-history")).to_contain_text("estimate.create")
    shot(page, "3_report")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("section.trace")).to_be_visible()
    shot(page, "4_report_print")
    page.emulate_media(media="screen")

    trace.get_by_role("link", name="cbam.default").click()
    expect(page).to_have_url(re.compile(r"/methodologies/cbam\.default/$"))
    expect(page.locator("#const-MARKUP_BY_YEAR")).to_be_visible()
    page.go_back()
    trace.get_by_role("link", name="journey.csv").first.click()
    expect(page).to_have_url(re.compile(rf"/ingests/{world['steel'].ingest_run_id}/$"))
    expect(page.locator("main")).to_contain_text("accepted 5")
    page.go_back()
    page.get_by_role("link", name="canonical JSON").click()
    expect(page).to_have_url(re.compile(rf"/api/v1/estimates/{world['steel'].estimate_id}/trace$"))


def test_the_xlsx_export_neutralises_formulas(world, page: Page, tmp_path):
    log_in(page, "official")
    page.goto("/shipments/?origin=IN")
    page.get_by_role("button", name="Export XLSX").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download shipments-").click()
    saved = tmp_path / "shipments.xlsx"
    info.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    header, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["importer"] == "'=cmd|' /C calc'!A0"
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


def test_an_exporter_sees_its_own_organisation_page(world, page: Page):
    log_in(page, "exporter_a")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exporter: Exporter A")
    expect(page.get_by_role("img", name=re.compile("Mass-weighted SEE"))).to_be_visible()
    shot(page, "5_exporter")
    response = page.goto(f"/exporters/{world['org_b'].pk}/")
    assert response is not None and response.status == 404


def test_a_phone_sized_screen_needs_no_sideways_scrolling(world, page: Page):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "official")
    for url in ["/dashboard/", "/shipments/", f"/shipments/{world['steel'].pk}/"]:
        page.goto(url)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (url, overflow)
    shot(page, "6_phone_report")


def test_the_filters_are_labelled_and_reachable_by_keyboard(world, page: Page):
    log_in(page, "official")
    page.goto("/shipments/")
    fields = page.locator("form.filters input:not([type=hidden]), form.filters select")
    for i in range(fields.count()):
        labels = fields.nth(i).evaluate("e => Array.from(e.labels || []).map(l => l.textContent)")
        assert labels, fields.nth(i).evaluate("e => e.outerHTML")
    page.locator("#id_q").focus()
    page.keyboard.type("Importer South")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=Importer\+South"))
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    page.goto("/dashboard/")
    page.locator("#id_cn").select_option("25232900")
    page.get_by_role("button", name="Show distribution").press("Enter")
    heading = page.get_by_role("heading", name="Intensity distribution of CN 25232900")
    expect(heading).to_be_visible()
