"""PACT data recipients (OAuth2 clients) and the access tokens issued to them.

Only SHA-256 digests of client secrets and access tokens are stored (like
:class:`apps.accounts.models.ApiToken`): a database copy cannot be replayed.
"""

from __future__ import annotations

from django.db import models


class PactClient(models.Model):
    """A data recipient of the PACT API (RFC 6749 §2: a confidential client)."""

    name = models.CharField(max_length=255)
    client_id = models.CharField(max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "PACT client"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # DRF treats the authenticated principal as ``request.user``.
    is_authenticated = True
    is_anonymous = False


class PactAccessToken(models.Model):
    """A bearer token from ``/pact/auth/token`` (RFC 6749 §4.4); it expires."""

    client = models.ForeignKey(PactClient, on_delete=models.CASCADE, related_name="tokens")
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.client} until {self.expires_at:%Y-%m-%d %H:%M}"
