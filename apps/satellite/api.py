"""Read API of installations and satellite evidence under /api/v1/: installations (scoped),
observations, activity indices, reconciliation flags (and a flag's trace)."""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from apps.common.filters import UtcIsoDateTimeFilter
from apps.facilities.filters import InstallationFilter
from apps.facilities.models import Installation
from apps.facilities.selectors import installation_list
from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag
from apps.satellite.selectors import activity_index_list, flag_list, observation_list


class InstallationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Installation
        fields = [
            "id",
            "identifier",
            "name",
            "organisation",
            "owner_name",
            "country",
            "latitude",
            "longitude",
            "footprint_geojson",
            "footprint_source",
            "capacity_mw",
            "primary_fuel",
            "reference_production_t",
            "reference_production_sigma_t",
            "routes",
            "grid_zone",
        ]
        read_only_fields = fields


class InstallationViewSet(viewsets.ReadOnlyModelViewSet):
    """Installations with their footprint (GeoJSON, EPSG:4326); exporters see their own."""

    queryset = Installation.objects.none()
    serializer_class = InstallationSerializer
    filterset_class = InstallationFilter

    def get_queryset(self):
        return installation_list(user=self.request.user)


class ObservationFilter(django_filters.FilterSet):
    installation = django_filters.NumberFilter(field_name="installation_id")
    identifier = django_filters.CharFilter(field_name="installation__identifier")
    scene = django_filters.NumberFilter(field_name="scene_id")
    variable = django_filters.CharFilter(field_name="variable")
    time_from = UtcIsoDateTimeFilter(field_name="time", lookup_expr="gte")
    time_to = UtcIsoDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = Observation
        fields = ["installation", "identifier", "scene", "variable", "time_from", "time_to"]


class ObservationSerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(source="installation.identifier", read_only=True)
    file_sha256 = serializers.CharField(source="scene.evidence.sha256", read_only=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "installation",
            "identifier",
            "scene",
            "file_sha256",
            "band",
            "time",
            "variable",
            "units",
            "count",
            "valid_fraction",
            "in_raster_fraction",
            "footprint_px",
            "sum",
            "mean",
            "max",
            "p95",
            "pixel_rule",
            "pixel_rule_version",
        ]
        read_only_fields = fields


class ObservationViewSet(viewsets.ReadOnlyModelViewSet):
    """Zonal statistics per installation, scene and band, with the pixel rule used
    (``coverage_fraction``: exactextract's coverage-weighted rule)."""

    queryset = Observation.objects.none()
    serializer_class = ObservationSerializer
    filterset_class = ObservationFilter

    def get_queryset(self):
        return observation_list(user=self.request.user).select_related("scene__evidence")


class ActivityIndexFilter(django_filters.FilterSet):
    installation = django_filters.NumberFilter(field_name="installation_id")
    identifier = django_filters.CharFilter(field_name="installation__identifier")
    variable = django_filters.CharFilter(field_name="variable")
    period = django_filters.CharFilter(
        field_name="period", lookup_expr="startswith", help_text="YYYY or YYYY-MM (prefix)"
    )
    flagged = django_filters.BooleanFilter(field_name="flagged")

    class Meta:
        model = ActivityIndex
        fields = ["installation", "identifier", "variable", "period", "flagged"]


class ActivityIndexSerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(source="installation.identifier", read_only=True)

    class Meta:
        model = ActivityIndex
        fields = [
            "id",
            "installation",
            "identifier",
            "variable",
            "period",
            "period_start",
            "period_end",
            "statistic",
            "n_period",
            "n_baseline",
            "baseline_p10",
            "baseline_median",
            "period_mean",
            "activity_index",
            "activity_index_sigma",
            "reference_production_t",
            "reference_production_sigma_t",
            "expected_production_t",
            "expected_production_sigma_t",
            "disclosed_production_t",
            "disclosed_sigma_t",
            "z_score",
            "flagged",
            "methodology",
            "methodology_version",
            "trace_sha256",
        ]
        read_only_fields = fields


class ActivityIndexViewSet(viewsets.ReadOnlyModelViewSet):
    """``satellite.activity`` indices per installation and period ("YYYY" or "YYYY-MM")."""

    queryset = ActivityIndex.objects.none()
    serializer_class = ActivityIndexSerializer
    filterset_class = ActivityIndexFilter

    def get_queryset(self):
        return activity_index_list(user=self.request.user)


class ReconciliationFlagFilter(django_filters.FilterSet):
    installation = django_filters.NumberFilter(field_name="installation_id")
    identifier = django_filters.CharFilter(field_name="installation__identifier")
    status = django_filters.ChoiceFilter(choices=ReconciliationFlag.Status.choices)
    period = django_filters.CharFilter(
        field_name="period", lookup_expr="startswith", help_text="YYYY or YYYY-MM (prefix)"
    )

    class Meta:
        model = ReconciliationFlag
        fields = ["installation", "identifier", "status", "period"]


class ReconciliationFlagSerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(source="installation.identifier", read_only=True)

    class Meta:
        model = ReconciliationFlag
        fields = [
            "id",
            "installation",
            "identifier",
            "period",
            "variable",
            "disclosure_ref",
            "quantity",
            "disclosed_value",
            "disclosed_sigma",
            "satellite_value",
            "satellite_sigma",
            "unit",
            "combined_uncertainty",
            "z_score",
            "k",
            "model",
            "model_version",
            "parameters",
            "validation",
            "trace_sha256",
            "reason",
            "status",
            "created_at",
            "closed_at",
            "closed_reason",
        ]
        read_only_fields = fields


class ReconciliationFlagViewSet(viewsets.ReadOnlyModelViewSet):
    """Disclosed values that disagree with the satellite-implied value beyond the combined
    uncertainty: both numbers, σ, z, the model with its parameters and validation data."""

    queryset = ReconciliationFlag.objects.none()
    serializer_class = ReconciliationFlagSerializer
    filterset_class = ReconciliationFlagFilter

    def get_queryset(self):
        return flag_list(user=self.request.user)

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
        description="The canonical JSON (RFC 8785) bytes of the flag's satellite.activity "
        "trace; header X-Trace-SHA256 carries their SHA-256.",
    )
    def trace(self, request, pk=None):
        """The flag's ``satellite.activity`` trace: canonical JSON (RFC 8785) bytes, header
        ``X-Trace-SHA256``; ``python -m methodologies run`` on its ``case`` recomputes it."""
        flag = self.get_object()
        response = HttpResponse(flag.trace.encode(), content_type="application/json")
        response["X-Trace-SHA256"] = flag.trace_sha256
        return response
