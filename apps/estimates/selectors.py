"""Reads of estimates, scoped by role."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

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
    own_shipment = Shipment.objects.filter(
        estimate=OuterRef("pk"), exporter_id=user.organisation_id
    )
    return qs.filter(Exists(own_shipment) | Q(installation__organisation_id=user.organisation_id))
