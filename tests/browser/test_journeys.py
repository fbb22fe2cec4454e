"""Issue #19 journeys in a real browser: verify an estimate from its page, open the
evidence of a number, follow a legal source to EUR-Lex, manage API tokens, read the
glossary; axe-core finds no serious or critical violation on the pages touched."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.browser.conftest import assert_accessible
from tests.browser.test_official_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]

LINES = [
    "J1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
    "J1,2,2026-03-02,25232900,TR,Exporter B,Imp,30000,,4000,",
]


@pytest.fixture
def world(postgres, users, tmp_path):
    from apps.shipments.models import Shipment

    ingest_json("defaults", DEFAULTS_CSV)
    report = ingest_json("customs", write_customs(tmp_path / "journeys-customs.csv", LINES))
    assert report["accepted"] == 2, report
    steel = Shipment.objects.get(declaration_id="J1", line=1, is_current=True)
    return {**users, "steel": steel, "estimate": steel.estimate}


def test_the_verify_button_recomputes_the_estimate(world, page: Page):
    log_in(page, "official")
    estimate = world["estimate"]
    page.goto(f"/estimates/{estimate.pk}/")
    page.get_by_role("button", name="Verify this estimate").click()
    answer = page.get_by_role("status")
    expect(answer).to_contain_text("Match: the trace recomputes to the same bytes.")
    expect(answer).to_contain_text(estimate.trace_sha256)
    assert_accessible(page)


def test_the_verify_button_names_the_first_difference_of_a_tampered_trace(world, page: Page):
    import json

    from django.db import connection

    estimate = world["estimate"]
    trace = json.loads(estimate.trace)
    trace["result"]["see_total_t_per_t"] = 1.5  # the default for CN 7208 from CN is 3.5056
    with connection.cursor() as cursor:  # bypass the immutability trigger, as a superuser
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE estimates_estimate SET trace = %s WHERE id = %s",
            [json.dumps(trace, sort_keys=True, separators=(",", ":")), estimate.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    log_in(page, "auditor")
    page.goto(f"/estimates/{estimate.pk}/")
    page.get_by_role("button", name="Verify this estimate").click()
    answer = page.get_by_role("status")
    expect(answer).to_contain_text("Mismatch")
    expect(answer).to_contain_text(
        re.compile(r"\$\.result\.see_total_t_per_t: stored 1\.5, recomputed 3\.5056")
    )


# --- 2. Every number's evidence opens -------------------------------------------------------


@pytest.fixture
def disclosed(postgres, users, tmp_path, settings):
    """Exporter A's installation discloses the template example for 2026 (coke corrected
    from 410 kt to 500 kt); its declared shipment moves to the disclosed estimate."""
    from apps.disclosures.services import disclosure_version_confirm, extracted_value_review
    from apps.facilities.models import Installation
    from apps.shipments.models import Shipment
    from tests.apps.disclosures.conftest import template_2026, upload

    settings.LLM_BASE_URL = None
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "customs-disclosed.csv",
            ["E1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042"],
        ),
    )
    installation = Installation.objects.create(
        identifier="IN-MH-0042",
        name="Example Steel Works Unit 2",
        organisation=users["org_a"],
        country="IN",
    )
    version = upload(users["exporter_a"], installation, template_2026(tmp_path), 2026)
    coke = version.values.get(field="fuel[coke].amount")
    extracted_value_review(
        value=coke,
        user=users["exporter_a"],
        action="correct",
        corrected_value=500,
        corrected_unit="kt",
        reason="restated after the audit",
    )
    disclosure_version_confirm(version=version, user=users["exporter_a"])
    shipment = Shipment.objects.get(declaration_id="E1", line=1, is_current=True)
    assert shipment.best_tier == "disclosed"  # the best estimate (docs/design.md)
    return {**users, "shipment": shipment, "installation": installation, "version": version}


def test_a_disclosed_input_cites_the_disclosure_cell_and_its_correction(disclosed, page: Page):
    shipment = disclosed["shipment"]
    log_in(page, "official")  # the customs file was loaded by an operator: officials open it
    page.goto(f"/shipments/{shipment.pk}/")
    # The declared line opens at its line of the customs file.
    page.get_by_role("link", name=f"line {shipment.source_line}", exact=True).first.click()
    expect(page.locator("tr.cited")).to_contain_text("E1,1,2026-03-02,72085120,IN")
    assert_accessible(page)
    page.context.clear_cookies()
    log_in(page, "exporter_a")  # its own disclosure opens; the operator's customs file not
    page.goto(f"/shipments/{shipment.pk}/")
    expect(page.locator("main")).to_contain_text("uploaded by another organisation")
    # The disclosed estimate is the shipment's best estimate (its CBAM figure stays the
    # default value, docs/design.md): its page shows the inputs with their evidence.
    page.goto(f"/estimates/{shipment.best_estimate_id}/")
    inputs = page.locator("h3:text-is('Inputs') ~ .scroll table.data").first
    expect(inputs).not_to_contain_text("customs-disclosed.csv")  # not the customs file
    # Line 14 of the template holds the coke amount (tests/apps/disclosures/test_confirm.py).
    coke = inputs.get_by_role("link", name="disclosure-0.csv, line 14")
    expect(coke.first).to_be_visible()
    expect(inputs).to_contain_text("corrected: extracted 410000 t → 500000 t")
    expect(inputs).to_contain_text("restated after the audit")
    installation = disclosed["installation"]
    expect(page.get_by_role("link", name="IN-MH-0042").first).to_have_attribute(
        "href", f"/installations/{installation.pk}/"
    )
    assert_accessible(page)
    coke.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("disclosure-0.csv, line 14")
    expect(page.locator("tr.cited")).to_contain_text("410")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the file").click()
    import hashlib

    saved = info.value.path()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == disclosed["version"].evidence.sha256
    assert_accessible(page)


def test_evidence_files_open_only_for_whoever_may_see_them(disclosed, page: Page):
    run = disclosed["shipment"].ingest_run
    log_in(page, "exporter_b")  # another organisation: not its upload
    assert page.request.get(f"/ingests/{run.pk}/file").status == 404
    assert page.request.get(f"/ingests/{run.pk}/excerpt/?line=2").status == 404
    page.context.clear_cookies()
    log_in(page, "auditor")
    answer = page.request.get(f"/ingests/{run.pk}/file")
    assert answer.ok and answer.headers["x-evidence-sha256"] == run.evidence.sha256
    page.goto(f"/ingests/{run.pk}/")
    page.get_by_role("link", name="Download the file").wait_for()
    assert_accessible(page)


# --- 3. Every legal source links ------------------------------------------------------------


def test_legal_sources_link_to_eur_lex_in_traces_and_methodology_pages(world, page: Page):
    log_in(page, "official")
    page.goto(f"/estimates/{world['estimate'].pk}/")
    factors = page.locator("h3:text-is('Factors') + .scroll table.data")
    link = factors.get_by_role("link", name="Commission Implementing Regulation (EU) 2025/2621")
    expect(link.first).to_have_attribute("href", "http://data.europa.eu/eli/reg_impl/2025/2621/oj")
    expect(link.first).to_have_attribute("title", re.compile(r"default values, Annex I$"))
    page.goto("/methodologies/cbam.default/")
    sources = page.locator("#sources")
    eli = sources.locator("a.eli")
    assert eli.count() >= 1
    hrefs = set(eli.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert "http://data.europa.eu/eli/reg_impl/2025/2621/oj" in hrefs
    assert all(h.startswith("http://data.europa.eu/eli/") for h in hrefs)
    assert_accessible(page)


# --- 4. Auditors' tokens; 7. the glossary ---------------------------------------------------


def test_an_auditor_creates_lists_and_revokes_a_token(world, page: Page):
    log_in(page, "auditor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    page.get_by_role("button", name="Create a token").click()
    token = page.get_by_role("textbox", name="Token").input_value()
    assert len(token) >= 40
    # The token works on the API, shown once: the list shows only its first characters.
    answer = page.request.get("/api/v1/estimates/", headers={"Authorization": f"Token {token}"})
    assert answer.ok
    page.goto("/account/tokens/")
    expect(page.locator("main")).not_to_contain_text(token)
    row = page.locator("table.tokens tbody tr").filter(has_text=token[:8])
    expect(row).to_contain_text("active")
    assert_accessible(page)
    row.get_by_role("button", name=f"Revoke token {token[:8]}").click()
    expect(page.locator("table.tokens tbody tr").filter(has_text=token[:8])).to_contain_text(
        "revoked"
    )
    ctx = page.context.browser.new_context(base_url=page.url.split("/account")[0])
    try:
        refused = ctx.request.get("/api/v1/estimates/", headers={"Authorization": f"Token {token}"})
        assert refused.status == 401
    finally:
        ctx.close()


def test_terms_link_to_the_glossary(world, page: Page):
    log_in(page, "official")
    page.goto(f"/shipments/{world['steel'].pk}/")
    page.get_by_role("link", name="Tier", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/glossary/#tier$"))
    for term in (
        "SEE (specific embedded emissions)",
        "Direct-only goods",
        "Mark-up",
        "Benchmark",
        "SEFA (free-allocation adjustment per tonne)",
        "CSCF (cross-sectoral correction factor)",
        "Trace",
        "Inclusion proof",
    ):
        expect(page.locator("dl.glossary dt").filter(has_text=term).first).to_be_visible()
    expect(
        page.locator("dd").get_by_role("link", name="Regulation (EU) 2023/956").first
    ).to_have_attribute("href", "http://data.europa.eu/eli/reg/2023/956/oj")
    assert_accessible(page)
