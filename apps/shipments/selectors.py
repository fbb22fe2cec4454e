"""Reads of shipments, scoped by role: exporters see only their own organisation's."""

from __future__ import annotations

from django.db.models import QuerySet, Sum
from django.db.models.functions import ExtractYear

from apps.accounts.models import User
from apps.shipments.models import Shipment, ShipmentTotal


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    qs = Shipment.objects.filter(is_current=True).select_related("estimate", "exporter")
    if user.role == User.Role.EXPORTER:
        return qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    return qs


TOTALS_GROUPS = ("origin", "cn_code", "exporter", "month", "year")


def shipment_totals(
    *,
    user: User,
    group_by: list[str],
    cn_code: str = "",
    origin: str = "",
    period_from=None,
    period_to=None,
) -> list[dict]:
    """Totals of current shipments from the pre-aggregated table, grouped as asked."""
    qs = ShipmentTotal.objects.all()
    if user.role == User.Role.EXPORTER:
        qs = qs.filter(exporter_id=user.organisation_id) if user.organisation_id else qs.none()
    if cn_code:
        qs = qs.filter(cn_code__startswith=cn_code)
    if origin:
        qs = qs.filter(origin=origin.upper())
    if period_from:
        qs = qs.filter(month__gte=period_from.replace(day=1))
    if period_to:
        qs = qs.filter(month__lte=period_to)
    fields = {
        "origin": "origin",
        "cn_code": "cn_code",
        "exporter": "exporter__name",
        "month": "month",
        "year": "year",
    }
    qs = qs.annotate(year=ExtractYear("month"))
    keys = [fields[g] for g in group_by]
    rows = (
        qs.values(*keys)
        .annotate(
            shipments=Sum("shipments"),
            net_mass_t=Sum("net_mass_t"),
            embedded_emissions_t=Sum("embedded_emissions_t"),
            default_mass_t=Sum("default_mass_t"),
        )
        .order_by(*keys)
    )
    return [
        {**{g: row[fields[g]] for g in group_by}, **{k: row[k] for k in _TOTAL_VALUES}}
        for row in rows
    ]


_TOTAL_VALUES = ("shipments", "net_mass_t", "embedded_emissions_t", "default_mass_t")
