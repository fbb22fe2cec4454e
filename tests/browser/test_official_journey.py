"""The officials' journey in a real browser: log in, filter shipments, open a report and
its trace, read an ingest's error report and download it; keyboard access; exporters'
scope; and no request ever leaves the machine."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = [pytest.mark.browser, pytest.mark.services]

CUSTOMS_LINES = [
    "B1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
    "B1,2,2026-03-02,76011010,IN,Exporter A,Imp,20000,,4000,",
    "B2,1,2026-04-10,72081000,CN,Exporter B,Imp,500000,,4000,",
    "B2,2,2026-04-10,25232900,TR,Exporter B,Imp,30000,,4000,",
    "B3,1,2026-05-04,25232900,TR,Exporter A,Imp,12000,,4000,",
    "B3,2,2026-05-04,72081000,Atlantis,Exporter B,Imp,1000,,4000,",
]
BAD_LINE = len(CUSTOMS_LINES) + 1  # file line of the last row (the header is line 1)
CUSTOMS_FILE = "browser-customs.csv"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture
def world(postgres, users, tmp_path):
    """Defaults + six declaration lines (CN, IN, TR; two exporters), one of them bad."""
    from apps.evidence.models import IngestRun
    from apps.shipments.models import Shipment

    ingest_json("defaults", DEFAULTS_CSV)
    report = ingest_json("customs", write_customs(tmp_path / CUSTOMS_FILE, CUSTOMS_LINES))
    assert (report["accepted"], report["rejected"]) == (5, 1), report
    assert report["errors"][0]["line"] == BAD_LINE and report["errors"][0]["field"] == "origin"

    def shipment(declaration_id: str, line: int) -> Shipment:
        return Shipment.objects.get(declaration_id=declaration_id, line=line, is_current=True)

    return {
        **users,
        "steel_cn_a": shipment("B1", 1),
        "steel_cn_b": shipment("B2", 1),
        "customs_run": IngestRun.objects.get(source="customs"),
    }


def log_in(page: Page, username: str, password: str | None = None) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password or "pw-" + username)
    page.get_by_role("button", name="Log in").click()


def table_column(page: Page, header: str) -> list[str]:
    """The texts of one column of the page's first data table."""
    headers = [h.strip() for h in page.locator("table.data thead th").all_inner_texts()]
    index = headers.index(header)
    rows = page.locator("table.data tbody tr")
    return [rows.nth(i).locator("td").nth(index).inner_text().strip() for i in range(rows.count())]


def test_an_official_filters_opens_a_report_and_checks_its_trace(world, page: Page):
    log_in(page, "official")
    expect(page).to_have_url(re.compile(r"/shipments/$"))
    expect(page.get_by_role("heading", name="Shipments", level=1)).to_be_visible()
    # The stylesheet is served (computed styles of app.css, not the browser's defaults).
    header_bg = page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(13, 37, 56)"
    assert sorted(table_column(page, "Origin")) == ["CN", "CN", "IN", "TR", "TR"]

    page.get_by_label("Origin").fill("CN")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]origin=CN(&|$)"))
    assert table_column(page, "Origin") == ["CN", "CN"]
    assert sorted(table_column(page, "Declaration / line")) == ["B1 / 1", "B2 / 1"]

    page.get_by_role("link", name="B1 / 1", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/shipments/{world['steel_cn_a'].pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Shipment B1 / line 1")
    expect(page.locator("#cbam-figure .tier")).to_have_text("Default value, 2026 mark-up (+10 %)")
    expect(page.get_by_text("3.5056 tCO₂e/t").first).to_be_visible()

    steps = page.locator("h3:text-is('Steps') + .scroll table.data")
    expect(steps.locator("thead th")).to_have_text(["Step", "Formula", "Inputs", "Result"])
    assert steps.locator("tbody tr").count() >= 1
    step_ids = steps.locator("tbody tr td:first-child code").all_inner_texts()
    assert all(step_ids), step_ids
    shown_sha = page.locator("a:text-is('canonical JSON') ~ code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", shown_sha)

    trace_link = page.get_by_role("link", name="canonical JSON")
    href = trace_link.get_attribute("href")
    assert href == f"/api/v1/estimates/{world['steel_cn_a'].estimate_id}/trace"
    trace_link.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    shown = json.loads(page.locator("pre").first.inner_text())
    assert shown["methodology"]["id"] == "cbam.default"
    assert shown["case"]["origin"] == "CN" and shown["case"]["year"] == 2026
    assert [s["formula_id"] for s in shown["steps"]] == step_ids

    fetched = page.request.get(href)
    assert fetched.ok
    body = fetched.body()
    digest = hashlib.sha256(body).hexdigest()
    assert fetched.headers["x-trace-sha256"] == digest == shown_sha
    assert json.loads(body) == shown


def test_an_official_reads_the_error_report_and_downloads_it(world, page: Page, tmp_path):
    log_in(page, "official")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ingests").click()
    expect(page.get_by_role("heading", name="Ingests", level=1)).to_be_visible()
    run = world["customs_run"]
    row = page.locator("table.data tbody tr").filter(has_text=CUSTOMS_FILE)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=f"#{run.pk}").click()

    expect(page).to_have_url(re.compile(rf"/ingests/{run.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(CUSTOMS_FILE)
    expect(page.locator("main")).to_contain_text("accepted 5 · rejected 1")
    report = page.locator("h2:text-is('Error report') ~ table.data")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td")).to_have_text(
        [str(BAD_LINE), "origin", "Atlantis", re.compile("Atlantis")]
    )

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the whole report (CSV)").click()
    download = info.value
    assert download.suggested_filename == f"errors-run-{run.pk}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["file", "line", "field", "value", "reason"]
    assert len(rows) == 2
    file_name, line, field, value, reason = rows[1]
    assert (file_name, line, field, value) == (CUSTOMS_FILE, str(BAD_LINE), "origin", "Atlantis")
    assert "Atlantis" in reason


def focused_html(page: Page) -> str:
    return page.evaluate("() => document.activeElement.outerHTML")


def test_the_skip_link_is_the_first_tab_stop_and_login_fields_are_labelled(world, page: Page):
    page.goto("/login/")
    fields = page.locator(
        "main form input:not([type=hidden]), main form select, main form textarea"
    )
    assert fields.count() == 2
    for i in range(fields.count()):
        labels = fields.nth(i).evaluate(
            "e => Array.from(e.labels || []).map(l => l.textContent.trim())"
            ".concat(e.getAttribute('aria-label') || []).filter(Boolean)"
        )
        assert labels, fields.nth(i).evaluate("e => e.outerHTML")
    expect(page.get_by_label("Username")).to_have_id("id_username")
    expect(page.get_by_label("Password")).to_have_id("id_password")
    # The login form autofocuses the username; the skip link still comes first in the
    # tab order, before the brand link, the header's language selector and the form.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Change")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Language")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Carbon Manifest")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    log_in(page, "official")
    expect(page).to_have_url(re.compile(r"/shipments/$"))
    skip = page.get_by_role("link", name="Skip to content")
    box = skip.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # off screen until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown when focused

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    # Focus navigation continues from main: the next Tab stop is the first filter field
    # (the search box), past the header's links and the log-out button.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)"), (
        focused_html(page)
    )
    expect(page.locator("#id_q")).to_be_focused()


def test_the_skip_link_moves_focus_onto_main(world, page: Page):
    log_in(page, "official")
    expect(page).to_have_url(re.compile(r"/shipments/$"))
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("() => document.activeElement.id") == "main", focused_html(page)


def test_an_exporter_sees_only_its_own_shipments(world, page: Page):
    log_in(page, "exporter_a")
    expect(page).to_have_url(re.compile(r"/shipments/$"))
    assert set(table_column(page, "Exporter")) == {"Exporter A"}
    assert sorted(table_column(page, "Declaration / line")) == ["B1 / 1", "B1 / 2", "B3 / 1"]

    response = page.goto(f"/shipments/{world['steel_cn_b'].pk}/")
    assert response is not None and response.status == 404
    response = page.goto(f"/shipments/{world['steel_cn_a'].pk}/")
    assert response is not None and response.status == 200


def test_anonymous_is_sent_to_the_login_and_a_wrong_password_is_refused(world, page: Page):
    page.goto("/shipments/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/shipments/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    page.locator("#id_username").fill("official")
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again."
    )
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("link", name="Shipments")).to_have_count(0)


def test_no_request_leaves_localhost(world, page: Page, browser_log):
    log_in(page, "official")
    expect(page).to_have_url(re.compile(r"/shipments/$"))
    page.get_by_role("link", name="B1 / 1", exact=True).click()
    page.get_by_role("link", name="canonical JSON").click()
    page.goto("/ingests/")
    page.goto(f"/ingests/{world['customs_run'].pk}/")
    page.goto("/api/docs/")
    # Swagger UI renders from the schema it fetched, with assets from /static/.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Carbon Manifest API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    urls = browser_log.requests
    paths = [urlparse(u).path for u in urls]
    assert any(p.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/") for p in paths)
    assert "/api/schema/" in paths and "/static/css/app.css" in paths
    remote = [
        u
        for u in urls
        if urlparse(u).scheme not in {"data", "blob"} and urlparse(u).hostname not in LOCAL_HOSTS
    ]
    assert remote == []
    assert browser_log.failed == []
    assert browser_log.console_errors == []
