"""Reads of shipments, scoped by role: exporters see only their own organisation's."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.shipments.models import Shipment


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    qs = Shipment.objects.filter(is_current=True).select_related("estimate", "exporter")
    if user.role == User.Role.EXPORTER:
        return qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    return qs
