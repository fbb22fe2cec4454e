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
