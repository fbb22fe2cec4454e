"""The risk view in a real browser (docs/web.md): an official opens /risk/, picks the
exporter whose default overstates its suggested plant's modelled emissions, follows it to
the installation, reads the evidence and interval, and confirms the link; the exporter's
shipments then carry the plant's estimate as their best estimate and the gap shows.

Numbers: Türkiye CN 7208 default 2.4275 × 1.10 = 2.6703 tCO2e/t (IR 2025/2621 Annex I);
the plant's modelled estimate 0.6 t/t [0.5, 0.7]; 1,000 t shipped → gap 2,070.3 tCO2e.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.apps.shipments.test_two_figures import modelled
from tests.browser.test_official_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]


@pytest.fixture
def world(postgres, users, tmp_path):
    from apps.facilities.models import Installation, MatchSuggestion

    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "risk.csv",
            [
                "R1,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,",
                "R1,2,2026-03-02,72085120,IN,Exporter A,Imp,10000,,4000,",
            ],
        ),
    )
    plant = Installation.objects.create(
        identifier="TR-EAF-1",
        name="Example EAF Works",
        country="TR",
        routes=["scrap_eaf"],
        capacities=[{"unit": "EAF", "status": "operating", "capacity_t": 1_000_000}],
    )
    estimate = modelled(plant, 0.6, 0.5, 0.7)
    MatchSuggestion.objects.create(
        kind="installation",
        organisation=users["org_b"],
        installation=plant,
        score=0.91,
        evidence={"matched_field": "owner", "matched_name": "Exporter B"},
    )
    assert estimate.period_start == dt.date(2026, 1, 1)
    return {**users, "plant": plant, "estimate": estimate}


def test_an_official_follows_the_risk_view_to_the_plant_and_confirms_the_link(page: Page, world):
    from apps.shipments.models import Shipment

    log_in(page, "official")
    page.goto("/risk/?origin=TR")
    row = page.locator("#risk-exporter-table tr[data-exporter='Exporter B']")
    expect(row).to_contain_text("default_overstates")
    expect(row).to_contain_text("suggested link to Example EAF Works")
    row.get_by_role("link", name="installation").first.click()
    expect(page.locator("h1")).to_contain_text("Example EAF Works")
    estimates = page.locator("#figures")
    expect(estimates).to_contain_text("Modelled")
    expect(estimates).to_contain_text("0.5000 – 0.7000")
    link = page.locator("#links tr[data-exporter='Exporter B']")
    expect(link.locator(".link-status")).to_contain_text("Suggested")
    link.get_by_role("button", name="Confirm link").click()
    expect(page.locator("#links tr[data-exporter='Exporter B'] .link-status")).to_contain_text(
        "Confirmed"
    )
    shipment = Shipment.objects.get(declaration_id="R1", line=1)
    assert (shipment.tier, shipment.best_tier) == ("default", "modelled")
    assert shipment.best_estimate_id == world["estimate"].pk
    assert shipment.embedded_emissions_t - shipment.best_embedded_emissions_t == pytest.approx(
        2070.3
    )
    page.goto("/risk/?origin=TR")
    expect(page.locator("#risk-exporter-table tr[data-exporter='Exporter B']")).to_contain_text(
        "2,070.3"
    )
    page.goto(f"/shipments/{shipment.pk}/")
    expect(page.locator("#best-estimate")).to_contain_text("Modelled")
    expect(page.locator("#best-estimate")).to_contain_text("2070.300")
