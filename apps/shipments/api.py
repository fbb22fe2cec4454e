"""``/api/v1/shipments/``: read-only, token or session auth, keyset pagination."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.shipments.filters import ShipmentFilter
from apps.shipments.models import Shipment, TradeAggregate
from apps.shipments.selectors import TOTALS_GROUPS, shipment_list, shipment_totals


class ShipmentSerializer(serializers.ModelSerializer):
    exporter = serializers.CharField(source="exporter.name", read_only=True)
    see_direct_t_per_t = serializers.FloatField(
        source="estimate.see_direct_t_per_t", read_only=True, allow_null=True
    )
    see_indirect_t_per_t = serializers.FloatField(
        source="estimate.see_indirect_t_per_t", read_only=True, allow_null=True
    )
    see_total_t_per_t = serializers.FloatField(
        source="estimate.see_total_t_per_t", read_only=True, allow_null=True
    )
    tier = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "declaration_id",
            "line",
            "version",
            "date",
            "cn_code",
            "origin",
            "exporter",
            "importer_name",
            "net_mass_t",
            "mass_unit",
            "statistical_value_eur",
            "supplementary_units",
            "procedure",
            "installation_identifier",
            "see_direct_t_per_t",
            "see_indirect_t_per_t",
            "see_total_t_per_t",
            "embedded_emissions_t",
            "tier",
            "estimate",
        ]
        read_only_fields = fields


# The list's fields (as ShipmentSerializer names them) → the values() expression behind each.
LIST_VALUES = {
    name: {
        "exporter": "exporter__name",
        "see_direct_t_per_t": "estimate__see_direct_t_per_t",
        "see_indirect_t_per_t": "estimate__see_indirect_t_per_t",
        "see_total_t_per_t": "estimate__see_total_t_per_t",
        "estimate": "estimate_id",
    }.get(name, name)
    for name in ShipmentSerializer.Meta.fields
}


class ShipmentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Shipment.objects.none()  # the schema's model; requests use get_queryset
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return shipment_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        """A page of the list, read with ``values()``: the same fields and values as
        :class:`ShipmentSerializer` (a test holds them equal), without building a model
        instance and calling a serialiser field per cell (about a third of the CPU)."""
        queryset = self.filter_queryset(self.get_queryset()).values(*LIST_VALUES.values())
        page = self.paginate_queryset(queryset)
        rows = []
        for row in page:
            item = {name: row[source] for name, source in LIST_VALUES.items()}
            item["date"] = item["date"].isoformat()
            rows.append(item)
        return self.get_paginated_response(rows)


class TotalsQuerySerializer(serializers.Serializer):
    group_by = serializers.CharField(
        required=False,
        default="origin,cn_code,month",
        help_text="comma-separated, of: " + ", ".join(TOTALS_GROUPS),
    )
    cn_code = serializers.RegexField(r"^[0-9]{1,8}$", required=False, help_text="code or prefix")
    origin = serializers.RegexField(r"^[A-Za-z]{2}$", required=False)
    period_from = serializers.DateField(required=False)
    period_to = serializers.DateField(required=False)

    def validate_group_by(self, value: str) -> list[str]:
        groups = [g.strip() for g in value.split(",") if g.strip()]
        unknown = [g for g in groups if g not in TOTALS_GROUPS]
        if unknown or not groups or len(set(groups)) != len(groups):
            raise serializers.ValidationError(
                f"group_by takes distinct names among {', '.join(TOTALS_GROUPS)}"
            )
        return groups


class TotalRowSerializer(serializers.Serializer):
    origin = serializers.CharField(required=False)
    cn_code = serializers.CharField(required=False)
    exporter = serializers.CharField(required=False)
    month = serializers.DateField(required=False)
    year = serializers.IntegerField(required=False)
    shipments = serializers.IntegerField()
    net_mass_t = serializers.FloatField()
    embedded_emissions_t = serializers.FloatField()
    default_mass_t = serializers.FloatField(help_text="mass of the shipments on default values")


class TotalsView(APIView):
    """``GET /api/v1/totals/?group_by=origin,cn_code,month``: embedded emissions and mass of
    the current shipments, from the totals kept current by every ingest."""

    @extend_schema(
        parameters=[TotalsQuerySerializer],
        responses=inline_serializer("Totals", {"results": TotalRowSerializer(many=True)}),
    )
    def get(self, request):
        query = TotalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = shipment_totals(user=request.user, **query.validated_data)
        return Response({"results": TotalRowSerializer(rows, many=True).data})


class TradeAggregateFilter(django_filters.FilterSet):
    cn_code = django_filters.CharFilter(field_name="cn_code", lookup_expr="startswith")
    origin = django_filters.CharFilter(field_name="origin")
    period_from = django_filters.DateFilter(field_name="month", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="month", lookup_expr="lte")
    include_implausible = django_filters.BooleanFilter(
        method="filter_implausible",
        help_text="true: also the rows flagged implausible at ingest (left out by default; "
        "each carries implausible_reason)",
    )

    class Meta:
        model = TradeAggregate
        fields = ["cn_code", "origin", "period_from", "period_to", "include_implausible"]

    def filter_implausible(self, queryset, name, value):
        return queryset if value else queryset.filter(implausible=False)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("include_implausible") is None:
            queryset = queryset.filter(implausible=False)  # the default: left out
        return queryset


class TradeAggregateSerializer(serializers.ModelSerializer):
    class Meta:
        model = TradeAggregate
        fields = [
            "id",
            "reporter",
            "origin",
            "cn_code",
            "month",
            "flow",
            "tonnes",
            "value_eur",
            "implausible",
            "implausible_reason",
        ]
        read_only_fields = fields


class TradeAggregateViewSet(viewsets.ReadOnlyModelViewSet):
    """Aggregate trade statistics (e.g. Eurostat Comext), apart from declaration lines."""

    queryset = TradeAggregate.objects.all()
    serializer_class = TradeAggregateSerializer
    filterset_class = TradeAggregateFilter
