"""API of the registry: ``/api/v1/installations/`` (docs/interfaces.md: ``identifier``, ``name``,
``country``, ``latitude``, ``longitude``, ``routes``, ``owner``, ``parent``; filters
``country``, ``route``, ``owner``) and the match review queue ``/api/v1/match-suggestions/``
(officials confirm or reject with ``POST …/{id}/decide`` ``{"decision", "note"}``)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.facilities.filters import InstallationFilter
from apps.facilities.models import Installation, InstallationEmission, MatchSuggestion
from apps.facilities.selectors import (
    installation_attribution,
    installation_emission_list,
    installation_emissions_compared,
    installation_list,
    match_deciders,
    match_suggestion_list,
)
from apps.facilities.services import MatchDecisionError, match_decide


class InstallationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True, default=None
    )
    owner = serializers.CharField(source="owner_name", read_only=True)
    parent = serializers.CharField(source="parent_name", read_only=True)
    # Empty where the registry gives no page, so not a "uri" in the schema.
    wiki_url = serializers.CharField(read_only=True, help_text="GEM wiki page, or empty")
    attribution = serializers.SerializerMethodField()

    class Meta:
        model = Installation
        fields = [
            "id",
            "identifier",
            "name",
            "name_local",
            "other_names",
            "organisation",
            "owner",
            "owner_name",
            "owner_local",
            "owners",
            "parent",
            "parents",
            "country",
            "subnational",
            "municipality",
            "latitude",
            "longitude",
            "coordinate_accuracy",
            "status",
            "start_year",
            "equipment",
            "routes",
            "capacities",
            "production",
            "plant_type",
            "production_type",
            "sfi_id",
            "wiki_url",
            "source",
            "source_release",
            "attribution",
            "footprint_geojson",
            "footprint_source",
            "capacity_mw",
            "primary_fuel",
            "reference_production_t",
            "reference_production_sigma_t",
            "grid_zone",
        ]
        read_only_fields = fields

    def get_attribution(self, obj: Installation) -> str | None:
        lines = installation_attribution(releases={(obj.source, obj.source_release)})
        return f"{lines[0]}, CC BY 4.0" if lines else None


class ComparedEmissionSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    reported_t = serializers.FloatField(
        allow_null=True, help_text="EU ETS verified emissions of the site [tCO2e]"
    )
    eutl_ids = serializers.ListField(child=serializers.CharField())
    reported_source = serializers.CharField()
    modelled_t = serializers.FloatField(allow_null=True, help_text="modelled direct [tCO2]")
    modelled_p05_t = serializers.FloatField(allow_null=True)
    modelled_p95_t = serializers.FloatField(allow_null=True)
    inside_interval = serializers.BooleanField(allow_null=True)


class InstallationDetailSerializer(InstallationSerializer):
    emissions = serializers.SerializerMethodField(
        help_text="by year, newest first: reported emissions where known beside the "
        "modelled direct emissions and their 5–95 % interval (docs/modelled.md)"
    )

    class Meta(InstallationSerializer.Meta):
        fields = [*InstallationSerializer.Meta.fields, "emissions"]
        read_only_fields = fields

    @extend_schema_field(ComparedEmissionSerializer(many=True))
    def get_emissions(self, obj: Installation) -> list[dict]:
        return installation_emissions_compared(obj)


class InstallationViewSet(viewsets.ReadOnlyModelViewSet):
    """Installations of the registry with their footprint (GeoJSON, EPSG:4326), owners and
    parents with stakes, capacities per unit and status [t/a], production by type and year
    [t/a]; exporters see their own and those linked to them."""

    queryset = Installation.objects.none()
    serializer_class = InstallationSerializer
    filterset_class = InstallationFilter

    def get_queryset(self):
        return installation_list(user=self.request.user)

    def get_serializer_class(self):
        return (
            InstallationDetailSerializer
            if self.action == "retrieve"
            else super().get_serializer_class()
        )


class MatchSuggestionSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    other_organisation_name = serializers.CharField(
        source="other_organisation.name", read_only=True, allow_null=True, default=None
    )
    installation_identifier = serializers.CharField(
        source="installation.identifier", read_only=True, allow_null=True, default=None
    )
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = MatchSuggestion
        fields = [
            "id",
            "kind",
            "organisation",
            "organisation_name",
            "other_organisation",
            "other_organisation_name",
            "installation",
            "installation_identifier",
            "score",
            "evidence",
            "status",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class MatchSuggestionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MatchSuggestion.Kind.choices)
    status = django_filters.ChoiceFilter(choices=MatchSuggestion.Status.choices)
    organisation = django_filters.NumberFilter(field_name="organisation_id")
    installation = django_filters.CharFilter(field_name="installation__identifier")
    min_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", min_value=0, max_value=1, help_text="0–1"
    )

    class Meta:
        model = MatchSuggestion
        fields = ["kind", "status", "organisation", "installation", "min_score"]


class MatchSuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    """Entity-resolution suggestions (same organisation; exporter ↔ installation), each with
    its score and evidence; officials, auditors and admins read them, officials decide."""

    queryset = MatchSuggestion.objects.none()
    serializer_class = MatchSuggestionSerializer
    filterset_class = MatchSuggestionFilter

    def get_queryset(self):
        if not self.request.user.is_authenticated:
            return MatchSuggestion.objects.none()
        if self.request.user.role == "exporter":
            raise PermissionDenied("the review queue is for officials, auditors and admins")
        return match_suggestion_list(user=self.request.user)

    @extend_schema(
        request=inline_serializer(
            "MatchDecision",
            {
                "decision": serializers.ChoiceField(choices=MatchSuggestion.Status.values),
                "note": serializers.CharField(required=False, allow_blank=True),
            },
        ),
        responses=MatchSuggestionSerializer,
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Confirm (``confirmed``), reject (``rejected``) or reopen (``suggested``) one
        suggestion; audited, and reversible by another decision."""
        if not match_deciders(request.user):
            raise PermissionDenied("only officials and admins decide on suggestions")
        try:
            suggestion = self.get_queryset().get(pk=pk)
        except (ObjectDoesNotExist, ValueError) as exc:
            raise NotFound("no such suggestion") from exc
        decision = str(request.data.get("decision", ""))
        try:
            suggestion = match_decide(
                suggestion_id=suggestion.pk,
                decision=decision,
                actor=request.user,
                note=str(request.data.get("note", "")),
            )
        except MatchDecisionError as exc:
            raise ValidationError({"decision": str(exc)}) from exc
        return Response(MatchSuggestionSerializer(suggestion).data)


class InstallationEmissionSerializer(serializers.ModelSerializer):
    installation = serializers.CharField(source="installation.identifier", read_only=True)
    estimates = serializers.ListField(
        source="estimate_ids",
        child=serializers.IntegerField(),
        read_only=True,
        help_text="ids of the estimates behind the row (GET /api/v1/estimates/{id}/trace)",
    )

    class Meta:
        model = InstallationEmission
        fields = [
            "installation",
            "year",
            "tier",
            "production_t",
            "production_source",
            "direct_emissions_t",
            "direct_emissions_p05_t",
            "direct_emissions_p95_t",
            "indirect_emissions_t",
            "estimates",
        ]
        read_only_fields = fields


#: The tiers of the ladder (docs/design.md), as the estimates area names them.
TIERS = [(t, t) for t in ("verified", "disclosed", "modelled", "default")]


class InstallationEmissionFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="year", min_value=1990, max_value=2100)
    country = django_filters.CharFilter(
        field_name="installation__country", lookup_expr="iexact", label="Country (ISO alpha-2)"
    )
    installation = django_filters.CharFilter(
        field_name="installation__identifier", label="Installation identifier"
    )
    tier = django_filters.ChoiceFilter(choices=TIERS)

    class Meta:
        model = InstallationEmission
        fields = ["year", "country", "installation", "tier"]


class InstallationEmissionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """``/api/v1/installation-emissions/?year=YYYY``: one row per installation, year and
    tier — production [t] and its source, direct emissions [tCO2] with the 5–95 % interval,
    indirect emissions [tCO2e] and the estimates behind it (docs/modelled.md)."""

    queryset = InstallationEmission.objects.none()
    serializer_class = InstallationEmissionSerializer
    filterset_class = InstallationEmissionFilter

    def get_queryset(self):
        return installation_emission_list(user=self.request.user)
