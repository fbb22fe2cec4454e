"""Reads of installations, scoped by role: exporters see only their organisation's."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.facilities.models import Installation


def installation_list(*, user: User) -> QuerySet[Installation]:
    qs = Installation.objects.select_related("organisation")
    if user.role == User.Role.EXPORTER:
        return (
            qs.filter(organisation_id=user.organisation_id) if user.organisation_id else qs.none()
        )
    return qs


def installation_get(*, user: User, pk: int) -> Installation | None:
    """The installation ``pk`` if ``user`` may see it, else None (the caller answers 404)."""
    return installation_list(user=user).filter(pk=pk).first()
