"""Issue #16, items 10-12, as a hostile tester on PostgreSQL found them.

The world: exporter A produces at installation IN-MH-0042 and discloses its 2026 data
(fixtures/disclosures/template_example.csv moved to 2026, one value corrected with a
reason); exporter B is a trader whose shipment declares A's installation, so B's shipment
moves to A's disclosed estimate.

10. B reads the engine's part of that estimate's trace, never A's disclosure (production
    and fuel amounts as quoted, file name, correction reasons, A's username).
11. An estimate's SEE columns, its shipments' emissions or the totals rewritten in the
    database fail ``POST …/verify`` and ``verify_estimates``; the admin cannot edit an
    estimate; a plain UPDATE of an estimate is refused.
12. A disclosure with every emission factor 0 does not move shipments to zero: it is held
    for an official's review.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

import methodologies
from apps.disclosures.models import Status
from apps.disclosures.services import disclosure_version_confirm, extracted_value_review
from apps.estimates.models import Estimate
from apps.shipments.models import Shipment, ShipmentTotal
from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

REASON = "restated after the 2026 audit of the coke yard"


@pytest.fixture
def world(postgres_tx, users, tmp_path, settings):
    from apps.facilities.models import Installation

    settings.LLM_BASE_URL = None
    ingest_json("defaults", DEFAULTS_CSV)
    installation = Installation.objects.create(
        identifier="IN-MH-0042",
        name="Example Steel Works Unit 2",
        organisation=users["org_a"],
        country="IN",
    )
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "customs.csv",
            [
                "A1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
                # B, a trader, declares A's installation: its line takes A's estimate
                "B1,1,2026-04-10,72085120,IN,Exporter B,Imp,2000000,,4000,IN-MH-0042",
                "B2,1,2026-04-10,72085120,IN,Exporter B,Imp,500000,,4000,",
            ],
        ),
    )
    users["installation"] = installation
    return users


def confirm_a(world, tmp_path, **replace):
    """Exporter A uploads its disclosure, corrects the coke amount with a reason, confirms."""
    exporter = world["exporter_a"]
    version = upload(exporter, world["installation"], template_2026(tmp_path, **replace), 2026)
    assert version.status == Status.REVIEW, version.failure
    coke = version.values.get(field="fuel[coke].amount")
    extracted_value_review(
        value=coke,
        user=exporter,
        action="correct",
        corrected_value=400,
        corrected_unit="kt",
        reason=REASON,
    )
    engine = disclosure_version_confirm(version=version, user=exporter)
    version.refresh_from_db()
    return version, engine


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def secrets_of(version) -> list[str]:
    """What B must not read: A's file name and its SHA-256, the correction's reason, A's
    username and organisation, a quote of a disclosed amount."""
    return [
        version.ingest_run.name,
        version.evidence.sha256,
        REASON,
        "exporter_a",
        "Exporter A",
        "410 kt",
        "provenance",
    ]


# --- 10. confidential provenance -------------------------------------------------------


def test_a_trader_reads_the_engine_part_of_a_producers_disclosed_trace_only(world, tmp_path):
    version, _ = confirm_a(world, tmp_path)
    traded = Shipment.objects.get(declaration_id="B1")
    # The disclosed estimate is the trader's best estimate; its CBAM figure stays the
    # default (docs/design.md, the two figures of a shipment).
    estimate = traded.best_estimate
    assert traded.tier == "default" and traded.best_tier == "disclosed"
    assert estimate.installation == world["installation"]
    stored = json.loads(estimate.trace)
    assert stored["provenance"]["values"]  # the secrets are in the stored trace …

    response = api(world["exporter_b"]).get(f"/api/v1/estimates/{estimate.pk}/trace")
    assert response.status_code == 200
    body = response.content
    for secret in secrets_of(version):  # … and none of them reaches the trader
        assert secret.encode() not in body, secret
    assert response["X-Trace-Scope"] == "engine"
    assert response["X-Trace-SHA256"] == hashlib.sha256(body).hexdigest()
    served = json.loads(body)
    assert served == {k: v for k, v in stored.items() if k != "provenance"}
    # The engine's part recomputes byte for byte, as `python -m methodologies verify` does.
    recomputed, digest = methodologies.recompute(served)
    assert recomputed == body and digest == response["X-Trace-SHA256"]

    for form in ("trace.csv", "trace.xlsx"):
        flat = api(world["exporter_b"]).get(f"/api/v1/estimates/{estimate.pk}/{form}")
        assert flat.status_code == 200 and flat["X-Trace-Scope"] == "engine"
        if form == "trace.csv":
            text = flat.content.decode()
        else:
            sheet = load_workbook(io.BytesIO(flat.content))["trace"]
            text = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
        for secret in secrets_of(version):
            assert secret not in text, (form, secret)

    archive = api(world["exporter_b"]).get("/api/v1/estimates/traces.zip?tier=disclosed")
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as z:
        name = f"traces/estimate-{estimate.pk}.json"
        assert z.read(name) == body
        entry = {e["path"]: e for e in json.loads(z.read("manifest.json"))["files"]}[name]
        assert entry["scope"] == "engine" and entry["sha256"] == hashlib.sha256(body).hexdigest()


def test_the_producer_and_officials_read_the_whole_trace(world, tmp_path):
    confirm_a(world, tmp_path)
    estimate = Shipment.objects.get(declaration_id="B1").estimate
    for who in ("exporter_a", "official", "auditor"):
        response = api(world[who]).get(f"/api/v1/estimates/{estimate.pk}/trace")
        assert response.content == estimate.trace.encode(), who
        assert response["X-Trace-SHA256"] == estimate.trace_sha256
        assert response["X-Trace-Scope"] == "full"


def test_the_traders_pages_show_no_disclosure_and_no_other_organisations_history(world, tmp_path):
    version, _ = confirm_a(world, tmp_path)
    traded = Shipment.objects.get(declaration_id="B1")
    pages = {
        "estimate": f"/estimates/{traded.estimate_id}/",
        "shipment": f"/shipments/{traded.pk}/",
    }
    for name, url in pages.items():
        page = browser(world["exporter_b"]).get(url)
        assert page.status_code == 200, name
        html = page.content.decode()
        assert 'id="trace-heading"' in html  # the engine's part (the methodology trace) is shown …
        for secret in secrets_of(version):  # … not A's disclosure, nor who confirmed it
            assert secret not in html, (name, secret)
    # The producer sees its own history on the same page.
    own = browser(world["exporter_a"]).get(pages["estimate"]).content.decode()
    assert "exporter_a" in own and "estimate.create" in own


# --- 11. tamper-evident served numbers -------------------------------------------------


def as_superuser(sql: str, params: list) -> None:
    """Raw SQL past the triggers, as a database superuser would run it."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def verify_command() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_estimates", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def verify_api(world, estimate: Estimate) -> dict:
    response = api(world["auditor"]).post(f"/api/v1/estimates/{estimate.pk}/verify")
    assert response.status_code == 200
    return response.json()


def test_an_untouched_world_verifies(world, tmp_path):
    confirm_a(world, tmp_path)
    estimate = Shipment.objects.get(declaration_id="B1").estimate
    assert verify_api(world, estimate) | {"stored_sha256": "", "recomputed_sha256": ""} == {
        "match": True,
        "differences": [],
        "stored_sha256": "",
        "recomputed_sha256": "",
    }
    status, report = verify_command()
    assert status == 0, report


def test_a_rewritten_see_column_fails_verification_though_the_trace_recomputes(world, tmp_path):
    confirm_a(world, tmp_path)
    estimate = Shipment.objects.get(declaration_id="B1").estimate
    as_superuser(
        "UPDATE estimates_estimate SET see_total_t_per_t = 0, see_direct_t_per_t = 0 WHERE id = %s",
        [estimate.pk],
    )
    served = api(world["official"]).get(f"/api/v1/estimates/{estimate.pk}/").json()
    assert served["see_total_t_per_t"] == 0  # what the API (and PACT) now serve …
    result = verify_api(world, estimate)  # … is caught
    assert result["match"] is False
    assert result["recomputed_sha256"] == result["stored_sha256"]  # the trace is intact
    assert any(d.startswith("column see_total_t_per_t = 0.0") for d in result["differences"])
    status, report = verify_command()
    assert status == 1
    assert f"[FAIL] estimate {estimate.pk}" in report and "served column see_total" in report


def test_rewritten_shipment_emissions_and_totals_fail_verification(world, tmp_path):
    confirm_a(world, tmp_path)
    traded = Shipment.objects.get(declaration_id="B1")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE shipments_shipment SET embedded_emissions_t = 0 WHERE id = %s", [traded.pk]
        )
    result = verify_api(world, traded.estimate)
    assert result["match"] is False
    assert any(f"shipment {traded.pk} (B1/1)" in d for d in result["differences"])
    # The total of B's April still holds the true sum: it no longer equals the shipments'.
    assert any("total IN 72085120" in d and "2026-04" in d for d in result["differences"])
    status, report = verify_command()
    assert status == 1 and f"[FAIL] shipment {traded.pk}" in report

    # Shipment and total rewritten together: the shipment still disagrees with its estimate.
    month = ShipmentTotal.objects.get(exporter=world["org_b"], month="2026-04-01")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE shipments_shipmenttotal SET embedded_emissions_t = "
            "embedded_emissions_t - %s WHERE id = %s",
            [traded.embedded_emissions_t, month.pk],
        )
    result = verify_api(world, traded.estimate)
    assert result["match"] is False and any("shipment" in d for d in result["differences"])


def test_a_rewritten_total_alone_fails_verification(world, tmp_path):
    confirm_a(world, tmp_path)
    traded = Shipment.objects.get(declaration_id="B1")
    month = ShipmentTotal.objects.get(exporter=world["org_b"], month="2026-04-01")
    np.testing.assert_allclose(
        month.embedded_emissions_t,
        sum(
            Shipment.objects.filter(exporter=world["org_b"]).values_list(
                "embedded_emissions_t", flat=True
            )
        ),
    )
    ShipmentTotal.objects.filter(pk=month.pk).update(embedded_emissions_t=1.0)
    result = verify_api(world, traded.estimate)
    assert result["match"] is False
    assert result["differences"] == [
        f"total IN 72085120 exporter {world['org_b'].pk} 2026-04: embedded_emissions_t = 1.0, "
        f"the shipments sum to {month.embedded_emissions_t!r}"
    ]


def test_an_estimate_cannot_be_changed_in_place(world, tmp_path):
    confirm_a(world, tmp_path)
    estimate = Shipment.objects.get(declaration_id="B1").estimate
    with pytest.raises(DatabaseError, match="immutable"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE estimates_estimate SET see_total_t_per_t = 0 WHERE id = %s", [estimate.pk]
        )
    with pytest.raises(DatabaseError, match="kept"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM estimates_estimate WHERE id = %s", [estimate.pk])
    estimate.refresh_from_db()
    assert estimate.see_total_t_per_t > 1  # 400 kt coke: hand-worked in test_hold.py

    admin = browser(world["admin"])
    url = f"/admin/estimates/estimate/{estimate.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content  # read-only
    posted = admin.post(url, {"see_total_t_per_t": "0", "_save": "Save"})
    assert posted.status_code == 403
    assert admin.get("/admin/estimates/estimate/add/").status_code == 403
    estimate.refresh_from_db()
    assert estimate.see_total_t_per_t > 1


# --- 12. implausible disclosures -------------------------------------------------------


def test_a_disclosure_declaring_zero_emissions_moves_no_shipment(world, tmp_path):
    """Every emission factor of the disclosure set to 0: on today's code the installation's
    shipments (A's and the trader B's) moved to SEE 0 at tier "disclosed", with no flag.
    The worked numbers are in tests/apps/disclosures/test_hold.py."""
    zero = {  # every factor of the template 0 (as tests/apps/disclosures/test_hold.py)
        "fuel,coke,ef,107,": "fuel,coke,ef,0,",
        "fuel,gas,ef,56.1,": "fuel,gas,ef,0,",
        "electricity,grid,ef,710,": "electricity,grid,ef,0,",
        "pig-iron,see_direct,1.9,": "pig-iron,see_direct,0,",
        "pig-iron,see_indirect,0.12,": "pig-iron,see_indirect,0,",
    }
    exporter = world["exporter_a"]
    version = upload(exporter, world["installation"], template_2026(tmp_path, **zero), 2026)
    engine = disclosure_version_confirm(version=version, user=exporter)
    declared = Shipment.objects.filter(installation_identifier="IN-MH-0042")
    assert engine["shipments"] == 0
    assert set(declared.values_list("tier", flat=True)) == {"default"}
    assert min(declared.values_list("embedded_emissions_t", flat=True)) > 0
    assert not Estimate.objects.filter(tier="disclosed").exists()
    version.refresh_from_db()
    assert version.status == "held"
    assert {f["check"] for f in version.held} >= {"zero_fuel_emission_factor", "zero_see"}
    # Officials see it held; the exporter's other organisation does not.
    held = api(world["official"]).get("/api/v1/disclosures/?status=held").json()["results"]
    assert [d["id"] for d in held] == [version.disclosure_id]
    assert api(world["exporter_b"]).get("/api/v1/disclosures/?status=held").json()["results"] == []
