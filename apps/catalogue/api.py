"""``/api/v1/default-values/``: the official CBAM default values (IR 2025/2621 Annex I), read-only.

Reference data, the same for every role: an auditor recomputing a default-tier estimate
reads the rows the engine looked at (they are also in the trace's ``case``).
"""

from __future__ import annotations

import re

import django_filters
from django.core.validators import RegexValidator
from rest_framework import serializers, viewsets

from apps.catalogue.models import DefaultValue


class DefaultValueFilter(django_filters.FilterSet):
    cn_code = django_filters.CharFilter(
        method="filter_cn_code",
        help_text="CN code or prefix, digits (e.g. 72 or 7208)",
        validators=[RegexValidator(r"^[0-9 .]{1,12}$", "a CN code or prefix is digits only")],
    )
    origin = django_filters.CharFilter(
        method="filter_origin", help_text="ISO 3166-1 alpha-2, or OTHER (other countries)"
    )
    sector = django_filters.CharFilter(
        field_name="sector", lookup_expr="iexact", help_text="e.g. Iron and steel, Cement"
    )

    class Meta:
        model = DefaultValue
        fields = ["cn_code", "origin", "sector"]

    def filter_cn_code(self, queryset, name, value):
        return queryset.filter(cn_code__startswith=re.sub(r"[ .]", "", value))

    def filter_origin(self, queryset, name, value):
        return queryset.filter(origin=value.strip().upper())


class DefaultValueSerializer(serializers.ModelSerializer):
    dv_2026_t_per_t = serializers.FloatField(source="dv_2026", allow_null=True)
    dv_2027_t_per_t = serializers.FloatField(source="dv_2027", allow_null=True)
    dv_2028_onwards_t_per_t = serializers.FloatField(source="dv_2028", allow_null=True)

    class Meta:
        model = DefaultValue
        fields = [
            "id",
            "origin",
            "country",
            "sector",
            "cn_code",
            "cn_code_as_published",
            "description",
            "direct_t_per_t",
            "indirect_t_per_t",
            "total_t_per_t",
            "dv_2026_t_per_t",
            "dv_2027_t_per_t",
            "dv_2028_onwards_t_per_t",
            "route_flag",
            "source_line",
        ]
        read_only_fields = fields


class DefaultValueViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows of IR 2025/2621 Annex I as ingested (``ingest defaults``); values in tCO2e/t,
    ``dv_*`` the marked-up values the act publishes for each import year."""

    queryset = DefaultValue.objects.all()
    serializer_class = DefaultValueSerializer
    filterset_class = DefaultValueFilter
