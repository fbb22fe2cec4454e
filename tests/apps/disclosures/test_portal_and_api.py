"""The exporter portal and the API: upload, progress, review beside the evidence, correct,
submit; exporter A cannot see or change exporter B's disclosures (404), officials and
auditors read but do not change them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.disclosures.models import Disclosure, ExtractedValue, Status
from tests.apps.disclosures.conftest import template_2026, upload
from tests.ingest.test_disclosure_pdf_text import minimal_pdf

pytestmark = pytest.mark.services


@pytest.fixture
def a_disclosure(postgres_tx, users, installations, tmp_path, settings):
    settings.LLM_BASE_URL = None
    return upload(users["exporter_a"], installations["a"], template_2026(tmp_path), 2026)


def test_an_exporter_uploads_reviews_corrects_and_submits_in_the_portal(
    postgres_tx, users, installations, client, tmp_path, settings
):
    settings.LLM_BASE_URL = None
    client.force_login(users["exporter_a"])
    page = client.get("/disclosures/upload/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    assert b"B Works" not in page.content  # only the exporter's own installations
    data = template_2026(tmp_path).read_bytes()
    response = client.post(
        "/disclosures/upload/",
        {
            "installation": installations["a"].pk,
            "period": 2026,
            "file": SimpleUploadedFile("ours.csv", data),
        },
    )
    assert response.status_code == 302
    disclosure = Disclosure.objects.get()
    assert response.url == f"/disclosures/{disclosure.pk}/"
    detail = client.get(response.url).content.decode()
    assert "Ready for review" in detail and 'value="100"' in detail
    review_url = f"/disclosures/{disclosure.pk}/versions/1/review/"
    review = client.get(review_url).content.decode()
    assert "goods[1].production" in review and "line 9: <mark>1.2 Mt</mark>" in review

    coke = ExtractedValue.objects.get(field="fuel[coke].amount")
    response = client.post(
        review_url,
        {
            "value": coke.pk,
            "action": "correct",
            "corrected_value": "0.5",
            "corrected_unit": "Mt",
            "reason": "typo",
        },
    )
    assert response.status_code == 302
    coke.refresh_from_db()
    assert (coke.status, coke.corrected_value, coke.corrected_unit) == ("corrected", 0.5, "Mt")
    bad = client.post(
        review_url,
        {"value": coke.pk, "action": "correct", "corrected_value": "1", "corrected_unit": "MWh"},
    )
    assert bad.status_code == 400 and b"not a unit of t" in bad.content
    assert client.post(review_url, {"submit": "1"}).status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.status == Status.CONFIRMED
    assert b"Estimates made from it" in client.get(f"/disclosures/{disclosure.pk}/").content
    assert b"Disclosures</a>" in client.get("/disclosures/").content  # the nav link


def test_a_pdf_value_is_shown_with_its_page_and_highlighted_quote(
    postgres_tx, users, installations, client, tmp_path, settings
):
    settings.LLM_BASE_URL = None
    path = tmp_path / "report.pdf"
    path.write_bytes(
        minimal_pdf(
            [["Title page"], ["Our figures for 2025", "Direct emissions: 1,250,000 t", "End"]]
        )
    )
    version = upload(users["exporter_a"], installations["a"], path, 2025)
    client.force_login(users["auditor"])  # auditors read every disclosure
    html = client.get(f"/disclosures/{version.disclosure_id}/versions/1/review/").content.decode()
    assert "<strong>page 2</strong>" in html
    assert "<mark>Direct emissions: 1,250,000 t</mark>" in html
    assert "Our figures for 2025" in html  # the line before, for context
    # where on the page: the rendered page with the value's box (apps/disclosures/review.py)
    assert "/pages/2.png" in html and 'class="page-box"' in html
    assert "rule-based extractor ran" in html


def test_exporter_b_gets_404_on_exporter_as_disclosure_pages(a_disclosure, users, client):
    client.force_login(users["exporter_b"])
    pk = a_disclosure.disclosure_id
    assert client.get(f"/disclosures/{pk}/").status_code == 404
    assert client.get(f"/disclosures/{pk}/versions/1/review/").status_code == 404
    value = a_disclosure.values.first()
    response = client.post(
        f"/disclosures/{pk}/versions/1/review/", {"value": value.pk, "action": "confirm"}
    )
    assert response.status_code == 404
    assert client.post(f"/disclosures/{pk}/versions/1/review/", {"submit": "1"}).status_code == 404
    assert b"Example Steel Works" not in client.get("/disclosures/").content
    value.refresh_from_db()
    assert value.status == "extracted"
    # and B cannot upload for A's installation
    response = client.post(
        "/disclosures/upload/",
        {
            "installation": a_disclosure.disclosure.installation_id,
            "period": 2026,
            "file": SimpleUploadedFile("x.csv", b"section,field,value\n"),
        },
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content


def test_officials_read_but_cannot_review(a_disclosure, users, client):
    client.force_login(users["official"])
    pk = a_disclosure.disclosure_id
    assert client.get(f"/disclosures/{pk}/versions/1/review/").status_code == 200
    value = a_disclosure.values.first()
    response = client.post(
        f"/disclosures/{pk}/versions/1/review/", {"value": value.pk, "action": "confirm"}
    )
    assert response.status_code == 403
    assert client.get("/disclosures/upload/").status_code == 403


def test_the_api_scopes_and_guards_disclosures(a_disclosure, users, installations, tmp_path):
    pk = a_disclosure.disclosure_id
    value = a_disclosure.values.get(field="goods[1].production")
    b = APIClient()
    b.force_authenticate(users["exporter_b"])
    assert b.get("/api/v1/disclosures/").json()["results"] == []
    assert b.get(f"/api/v1/disclosures/{pk}/").status_code == 404
    assert b.get(f"/api/v1/disclosures/{pk}/versions/1/values/").status_code == 404
    assert b.get(f"/api/v1/disclosure-values/{value.pk}/").status_code == 404
    assert (
        b.post(f"/api/v1/disclosure-values/{value.pk}/review/", {"action": "confirm"}).status_code
        == 404
    )
    assert b.post(f"/api/v1/disclosures/{pk}/versions/1/confirm/").status_code == 404
    with template_2026(tmp_path).open("rb") as f:
        response = b.post(
            "/api/v1/disclosures/",
            {"installation": "IN-MH-0042", "period": 2026, "file": f},
            format="multipart",
        )
    assert response.status_code == 400 and "installation" in response.json()

    auditor = APIClient()
    auditor.force_authenticate(users["auditor"])
    assert auditor.get(f"/api/v1/disclosures/{pk}/").json()["versions"][0]["number"] == 1
    values = auditor.get(f"/api/v1/disclosures/{pk}/versions/1/values/").json()
    (production,) = [v for v in values if v["field"] == "goods[1].production"]
    assert (production["value"], production["line"], production["quote"]) == (
        1200000.0,
        9,
        "1.2 Mt",
    )
    assert (
        auditor.post(f"/api/v1/disclosure-values/{value.pk}/review/", {"action": "confirm"})
    ).status_code == 403

    a = APIClient()
    a.force_authenticate(users["exporter_a"])
    response = a.post(
        f"/api/v1/disclosure-values/{value.pk}/review/",
        {"action": "correct", "corrected_value": 1.1, "corrected_unit": "Mt", "reason": "x"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "corrected"
    confirmed = a.post(f"/api/v1/disclosures/{pk}/versions/1/confirm/").json()
    assert len(confirmed["estimates"]) == 2
    assert a.post(f"/api/v1/disclosures/{pk}/versions/1/confirm/").status_code == 400


def test_an_exporter_uploads_through_the_api(postgres_tx, users, installations, tmp_path, settings):
    settings.LLM_BASE_URL = None
    a = APIClient()
    a.force_authenticate(users["exporter_a"])
    with template_2026(tmp_path).open("rb") as f:
        response = a.post(
            "/api/v1/disclosures/",
            {"installation": "IN-MH-0042", "period": 2026, "file": f},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 1 and response.json()["status"] == "review"
    schema = a.get("/api/schema/").content.decode()
    assert "/api/v1/disclosures/{id}/versions/{number}/confirm/" in schema
