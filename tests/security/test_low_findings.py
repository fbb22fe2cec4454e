"""The low findings of issue #16, one regression test (or more) each:

- audit entries of command-line ingests (no actor) were readable by every exporter;
- a tampered API cursor answered 500 on every list;
- API tokens survived a password change and came back when an account was reactivated;
- admin changes to a user's organisation or staff status, and to a token's revocation or
  expiry, wrote no audit event;
- no Content-Security-Policy;
- a locked-out token request answered 401 "Invalid username or password" (not 429), and
  the lockout page said "PT15M".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create
from tests.apps.helpers import DEFAULTS_CSV, ROOT, ingest_json, write_customs


def _api(user, token: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token or api_token_create(user=user)[0]}")
    return client


# --- Audit entries are attributed to the organisation whose data they carry --------------


@pytest.mark.services
def test_an_exporter_cannot_read_a_command_line_ingest_of_others_data(postgres, users, tmp_path):
    from apps.audit.models import AuditEvent

    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "cli.csv",
            ["C1,1,2026-03-02,72081000,CN,Exporter B,Secret Importer,1000,,4000,"],
        ),
    )
    customs = AuditEvent.objects.get(action="ingest.customs")
    defaults = AuditEvent.objects.get(action="ingest.defaults")
    assert customs.actor is None and b"cli.csv" in bytes(customs.data)
    exporter, official = _api(users["exporter_a"]), _api(users["official"])
    # A customs file carries every exporter's lines: officials read it, exporters do not.
    assert exporter.get(f"/api/v1/audit/entries/{customs.index}").status_code == 404
    assert official.get(f"/api/v1/audit/entries/{customs.index}").status_code == 200
    history = exporter.get(
        "/api/v1/audit/entries", {"object_type": "ingest_run", "object_id": customs.object_id}
    )
    assert history.status_code == 200 and history.json()["entries"] == []
    # The CBAM default values are public: every signed-in user reads their ingest.
    assert exporter.get(f"/api/v1/audit/entries/{defaults.index}").status_code == 200
    # The entry stays in every proof (its leaf hash is public).
    proof = exporter.get(
        "/api/v1/audit/proof/inclusion",
        {"index": customs.index, "tree_size": AuditEvent.objects.count()},
    )
    assert proof.status_code == 200


@pytest.mark.django_db
def test_an_event_about_an_organisations_object_is_attributed_to_it(users):
    from django.db import transaction

    from apps.audit.services import audit_append

    token, _ = api_token_create(user=users["exporter_b"])
    record = ApiToken.objects.get(user=users["exporter_b"])
    with transaction.atomic():  # no actor, as from a command or a task
        event = audit_append(
            actor=None, action="token.revoke", object_type="api_token", object_id=record.pk
        )
    assert event.organisation_id == users["org_b"].pk and not event.public
    assert (
        _api(users["exporter_b"], token).get(f"/api/v1/audit/entries/{event.index}").status_code
        == 200
    )
    assert _api(users["exporter_a"]).get(f"/api/v1/audit/entries/{event.index}").status_code == 404


# --- A tampered cursor answers 400 -------------------------------------------------------


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


LISTS = ["/api/v1/shipments/", "/api/v1/estimates/", "/api/v1/default-values/"]
TAMPERED = {
    "position not a number": _cursor("p=not-a-number"),  # decodes; fails as an id
    "offset not a number": _cursor("o=x&p=1"),
    "not base64": "%25%25not-base64",
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*LISTS, "/api/v1/auth/tokens/"])
@pytest.mark.parametrize("cursor", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_cursor_answers_400_naming_the_parameter(users, path, cursor):
    answer = _api(users["auditor"]).get(f"{path}?cursor={cursor}")
    assert answer.status_code == 400, (answer.status_code, answer.content[:200])
    assert "cursor" in answer.json()


@pytest.mark.django_db
def test_a_cursor_as_given_still_pages(users):
    client = _api(users["auditor"])
    for _ in range(3):
        api_token_create(user=users["auditor"])
    first = client.get("/api/v1/auth/tokens/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    assert client.get(first["next"]).status_code == 200


# --- Tokens do not outlive the password, nor come back on reactivation ---------------------


@pytest.mark.django_db
def test_a_password_change_revokes_the_users_tokens(users):
    from apps.audit.models import AuditEvent

    user = users["auditor"]
    token, _ = api_token_create(user=user)
    client = _api(user, token)
    assert client.get("/api/v1/shipments/").status_code == 200
    user.set_password("a-new-long-password")
    user.save()
    refused = client.get("/api/v1/shipments/")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    event = AuditEvent.objects.filter(action="token.revoke").latest("index")
    assert json.loads(bytes(event.data))["payload"]["reason"] == "password changed"
    # A token issued with the new password works.
    assert _api(user).get("/api/v1/shipments/").status_code == 200


@pytest.mark.django_db
def test_a_token_does_not_come_back_when_the_account_is_reactivated(users):
    from apps.accounts.services import user_deactivate

    user = users["official"]
    token, _ = api_token_create(user=user)
    user_deactivate(user=user, actor=users["admin"])
    user.refresh_from_db()
    user.is_active = True
    user.save()
    assert _api(user, token).get("/api/v1/shipments/").status_code == 401


def _admin_user_form(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
        "role": user.role,
        "organisation": str(user.organisation_id or ""),
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_admin_changes_to_a_users_organisation_and_staff_status_are_audited(users, client):
    from apps.audit.models import AuditEvent

    user = users["exporter_a"]
    api_token_create(user=user)
    client.force_login(users["admin"])
    url = f"/admin/accounts/user/{user.pk}/change/"
    form = _admin_user_form(user, organisation=str(users["org_b"].pk), is_staff="on")
    assert client.post(url, form).status_code == 302
    event = AuditEvent.objects.filter(action="user.change").latest("index")
    payload = json.loads(bytes(event.data))["payload"]
    assert event.actor == users["admin"]
    assert payload["changes"]["organisation"] == {
        "from": users["org_a"].pk,
        "to": users["org_b"].pk,
    }
    assert payload["changes"]["is_staff"] == {"from": False, "to": True}
    # Deactivated in the admin: the token is revoked at once, for good.
    assert client.post(url, _admin_user_form(user, is_active=None)).status_code == 302
    event = AuditEvent.objects.filter(action="user.change").latest("index")
    assert json.loads(bytes(event.data))["payload"]["changes"]["is_active"] == {
        "from": True,
        "to": False,
    }
    assert ApiToken.objects.get(user=user).revoked_at is not None


@pytest.mark.django_db
def test_admin_changes_to_a_tokens_revocation_and_expiry_are_audited(users, client):
    from apps.audit.models import AuditEvent

    api_token_create(user=users["exporter_b"])
    record = ApiToken.objects.get(user=users["exporter_b"])
    client.force_login(users["admin"])
    later = (timezone.now() + dt.timedelta(days=1)).astimezone(dt.UTC)
    form = {
        "user": str(users["exporter_b"].pk),
        "expires_at_0": later.strftime("%Y-%m-%d"),
        "expires_at_1": later.strftime("%H:%M:%S"),
        "revoked_at_0": later.strftime("%Y-%m-%d"),
        "revoked_at_1": "00:00:00",
    }
    answer = client.post(f"/admin/accounts/apitoken/{record.pk}/change/", form)
    assert answer.status_code == 302, answer.content[-2000:]
    event = AuditEvent.objects.filter(action="token.admin_change").latest("index")
    changes = json.loads(bytes(event.data))["payload"]["changes"]
    assert set(changes) == {"expires_at", "revoked_at"} and changes["revoked_at"]["from"] is None
    assert event.actor == users["admin"] and event.organisation_id == users["org_b"].pk


# --- Content-Security-Policy --------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_without_inline_scripts(users, client):
    for path in ("/login/", "/api/docs/"):
        if path != "/login/":
            client.force_login(users["official"])
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], path  # no inline script, no other host
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        body = response.content.decode()
        inline = [m for m in re.findall(r"<script\b[^>]*>", body) if "src=" not in m]
        assert not inline, (path, inline)


def test_no_template_or_static_file_has_an_inline_script_or_event_handler():
    """The policy allows no inline script: the pages must not need one."""
    offenders = []
    for folder in ("templates", "static", "apps"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".html", ".svg", ".js", ".css") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in tag and "application/json" not in tag:
                    offenders.append((path, tag))
            offenders += [(path, m) for m in re.findall(r"<[^>]+\son[a-z]+\s*=", text)]
            offenders += [(path, m) for m in re.findall(r"javascript:", text)]
    assert not offenders, offenders


# --- Lockout answers: 429 and minutes ------------------------------------------------------


@pytest.mark.django_db
def test_a_locked_out_token_request_answers_429_not_invalid_password(users, client):
    def ask(password):
        return client.post(
            "/api/v1/auth/token/",
            {"username": "official", "password": password},
            content_type="application/json",
            REMOTE_ADDR="203.0.113.77",
        )

    for _ in range(4):
        assert ask("wrong").status_code == 401
    for password in ("wrong", "pw-official"):
        answer = ask(password)
        assert answer.status_code == 429
        assert "Invalid username or password" not in answer.json()["detail"]
        assert int(answer["Retry-After"]) == 15 * 60


@pytest.mark.django_db
def test_the_lockout_page_says_minutes(users, client):
    for _ in range(5):
        answer = client.post(
            "/login/", {"username": "auditor", "password": "x"}, REMOTE_ADDR="203.0.113.78"
        )
    assert answer.status_code == 429
    text = answer.content.decode()
    assert "15 minutes" in text and "PT15M" not in text
