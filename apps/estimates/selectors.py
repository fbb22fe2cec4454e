"""Reads of estimates, scoped by role."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.estimates.models import Estimate


def estimate_list(*, user: User) -> QuerySet[Estimate]:
    """Officials and auditors read all; an exporter reads the estimates used for its own
    shipments or made for its own installations."""
    qs = Estimate.objects.all()
    if user.role != User.Role.EXPORTER:
        return qs
    if not user.organisation_id:
        return qs.none()
    # Through the shipments' reverse relations (CBAM figure and best estimate): the
    # estimates app does not import the shipments app (docs/design.md).
    org = user.organisation_id
    return qs.filter(
        Q(pk__in=qs.filter(shipment__exporter_id=org).values("pk"))
        | Q(pk__in=qs.filter(best_for__exporter_id=org).values("pk"))
        | Q(installation__organisation_id=org)
    )
