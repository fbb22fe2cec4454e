"""Every state change appends its audit event in the same transaction: ingests, estimates,
role changes (service and admin), API tokens issued and revoked, PACT clients."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, User
from apps.accounts.services import user_role_change
from apps.audit.models import AuditEvent
from apps.estimates.models import Estimate
from tests.apps.audit.helpers import token_for
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


def events(action: str) -> list[dict]:
    rows = AuditEvent.objects.filter(action=action).order_by("index")
    return [json.loads(bytes(e.data)) for e in rows]


def test_ingests_and_the_estimates_they_make_are_logged(postgres, users, tmp_path):
    # A slice of the real table: the header and China's rows.
    lines = DEFAULTS_CSV.read_text(encoding="utf-8").splitlines()
    defaults = tmp_path / "defaults.csv"
    defaults.write_text("\n".join([lines[0], *[x for x in lines if x.startswith("China,")]]))
    ingest_json("defaults", defaults)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv",
            [
                "E1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
                "E1,2,2027-03-02,72081000,CN,Exporter A,Imp,1000,,4000,",
            ],
        ),
    )
    (ingest_defaults,) = events("ingest.defaults")
    (ingest_customs,) = events("ingest.customs")
    assert ingest_defaults["evidence_sha256"] and ingest_customs["payload"]["accepted"] == 2
    created = events("estimate.create")
    assert {e["object"]["id"] for e in created} == {
        str(pk) for pk in Estimate.objects.values_list("pk", flat=True)
    }
    assert {e["payload"]["trace_sha256"] for e in created} == set(
        Estimate.objects.values_list("trace_sha256", flat=True)
    )
    assert len(created) == 4  # 2026 and 2027, each with and without the mark-up (two figures)


def test_a_role_change_commits_with_its_event_or_not_at_all(postgres, users, monkeypatch):
    official, admin = users["official"], users["admin"]
    user_role_change(user=official, role=User.Role.AUDITOR, actor=admin)
    official.refresh_from_db()
    assert official.role == User.Role.AUDITOR
    (event,) = events("user.role_change")
    assert event["actor"] == "admin"
    assert event["payload"] == {"username": "official", "from": "official", "to": "auditor"}
    user_role_change(user=official, role=User.Role.AUDITOR, actor=admin)  # no change, no event
    assert len(events("user.role_change")) == 1

    def broken_append(**kwargs):
        raise RuntimeError("the log is unavailable")

    monkeypatch.setattr("apps.accounts.services.audit_append", broken_append)
    with pytest.raises(RuntimeError):
        user_role_change(user=official, role=User.Role.ADMIN, actor=admin)
    official.refresh_from_db()
    assert official.role == User.Role.AUDITOR  # rolled back with the failed append
    with pytest.raises(ValueError, match="unknown role"):
        user_role_change(user=official, role="emperor", actor=admin)


def test_a_role_changed_in_the_admin_is_logged(postgres, users, client):
    client.force_login(users["admin"])
    target = users["exporter_a"]
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        role="official",
        organisation=target.organisation_id,
        date_joined_0=target.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=target.date_joined.strftime("%H:%M:%S"),
        groups=[],
        user_permissions=[],
    )
    data = {k: v for k, v in data.items() if k not in ("date_joined", "last_login")}
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.role == "official"
    (event,) = events("user.role_change")
    assert event["payload"]["from"] == "exporter" and event["payload"]["to"] == "official"
    assert event["actor"] == "admin"


def test_tokens_are_listed_and_revoked_by_their_owner(postgres, users):
    first, second = token_for("auditor"), token_for("auditor")
    other = token_for("official")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + first)
    mine = api.get("/api/v1/auth/tokens/").json()["results"]
    assert len(mine) == 2 and sum(t["current"] for t in mine) == 1
    assert {t["prefix"] for t in mine} == {first[:8], second[:8]}
    assert all("key" not in k for t in mine for k in t)  # only a prefix is ever shown
    second_id = ApiToken.objects.get(prefix=second[:8]).pk
    other_id = ApiToken.objects.get(prefix=other[:8]).pk
    assert api.delete(f"/api/v1/auth/tokens/{other_id}/").status_code == 404

    revoked = api.delete(f"/api/v1/auth/tokens/{second_id}/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    using_second = APIClient()
    using_second.credentials(HTTP_AUTHORIZATION="Token " + second)
    assert using_second.get("/api/v1/estimates/").status_code == 401
    assert api.get("/api/v1/estimates/").status_code == 200
    (event,) = events("token.revoke")
    assert event["object"] == {"type": "api_token", "id": str(second_id)}
    api.delete(f"/api/v1/auth/tokens/{second_id}/")  # revoking twice logs once
    assert len(events("token.revoke")) == 1
    assert len(events("token.create")) == 3

    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION="Token " + token_for("admin"))
    assert len(admin.get("/api/v1/auth/tokens/").json()["results"]) == 4


def test_the_browser_session_authenticates_the_api(postgres, users, client):
    assert client.get("/api/v1/estimates/").status_code in (401, 403)
    client.force_login(users["auditor"])
    assert client.get("/api/v1/estimates/").status_code == 200
    # Unsafe methods from a session need the CSRF token (DRF SessionAuthentication).
    csrf = type(client)(enforce_csrf_checks=True)
    csrf.force_login(users["auditor"])
    refused = csrf.delete("/api/v1/auth/tokens/1/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
