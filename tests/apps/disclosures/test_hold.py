"""Implausible disclosures are held for an official's review (issue #16 item 12).

Hand-worked from fixtures/disclosures/template_example.csv moved to 2026 (the whole
installation; see test_confirm.py for the plausible case):

- every factor set to 0 (coke 107 → 0 tCO2/TJ, natural gas 56.1 → 0 tCO2/TJ, grid
  electricity 710 → 0 kg/MWh, pig iron precursor from IN 1.9 → 0 and 0.12 → 0 t/t):
  SEE_direct = (410,000 × 0.0282 × 0 + 52,000 × 0.036 × 0 + 250,000 × 0) / 1,285,000
  = 0 t/t. IR 2025/2547 Annex II B.3.1.1 Equation 10 (EF = EF_pre × (1 − BF), BF zero
  for fossil fuels) and Annex II A point 5(b) (biomass treated as fossil unless the
  B.3.3 evidence is provided): a zero fuel factor is a claim to review, and a steel good
  (Annex I points 3.13-3.16) cannot be made without direct emissions.
- the coke amount corrected to −400 kt: the engine refuses the case (a CaseError: an
  amount must be ≥ 0), so the version is held with the engine's reason.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.disclosures.models import Status
from apps.disclosures.services import (
    ReviewError,
    disclosure_hold_decide,
    disclosure_version_confirm,
    extracted_value_review,
)
from apps.shipments.models import Shipment
from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

ZERO = {
    "fuel,coke,ef,107,": "fuel,coke,ef,0,",
    "fuel,gas,ef,56.1,": "fuel,gas,ef,0,",
    "electricity,grid,ef,710,": "electricity,grid,ef,0,",
    "pig-iron,see_direct,1.9,": "pig-iron,see_direct,0,",
    "pig-iron,see_indirect,0.12,": "pig-iron,see_indirect,0,",
}
# SEE of the plausible template (test_confirm.py): 1,817,153.2 t / 1,285,000 t
SEE_DIRECT = 1_817_153.2 / 1_285_000


@pytest.fixture
def world(postgres_tx, users, installations, tmp_path, settings):
    settings.LLM_BASE_URL = None
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "customs.csv",
            [
                "D1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
                "D1,2,2026-07-15,72085120,IN,Exporter A,Imp,500000,,4000,IN-MH-0042",
            ],
        ),
    )
    return users


def tiers() -> set[str]:
    # The best estimate (the CBAM figure stays the default below verified: docs/design.md).
    return set(Shipment.objects.filter(declaration_id="D1").values_list("best_tier", flat=True))


def actions(version) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="disclosure_version", object_id=str(version.pk)
        ).values_list("action", flat=True)
    )


def test_a_disclosure_with_every_factor_zero_is_held_not_applied(world, installations, tmp_path):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path, **ZERO), 2026)
    engine = disclosure_version_confirm(version=version, user=exporter)
    version.refresh_from_db()
    assert version.status == Status.HELD and version.disclosure.status == Status.HELD
    assert engine["estimates"] == [] and engine["shipments"] == 0
    assert tiers() == {"default"}  # nothing moved to zero
    checks = {(f["cn_code"], f["check"], f.get("line")) for f in version.held}
    for cn in ("72085120", "72071111"):  # two goods, each with its four findings
        assert (cn, "zero_fuel_emission_factor", 16) in checks  # coke's ef, line 16
        assert (cn, "zero_fuel_emission_factor", 21) in checks  # natural gas's ef
        assert (cn, "zero_precursor_see", 34) in checks  # pig iron from IN
        assert (cn, "zero_see", None) in checks
    coke = next(f for f in version.held if f.get("line") == 16)
    assert coke["field"] == "fuel[coke].ef" and coke["file"] == version.ingest_run.name
    assert "Equation 10" in coke["reason"] and "B.3.3" in coke["reason"]
    assert actions(version)[-2:] == ["disclosure.confirm", "disclosure.hold"]


def test_an_official_accepts_a_held_disclosure_with_a_note(world, installations, tmp_path):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path, **ZERO), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    with pytest.raises(PermissionError):
        disclosure_hold_decide(version=version, user=exporter, decision="accept", note="mine")
    with pytest.raises(ReviewError, match="note"):
        disclosure_hold_decide(version=version, user=world["official"], decision="accept", note="")
    note = "biomass certificates checked on site (B.3.3)"
    out = disclosure_hold_decide(
        version=version, user=world["official"], decision="accept", note=note
    )
    version.refresh_from_db()
    assert out["decision"] == "accepted" and version.status == Status.CONFIRMED
    assert (version.decision, version.decision_note, version.decided_by) == (
        "accepted",
        note,
        world["official"],
    )
    assert tiers() == {"disclosed"}
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert estimate.see_total_t_per_t == 0.0  # as disclosed, now on an official's word
    review = json.loads(estimate.trace)["provenance"]["review"]
    assert review["decision"] == "accepted" and review["note"] == note
    assert actions(version)[-1] == "disclosure.hold.accept"
    with pytest.raises(ReviewError, match="not held"):
        disclosure_hold_decide(version=version, user=world["official"], decision="reject", note="x")


def test_a_rejected_restatement_leaves_the_earlier_version_current(world, installations, tmp_path):
    exporter = world["exporter_a"]
    first = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=first, user=exporter)
    before = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    np.testing.assert_allclose(before.see_direct_t_per_t, SEE_DIRECT, rtol=1e-12)

    second = upload(exporter, installations["a"], template_2026(tmp_path, **ZERO), 2026)
    disclosure_version_confirm(version=second, user=exporter)
    first.refresh_from_db()
    assert first.superseded_by_id is None  # a held restatement supersedes nothing
    disclosure_hold_decide(
        version=second, user=world["official"], decision="reject", note="no biomass evidence"
    )
    first.refresh_from_db()
    second.refresh_from_db()
    before.refresh_from_db()
    assert second.status == Status.REJECTED and first.superseded_by_id is None
    assert before.superseded_by_id is None
    assert Shipment.objects.get(declaration_id="D1", line=1).best_estimate_id == before.pk
    assert actions(second)[-1] == "disclosure.hold.reject"


def test_a_corrected_value_the_engine_refuses_holds_the_version(world, installations, tmp_path):
    exporter = world["exporter_a"]
    first = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=first, user=exporter)
    second = upload(
        exporter,
        installations["a"],
        template_2026(tmp_path, **{"coke,ncv,28.2": "coke,ncv,28"}),
        2026,
    )
    coke = second.values.get(field="fuel[coke].amount")
    extracted_value_review(
        value=coke,
        user=exporter,
        action="correct",
        corrected_value=-400,
        corrected_unit="kt",
        reason="typo",
    )
    disclosure_version_confirm(version=second, user=exporter)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == Status.HELD and first.superseded_by_id is None
    finding = second.held[0]
    assert finding["check"] == "CaseError"
    assert finding["key"] == "direct.source_streams[0].ad_t"
    assert finding["field"] == "fuel[coke].amount" and finding["line"] == 14
    assert "expected a number >= 0" in finding["reason"]
    assert tiers() == {"disclosed"}
    np.testing.assert_allclose(
        Shipment.objects.get(declaration_id="D1", line=1).best_estimate.see_direct_t_per_t,
        SEE_DIRECT,
        rtol=1e-12,
    )


def test_a_version_that_made_no_estimate_supersedes_nothing(world, installations, tmp_path):
    exporter = world["exporter_a"]
    first = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=first, user=exporter)
    # A restatement that says nothing the engine can use: no good has a production.
    second = upload(
        exporter,
        installations["a"],
        template_2026(
            tmp_path,
            **{
                "goods,1,production,1.2,Mt": "goods,1,production,0,Mt",
                'goods,2,production,"85,000",t': "goods,2,production,0,t",
            },
        ),
        2026,
    )
    engine = disclosure_version_confirm(version=second, user=exporter)
    first.refresh_from_db()
    second.refresh_from_db()
    assert engine["estimates"] == [] and second.status == Status.CONFIRMED
    assert first.superseded_by_id is None and engine["supersedes"] == []
    assert tiers() == {"disclosed"}


def test_officials_see_and_decide_held_versions_through_the_api(world, installations, tmp_path):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path, **ZERO), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    url = f"/api/v1/disclosures/{version.disclosure_id}/versions/{version.number}/decide/"
    official = APIClient()
    official.force_authenticate(world["official"])
    held = official.get("/api/v1/disclosures/?status=held").json()["results"]
    assert [d["id"] for d in held] == [version.disclosure_id]
    listed = held[0]["versions"][0]
    assert listed["status"] == "held" and len(listed["held"]) == 8

    owner = APIClient()
    owner.force_authenticate(exporter)
    assert owner.post(url, {"decision": "accept", "note": "ok"}, format="json").status_code == 403
    refused = official.post(url, {"decision": "accept"}, format="json")
    assert refused.status_code == 400
    done = official.post(url, {"decision": "reject", "note": "no evidence"}, format="json")
    assert done.status_code == 200 and done.json()["decision"] == "rejected"
    assert official.get("/api/v1/disclosures/?status=held").json()["results"] == []


def test_officials_decide_on_the_disclosure_page(world, installations, tmp_path):
    from django.test import Client

    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path, **ZERO), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    page_url = f"/disclosures/{version.disclosure_id}/"
    decide_url = f"/disclosures/{version.disclosure_id}/versions/{version.number}/decide/"
    official, owner = Client(), Client()
    official.force_login(world["official"])
    owner.force_login(exporter)
    page = official.get(page_url).content.decode()
    assert "Held for an official&#x27;s review" in page and decide_url in page
    assert "fuel[coke].ef" in page and "(line 16)" in page
    own = owner.get(page_url).content.decode()
    assert "fuel[coke].ef" in own and decide_url not in own  # sees why, cannot decide
    assert owner.post(decide_url, {"decision": "accept", "note": "x"}).status_code == 403
    refused = official.post(decide_url, {"decision": "accept", "note": " "})
    assert refused.status_code == 302 and "decision_error" in refused["Location"]
    done = official.post(decide_url, {"decision": "reject", "note": "no B.3.3 evidence"})
    assert done.status_code == 302
    version.refresh_from_db()
    assert version.status == Status.REJECTED and version.decision_note == "no B.3.3 evidence"
    assert "Rejected" in official.get(page_url).content.decode()
