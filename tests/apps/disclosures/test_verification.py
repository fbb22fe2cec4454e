"""The verified rung: a disclosure that carries a verification report with a positive
opinion (IR 2025/2546) makes its estimates "verified actual" (docs/design.md §2, rung 1);
exporters and officials attach one through the API or the disclosure page."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.disclosures.models import VerificationReport
from apps.disclosures.services import disclosure_version_confirm
from apps.estimates.models import Estimate
from apps.shipments.models import Shipment
from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.disclosures.test_confirm import SEE_DIRECT, SEE_INDIRECT, world  # noqa: F401

pytestmark = pytest.mark.services


def report(**change) -> dict:
    """A report covering 2026, the template's period moved to the shipments' year."""
    body = {
        "report_identifier": "VR-2026-0042",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "verifier_name": "Example Verification Ltd",
        "accreditation_number": "UKAS 1234",
        "accreditation_body": "UKAS",
        "accreditation_expires": "2028-06-30",
        "opinion": "positive_with_comments",
        "comments": "meter calibration records to be kept with the monitoring plan",
        "issued_on": dt.date.today().isoformat(),
    }
    return {**body, **change}


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _confirmed(world, installations, tmp_path):  # noqa: F811
    version = upload(world["exporter_a"], installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=version, user=world["exporter_a"])
    return version


def test_a_positive_report_moves_the_installations_shipments_to_verified(
    world,  # noqa: F811
    installations,
    tmp_path,
):
    version = _confirmed(world, installations, tmp_path)
    disclosed = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert disclosed.tier == "disclosed"
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    answer = _api(world["exporter_a"]).post(url, report(), format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    # D1's two lines (both figures) and D2/1, undeclared but of the exporter owning the
    # installation (its best estimate only: docs/design.md, the two figures).
    assert body["verified"] is True and body["shipments"] == 3

    moved = Shipment.objects.filter(declaration_id="D1")
    assert set(moved.values_list("tier", flat=True)) == {"verified"}
    assert set(moved.values_list("best_tier", flat=True)) == {"verified"}
    estimate = moved.first().estimate
    assert moved.first().best_estimate_id == estimate.pk
    assert estimate.tier == "verified" and estimate.pk != disclosed.pk
    # The same data, now verified: the numbers do not change, the rung does.
    np.testing.assert_allclose(estimate.see_direct_t_per_t, SEE_DIRECT, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_indirect_t_per_t, SEE_INDIRECT, rtol=1e-12)
    disclosed.refresh_from_db()
    assert disclosed.superseded_by_id == estimate.pk
    trace = json.loads(estimate.trace)
    assert trace["case"]["tier"] == "verified"
    assert trace["provenance"]["ladder"]["tier"] == "verified"
    assert "IR 2025/2546" in trace["provenance"]["ladder"]["why"]
    verification = trace["provenance"]["verification"]
    assert verification["report_identifier"] == "VR-2026-0042"
    assert verification["accreditation_number"] == "UKAS 1234"
    assert verification["opinion"] == "positive_with_comments"
    auditor = _api(world["auditor"])
    assert auditor.post(f"/api/v1/estimates/{estimate.pk}/verify").json()["match"] is True
    listed = auditor.get("/api/v1/shipments/?tier=verified").json()["results"]
    assert {s["declaration_id"] for s in listed} == {"D1"}
    assert {s["tier"] for s in listed} == {"verified"}  # the CBAM figure is verified too


def test_a_negative_opinion_is_kept_and_changes_no_rung(world, installations, tmp_path):  # noqa: F811
    version = _confirmed(world, installations, tmp_path)
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    answer = _api(world["official"]).post(url, report(opinion="negative"), format="json")
    assert answer.status_code == 201 and answer.json()["verified"] is False
    assert VerificationReport.objects.filter(disclosure=version.disclosure).count() == 1
    best = set(Shipment.objects.filter(declaration_id="D1").values_list("best_tier", flat=True))
    assert best == {"disclosed"}
    # Not verified: the CBAM figure stays the default (docs/design.md).
    tiers = set(Shipment.objects.filter(declaration_id="D1").values_list("tier", flat=True))
    assert tiers == {"default"}
    assert not Estimate.objects.filter(tier="verified").exists()


def test_a_report_attached_before_confirmation_verifies_on_confirmation(
    world,  # noqa: F811
    installations,
    tmp_path,
):
    version = upload(world["exporter_a"], installations["a"], template_2026(tmp_path), 2026)
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    answer = _api(world["exporter_a"]).post(url, report(opinion="positive"), format="json")
    assert answer.status_code == 201 and "confirmation" in answer.json()["note"]
    disclosure_version_confirm(version=version, user=world["exporter_a"])
    tiers = set(Shipment.objects.filter(declaration_id="D1").values_list("tier", flat=True))
    assert tiers == {"verified"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period_start": "2026-02-01"}, "period_start"),  # does not cover January
        ({"period_end": "2026-06-30"}, "period_end"),
        ({"accreditation_expires": "2026-01-31"}, "accreditation_expires"),
        ({"issued_on": "2099-01-01"}, "issued_on"),
        ({"opinion": "maybe"}, "opinion"),
        ({"accreditation_number": ""}, "accreditation_number"),
    ],
)
def test_a_report_that_does_not_qualify_is_refused_naming_the_field(
    world,  # noqa: F811
    installations,
    tmp_path,
    change,
    field,
):
    version = _confirmed(world, installations, tmp_path)
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    answer = _api(world["exporter_a"]).post(url, report(**change), format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not VerificationReport.objects.exists()


def test_only_the_owner_and_officials_attach(world, installations, tmp_path):  # noqa: F811
    version = _confirmed(world, installations, tmp_path)
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    assert _api(world["exporter_b"]).post(url, report(), format="json").status_code == 404
    assert _api(world["auditor"]).post(url, report(), format="json").status_code == 403


def test_the_disclosure_page_has_the_form_and_lists_the_report(
    world,  # noqa: F811
    installations,
    tmp_path,
    client,
):
    version = _confirmed(world, installations, tmp_path)
    client.force_login(world["official"])
    page = client.get(f"/disclosures/{version.disclosure_id}/").content.decode()
    assert f'action="/disclosures/{version.disclosure_id}/verification/"' in page
    assert "No verification report attached." in page
    answer = client.post(f"/disclosures/{version.disclosure_id}/verification/", report())
    assert answer.status_code == 302
    page = client.get(f"/disclosures/{version.disclosure_id}/").content.decode()
    assert "VR-2026-0042" in page and "Positive with comments" in page
    refused = client.post(
        f"/disclosures/{version.disclosure_id}/verification/",
        report(report_identifier="VR-2", period_end="2026-03-31"),
    )
    assert refused.status_code == 400 and "does not cover" in refused.content.decode()
    tiers = set(Shipment.objects.filter(declaration_id="D1").values_list("tier", flat=True))
    assert tiers == {"verified"}


# --- the modelled rung of a DRI-EAF works --------------------------------------------


def _partial(tmp_path, extra: list[str]):
    lines = template_2026(tmp_path).read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(("fuel,", "precursor,"))]
    path = tmp_path / "partial-dri.csv"
    path.write_text("\n".join(kept + extra) + "\n", encoding="utf-8")
    return path


def test_a_partial_disclosure_of_a_dri_eaf_works_is_modelled_with_its_dri(
    world,  # noqa: F811
    installations,
    tmp_path,
):
    """route.steel, DRI-EAF with natural gas, IPCC 2006 Vol. 3 Ch. 4 Table 4.1 Tier 1:
    EAF 0.08 tCO2/t steel + DRI 0.70 tCO2/t DRI.  The DRI charged is the disclosed 7203
    precursor, 900,000 t for the installation's 1,285,000 t, allocated by production:
    SEE_direct = 0.08 + 0.70 × 900,000 / 1,285,000 = 0.570272… t/t.  Before, the case had
    no dri_t and the engine refused it (no estimate)."""
    installation = installations["a"]
    installation.routes = ["dri_eaf"]
    installation.save()
    path = _partial(
        tmp_path,
        [
            "precursor,dri,cn_code,7203 10 00,,",
            "precursor,dri,mass,900000,t,",
            "precursor,dri,origin,India,,",
        ],
    )
    version = upload(world["exporter_a"], installation, path, 2026)
    engine = disclosure_version_confirm(version=version, user=world["exporter_a"])
    assert any("route.steel (dri_eaf)" in note for note in engine["notes"]), engine["notes"]
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert estimate.tier == "modelled" and estimate.methodology == "route.steel"
    np.testing.assert_allclose(
        estimate.see_direct_t_per_t, 0.08 + 0.70 * 900_000 / 1_285_000, rtol=1e-12
    )
    np.testing.assert_allclose(estimate.see_indirect_t_per_t, SEE_INDIRECT, rtol=1e-12)
    trace = json.loads(estimate.trace)
    np.testing.assert_allclose(trace["case"]["dri_t"], 900_000 * 1_200_000 / 1_285_000)
    assert "dri_t (precursor[dri].mass)" in {v["input"] for v in trace["provenance"]["values"]}
    # A positive verification report does not make a route model "verified".
    url = f"/api/v1/disclosures/{version.disclosure_id}/verification-reports/"
    assert _api(world["exporter_a"]).post(url, report(), format="json").status_code == 201
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert estimate.tier == "modelled"


def test_a_dri_eaf_works_without_a_dri_quantity_says_why_it_is_not_modelled(
    world,  # noqa: F811
    installations,
    tmp_path,
):
    installation = installations["a"]
    installation.routes = ["dri_eaf"]
    installation.save()
    version = upload(world["exporter_a"], installation, _partial(tmp_path, []), 2026)
    engine = disclosure_version_confirm(version=version, user=world["exporter_a"])
    assert any("dri_t) is unknown" in note for note in engine["notes"]), engine["notes"]
    assert Shipment.objects.get(declaration_id="D1", line=1).tier == "default"
