"""``Authorization: Token <token>``: looked up by SHA-256, refused once expired or revoked."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from apps.accounts.models import ApiToken
from apps.accounts.services import token_hash

#: ``last_used_at`` is kept to this resolution: written at most once a minute per token.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        try:
            token = ApiToken.objects.select_related("user").get(key_sha256=token_hash(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Token revoked.")
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed("Token expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # A write (and its commit) per request would cost more than the request's read.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (token.user, token)
