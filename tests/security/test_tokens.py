"""API tokens: hashed at rest, refused at once when revoked or expired, per user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create, token_hash

LIST = "/api/v1/shipments/"


def _get(client, token: str, path: str = LIST):
    return client.get(path, HTTP_AUTHORIZATION=f"Token {token}")


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored(users):
    token, _ = api_token_create(user=users["auditor"])
    record = ApiToken.objects.get(user=users["auditor"])
    assert record.key_sha256 == token_hash(token)
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get(pk=record.pk)]
    assert token not in stored  # no column holds the token in clear
    assert record.prefix == token[:8]


@pytest.mark.django_db
def test_a_revoked_token_is_refused_at_the_next_request(client, users):
    token, _ = api_token_create(user=users["auditor"])
    assert _get(client, token).status_code == 200
    record = ApiToken.objects.get(user=users["auditor"])
    revoked = client.delete(
        f"/api/v1/auth/tokens/{record.pk}/", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = _get(client, token)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


@pytest.mark.django_db
def test_an_expired_token_is_refused_at_once(client, users):
    token, _ = api_token_create(user=users["official"])
    assert _get(client, token).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    refused = _get(client, token)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


@pytest.mark.django_db
def test_a_user_revokes_only_their_own_tokens(client, users):
    mine, _ = api_token_create(user=users["exporter_a"])
    theirs, _ = api_token_create(user=users["exporter_b"])
    other = ApiToken.objects.get(user=users["exporter_b"])
    answer = client.delete(f"/api/v1/auth/tokens/{other.pk}/", HTTP_AUTHORIZATION=f"Token {mine}")
    assert answer.status_code == 404
    assert _get(client, theirs).status_code == 200


@pytest.mark.django_db
def test_an_inactive_users_token_is_refused(client, users):
    token, _ = api_token_create(user=users["official"])
    users["official"].is_active = False
    users["official"].save()
    assert _get(client, token).status_code == 401


@pytest.mark.django_db
def test_last_use_is_recorded_at_most_once_a_minute(client, users):
    """The time of last use is kept, without a write (and a commit) on every request."""
    token, _ = api_token_create(user=users["auditor"])
    assert _get(client, token).status_code == 200
    first = ApiToken.objects.get(user=users["auditor"]).last_used_at
    assert first is not None
    assert _get(client, token).status_code == 200
    assert ApiToken.objects.get(user=users["auditor"]).last_used_at == first
    ApiToken.objects.update(last_used_at=first - dt.timedelta(minutes=2))
    assert _get(client, token).status_code == 200
    assert ApiToken.objects.get(user=users["auditor"]).last_used_at > first
