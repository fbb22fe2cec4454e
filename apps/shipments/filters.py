"""Shipment filters shared by the web list and the API (django-filter)."""

from __future__ import annotations

import re

import django_filters
from django.core.exceptions import ValidationError

from apps.estimates.models import Tier
from apps.shipments.models import Shipment


def _digits(value: str) -> str:
    return re.sub(r"[\s.\u00a0]", "", value)


class ShipmentFilter(django_filters.FilterSet):
    cn_code = django_filters.CharFilter(
        method="filter_cn_code", label="CN code or prefix", help_text="e.g. 72 or 7208 or 72081000"
    )
    origin = django_filters.CharFilter(
        method="filter_origin", label="Origin", help_text="ISO 3166-1 alpha-2, e.g. US"
    )
    exporter = django_filters.CharFilter(
        field_name="exporter__name", lookup_expr="icontains", label="Exporter"
    )
    period_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="From")
    period_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="To")
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label="Tier")

    class Meta:
        model = Shipment
        fields = ["cn_code", "origin", "exporter", "period_from", "period_to", "tier"]

    def filter_cn_code(self, queryset, name, value):
        code = _digits(value)
        if not code.isdigit():
            raise ValidationError("a CN code or prefix is digits only")
        return queryset.filter(cn_code__startswith=code)

    def filter_origin(self, queryset, name, value):
        return queryset.filter(origin=value.strip().upper())
