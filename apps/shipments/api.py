"""``/api/v1/shipments/``: read-only, token or session auth, keyset pagination."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
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
    # True when the figure was computed under a methodology version not adopted by k
    # members (docs/adoption.md): a preview, not an official figure.
    preview = serializers.BooleanField(source="estimate.preview", read_only=True, allow_null=True)
    best_preview = serializers.BooleanField(
        source="best_estimate.preview", read_only=True, allow_null=True
    )
    # The best estimate (docs/design.md, the two figures of a shipment).
    best_see_total_t_per_t = serializers.FloatField(
        source="best_estimate.see_total_t_per_t", read_only=True, allow_null=True
    )
    best_interval_t_per_t = serializers.SerializerMethodField()
    installation = serializers.CharField(
        source="installation.identifier", read_only=True, allow_null=True
    )

    @extend_schema_field(
        inline_serializer(
            "Interval",
            {"p05": serializers.FloatField(), "p95": serializers.FloatField()},
            allow_null=True,
        )
    )
    def get_best_interval_t_per_t(self, obj) -> dict | None:
        e = obj.best_estimate
        return interval(e.interval_low_t_per_t, e.interval_high_t_per_t) if e else None

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
            "importer_eori",
            "importer",
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
            "preview",
            "best_see_total_t_per_t",
            "best_embedded_emissions_t",
            "best_tier",
            "best_estimate",
            "best_interval_t_per_t",
            "best_preview",
            "installation",
            "implausible",
            "implausible_reason",
        ]
        read_only_fields = fields


def interval(low: float | None, high: float | None) -> dict | None:
    """``{"p05", "p95"}``, null where the rung states no interval."""
    return None if low is None or high is None else {"p05": low, "p95": high}


# The list's fields (as ShipmentSerializer names them) → the values() expression behind each.
LIST_VALUES = {
    name: {
        "exporter": "exporter__name",
        "see_direct_t_per_t": "estimate__see_direct_t_per_t",
        "see_indirect_t_per_t": "estimate__see_indirect_t_per_t",
        "see_total_t_per_t": "estimate__see_total_t_per_t",
        "estimate": "estimate_id",
        "best_see_total_t_per_t": "best_estimate__see_total_t_per_t",
        "best_estimate": "best_estimate_id",
        "preview": "estimate__preview",
        "best_preview": "best_estimate__preview",
        "best_interval_t_per_t": "best_estimate__interval_low_t_per_t",
        "installation": "installation__identifier",
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
        queryset = self.filter_queryset(self.get_queryset()).values(
            *LIST_VALUES.values(), "best_estimate__interval_high_t_per_t"
        )
        page = self.paginate_queryset(queryset)
        rows = []
        for row in page:
            item = {name: row[source] for name, source in LIST_VALUES.items()}
            item["date"] = item["date"].isoformat()
            item["best_interval_t_per_t"] = interval(
                row["best_estimate__interval_low_t_per_t"],
                row["best_estimate__interval_high_t_per_t"],
            )
            rows.append(item)
        return self.get_paginated_response(rows)


class TotalsQuerySerializer(serializers.Serializer):
    group_by = serializers.CharField(
        required=False,
        default="origin,cn_code,month",
        help_text="comma-separated, of: " + ", ".join(TOTALS_GROUPS),
    )
    cn_code = serializers.RegexField(r"^[0-9]{1,8}$", required=False, help_text="code or prefix")
    origin = serializers.CharField(
        required=False, help_text="ISO 3166-1 alpha-2 (CN) or a country name (China)"
    )
    period_from = serializers.DateField(required=False)
    period_to = serializers.DateField(required=False)
    implausible = serializers.ChoiceField(
        choices=["include"],
        required=False,
        help_text="include: also the lines flagged implausible at ingest (left out by "
        "default; the shipments list marks each with implausible_reason)",
    )

    def validate_origin(self, value: str) -> str:
        from ingest.countries import to_iso2

        iso2 = to_iso2(value)
        if iso2 is None:
            raise serializers.ValidationError(
                f"origin {value!r} is neither an ISO 3166-1 alpha-2 code nor a country name"
            )
        return iso2

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
        responses=inline_serializer(
            "Totals",
            {
                "results": TotalRowSerializer(many=True),
                "implausible_included": serializers.BooleanField(),
            },
        ),
    )
    def get(self, request):
        query = TotalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        include = params.pop("implausible", "") == "include"
        rows = shipment_totals(user=request.user, include_implausible=include, **params)
        return Response(
            {
                "results": TotalRowSerializer(rows, many=True).data,
                "implausible_included": include,
            }
        )


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


class RiskView(APIView):
    """``GET /api/v1/risk/?cn_code=&origin=&period_from=&period_to=``: exporters and
    installations ranked by the gap (CBAM figure − best estimate, tCO2e), with flags and
    reasons (officials, auditors and admins; docs/web.md)."""

    @extend_schema(
        responses=inline_serializer(
            "Risk",
            {
                "exporters": serializers.ListField(child=serializers.DictField()),
                "installations": serializers.ListField(child=serializers.DictField()),
                "implausible_included": serializers.BooleanField(),
                "implausible_left_out": serializers.IntegerField(),
            },
        )
    )
    def get(self, request):
        from rest_framework.exceptions import PermissionDenied

        from apps.shipments.risk import risk_ranking
        from apps.shipments.views import risk_query, risk_readers

        if not risk_readers(request.user):
            raise PermissionDenied("the risk view is for officials, auditors and admins")
        from apps.shipments.views import risk_left_out

        query = risk_query(request.query_params)
        ranking = risk_ranking(**query)
        out = {k: [r.as_dict() for r in rows] for k, rows in ranking.items()}
        # Lines flagged implausible at ingest: left out unless ?implausible=include.
        out["implausible_included"] = bool(query.get("include_implausible"))
        out["implausible_left_out"] = risk_left_out(query)
        return Response(out)
