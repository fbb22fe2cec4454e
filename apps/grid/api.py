"""``/api/v1/grid/…``: zones, the factor library, country averages, hourly or monthly
intensity series, the factor lookup with its fallback chain, hydrogen assessments."""

from __future__ import annotations

import datetime as dt
import json

import django_filters
from django.db.models import Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.filters import UtcIsoDateTimeFilter
from apps.grid.models import (
    EmissionFactor,
    GridAverage,
    GridZone,
    HydrogenAssessment,
    IntensitySeries,
    Kind,
)
from apps.grid.selectors import (
    grid_factor_lookup,
    hydrogen_assessment_list,
    intensity_monthly,
    intensity_slice,
)
from methodologies.grid import KINDS, UNIT

MAX_HOURLY_DAYS = 366


class IntensitySeriesSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntensitySeries
        fields = [
            "year",
            "first_hour",
            "last_hour",
            "hours",
            "measured",
            "computed",
            "gap_filled",
            "missing",
            "mean_direct_g_per_kwh",
            "mean_lifecycle_g_per_kwh",
            "path",
            "sha256",
            "evidence_sha256",
            "has_mix",
        ]
        read_only_fields = fields


class GridZoneSerializer(serializers.ModelSerializer):
    series = IntensitySeriesSerializer(many=True, read_only=True)

    class Meta:
        model = GridZone
        fields = ["id", "key", "country", "name", "synthetic", "series"]
        read_only_fields = fields


class GridZoneFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")

    class Meta:
        model = GridZone
        fields = ["country", "synthetic"]


class GridZoneViewSet(viewsets.ReadOnlyModelViewSet):
    """Grid zones that have hourly data, each with its zone-year files of the store."""

    queryset = GridZone.objects.prefetch_related("series")
    serializer_class = GridZoneSerializer
    filterset_class = GridZoneFilter
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"


class EmissionFactorSerializer(serializers.ModelSerializer):
    is_default = serializers.BooleanField(read_only=True)

    class Meta:
        model = EmissionFactor
        fields = [
            "id",
            "zone",
            "is_default",
            "kind",
            "mode",
            "valid_from",
            "valid_to",
            "value_g_per_kwh",
            "source",
            "comment",
            "file",
            "source_line",
        ]
        read_only_fields = fields


class EmissionFactorFilter(django_filters.FilterSet):
    zone = django_filters.CharFilter(field_name="zone", help_text="zone key or _DEFAULT")
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    mode = django_filters.CharFilter(field_name="mode")
    valid_at = UtcIsoDateTimeFilter(
        method="filter_valid_at", help_text="only the entries valid at this time (ISO 8601)"
    )

    class Meta:
        model = EmissionFactor
        fields = ["zone", "kind", "mode", "valid_at"]

    def filter_valid_at(self, queryset, name, value):
        return queryset.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=value)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=value)
        )


class EmissionFactorViewSet(viewsets.ReadOnlyModelViewSet):
    """The emission-factor library [gCO2eq/kWh]: per zone (or the global ``_DEFAULT``),
    kind and production mode, each entry valid from ``valid_from`` until ``valid_to``."""

    queryset = EmissionFactor.objects.all()
    serializer_class = EmissionFactorSerializer
    filterset_class = EmissionFactorFilter


class GridAverageSerializer(serializers.ModelSerializer):
    class Meta:
        model = GridAverage
        fields = [
            "id",
            "basis",
            "code",
            "iso2",
            "name",
            "year",
            "kind",
            "value_g_per_kwh",
            "is_region",
            "source",
        ]
        read_only_fields = fields


class GridAverageFilter(django_filters.FilterSet):
    class Meta:
        model = GridAverage
        fields = ["basis", "code", "iso2", "year"]


class GridAverageViewSet(viewsets.ReadOnlyModelViewSet):
    """Country and region annual factors: Ember averages, IFI harmonised factors."""

    queryset = GridAverage.objects.all()
    serializer_class = GridAverageSerializer
    filterset_class = GridAverageFilter


class IntensityQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="first hour (ISO 8601; UTC if no offset)")
    end = serializers.DateTimeField(help_text="end, exclusive")
    resolution = serializers.ChoiceField(choices=["hourly", "monthly"], default="hourly")

    def validate(self, attrs):
        for key in ("start", "end"):
            if attrs[key].tzinfo is None:
                attrs[key] = attrs[key].replace(tzinfo=dt.UTC)
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError("end must be after start")
        if attrs["resolution"] == "hourly" and attrs["end"] - attrs["start"] > dt.timedelta(
            days=MAX_HOURLY_DAYS
        ):
            raise serializers.ValidationError(f"hourly series span at most {MAX_HOURLY_DAYS} days")
        return attrs


class IntensityRowSerializer(serializers.Serializer):
    time_utc = serializers.DateTimeField()
    direct = serializers.FloatField(allow_null=True)
    lifecycle = serializers.FloatField(allow_null=True)
    provenance = serializers.CharField(help_text="measured, computed, gap_filled or missing")
    fill_method = serializers.CharField(
        help_text="none, linear, same_hour_of_week, annual_mean, source_estimate"
    )


class IntensitySeriesView(APIView):
    """``GET /api/v1/grid/zones/{key}/intensity/?start=…&end=…&resolution=hourly|monthly``:
    the zone's stored hours (or monthly means with the hours of each provenance)
    [gCO2eq/kWh], read lazily from the zone-year files of the store."""

    @extend_schema(
        parameters=[IntensityQuerySerializer],
        responses=inline_serializer(
            "IntensitySlice",
            {
                "zone": serializers.CharField(),
                "unit": serializers.CharField(),
                "resolution": serializers.CharField(),
                "results": IntensityRowSerializer(many=True),
            },
        ),
    )
    def get(self, request, key: str):
        if not GridZone.objects.filter(key=key).exists():
            raise Http404("No such grid zone")
        query = IntensityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        frame = intensity_slice(zone=key, start=q["start"], end=q["end"])
        if q["resolution"] == "monthly":
            frame = intensity_monthly(frame)
        rows = json.loads(frame.to_json(orient="records", date_format="iso"))
        return Response({"zone": key, "unit": UNIT, "resolution": q["resolution"], "results": rows})


class LookupQuerySerializer(serializers.Serializer):
    zone = serializers.CharField(required=False, default="", allow_blank=True)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="")
    year = serializers.IntegerField(min_value=1990, max_value=2100)
    kind = serializers.ChoiceField(choices=list(KINDS), default="direct")


class GridFactorLookupView(APIView):
    """``GET /api/v1/grid/lookup/?zone=DE&country=DE&year=2024&kind=direct``: the
    electricity factor [tCO2e/MWh] through installation zone → country → world, with the
    steps walked, the kind used, gap flags and the evidence files."""

    @extend_schema(
        parameters=[LookupQuerySerializer],
        responses={
            200: inline_serializer(
                "GridFactor",
                {
                    "value_t_per_mwh": serializers.FloatField(),
                    "kind": serializers.CharField(),
                    "source": serializers.CharField(),
                    "valid_from": serializers.CharField(),
                    "valid_to": serializers.CharField(),
                    "steps": serializers.ListField(child=serializers.CharField()),
                    "gap_filled": serializers.BooleanField(),
                    "evidence_sha256": serializers.ListField(child=serializers.CharField()),
                },
            ),
            404: OpenApiResponse(
                OpenApiTypes.OBJECT, description="no factor for the zone, the country or the world"
            ),
        },
    )
    def get(self, request):
        query = LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        try:
            factor = grid_factor_lookup(
                zone=q["zone"], country=q["country"].upper(), year=q["year"], kind=q["kind"]
            )
        except LookupError as exc:
            raise Http404(str(exc)) from None
        return Response(factor.__dict__)


class HydrogenAssessmentSerializer(serializers.ModelSerializer):
    installation = serializers.CharField(source="installation.identifier", read_only=True)
    intensity = serializers.SerializerMethodField()

    class Meta:
        model = HydrogenAssessment
        fields = [
            "id",
            "installation",
            "year",
            "zone",
            "kind",
            "monthly_passes",
            "hourly_passes",
            "monthly_g_per_mj",
            "hourly_g_per_mj",
            "monthly_rfnbo_share",
            "hourly_rfnbo_share",
            "hydrogen_kg",
            "us45v_tier_share",
            "us45v_credit_usd_per_kg",
            "gap_filled_hours",
            "intensity",
            "monthly_trace_sha256",
            "hourly_trace_sha256",
            "us45v_trace_sha256",
            "created_at",
        ]
        read_only_fields = fields

    def get_intensity(self, obj) -> dict:
        steps = obj.intensity_steps or {}
        return {k: steps.get(k) for k in ("kind_requested", "kinds_used", "hours", "steps")}


class HydrogenAssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Hydrogen installation assessments (RFNBO monthly and hourly, 45V); exporters see
    only their organisation's installations."""

    queryset = HydrogenAssessment.objects.none()
    serializer_class = HydrogenAssessmentSerializer

    def get_queryset(self):
        return hydrogen_assessment_list(user=self.request.user)
