"""Installation filters shared by the web list and the API (django-filter)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.facilities.models import Installation


class InstallationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name or identifier"))
    country = django_filters.CharFilter(method="filter_country", label=_("Country (ISO alpha-2)"))
    owner = django_filters.CharFilter(method="filter_owner", label=_("Owner or parent"))
    route = django_filters.ChoiceFilter(
        choices=Installation.Route.choices, method="filter_route", label=_("Route")
    )
    status = django_filters.CharFilter(field_name="status", lookup_expr="iexact", label=_("Status"))
    source = django_filters.CharFilter(
        field_name="source", label=_("Registry source (gem_steel, gem_cement)")
    )
    flagged = django_filters.BooleanFilter(method="filter_flagged", label=_("Has an open flag"))

    class Meta:
        model = Installation
        fields = ["q", "country", "owner", "route", "status", "source", "flagged"]

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(identifier__icontains=value))

    def filter_owner(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(organisation__name__icontains=value)
            | Q(owner_name__icontains=value)
            | Q(parent_name__icontains=value)
            | Q(owner_local__icontains=value)
        )

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.strip().upper())

    def filter_route(self, queryset, name, value):
        # JSON list membership: containment on PostgreSQL, a scan elsewhere (SQLite).
        from django.db import connection

        if connection.vendor == "postgresql":
            return queryset.filter(routes__contains=[value])
        ids = [pk for pk, routes in queryset.values_list("id", "routes") if value in (routes or [])]
        return queryset.filter(pk__in=ids)

    def filter_flagged(self, queryset, name, value):
        open_flags = queryset.filter(reconciliation_flags__status="open").values("pk")
        return queryset.filter(pk__in=open_flags) if value else queryset.exclude(pk__in=open_flags)
