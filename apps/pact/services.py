"""Writes of the PACT exchange: register a data recipient, issue it an access token.

Both are state changes, so each commits with its audit event (``apps.audit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_append
from apps.pact.models import PactAccessToken, PactClient

#: Lifetime of an access token, returned as ``expires_in`` (RFC 6749 §5.1).
TOKEN_TTL = dt.timedelta(hours=1)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def pact_client_create(*, name: str, actor: Any = None) -> tuple[PactClient, str]:
    """Register a data recipient. Returns (client, secret); the secret is shown only now."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = PactClient.objects.create(
            name=name,
            client_id="cm-" + secrets.token_hex(8),
            secret_sha256=secret_hash(secret),
        )
        audit_append(
            actor=actor,
            action="pact.client.create",
            object_type="pact_client",
            object_id=client.pk,
            payload={"name": name, "client_id": client.client_id},
        )
    return client, secret


def pact_client_authenticate(*, client_id: str, secret: str) -> PactClient | None:
    """The active client with these credentials, or None (constant-time secret check)."""
    client = PactClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    expected = client.secret_sha256 if client else secret_hash("")
    ok = hmac.compare_digest(expected, secret_hash(secret))
    return client if client is not None and ok else None


def pact_token_issue(*, client: PactClient) -> tuple[str, int]:
    """Issue an access token to ``client``. Returns (token, lifetime in seconds)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        record = PactAccessToken.objects.create(
            client=client,
            key_sha256=secret_hash(token),
            expires_at=timezone.now() + TOKEN_TTL,
        )
        audit_append(
            actor=None,
            action="pact.token.create",
            object_type="pact_access_token",
            object_id=record.pk,
            payload={"client_id": client.client_id, "expires": record.expires_at.isoformat()},
        )
    return token, int(TOKEN_TTL.total_seconds())
