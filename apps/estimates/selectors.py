"""Reads of estimates, scoped by role."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.estimates.models import Estimate
from apps.shipments.models import Shipment


def estimate_list(*, user: User) -> QuerySet[Estimate]:
    """Officials and auditors read all; an exporter reads the estimates used for its own
    shipments or made for its own installations."""
    qs = Estimate.objects.all()
    if user.role != User.Role.EXPORTER:
        return qs
    if not user.organisation_id:
        return qs.none()
    used_for_own = Shipment.objects.filter(exporter_id=user.organisation_id).values("estimate_id")
    return qs.filter(Q(pk__in=used_for_own) | Q(installation__organisation_id=user.organisation_id))
