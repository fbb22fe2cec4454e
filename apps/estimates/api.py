"""``/api/v1/estimates/``: the estimate, its canonical trace, and a recompute check."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from apps.estimates.models import Estimate
from apps.estimates.selectors import estimate_list
from apps.estimates.services import estimate_verify


class EstimateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Estimate
        fields = [
            "id",
            "subject_key",
            "tier",
            "methodology",
            "methodology_version",
            "engine_version",
            "cn_code",
            "origin",
            "installation",
            "period_start",
            "period_end",
            "see_direct_t_per_t",
            "see_indirect_t_per_t",
            "see_total_t_per_t",
            "interval_low_t_per_t",
            "interval_high_t_per_t",
            "direct_only",
            "reason",
            "trace_sha256",
            "created_at",
        ]
        read_only_fields = fields


class EstimateViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Estimate.objects.none()  # the schema's model; requests use get_queryset
    serializer_class = EstimateSerializer

    def get_queryset(self):
        return estimate_list(user=self.request.user).order_by("-id")

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
        description="The canonical JSON (RFC 8785) bytes of the trace; "
        "header X-Trace-SHA256 carries their SHA-256.",
    )
    def trace(self, request, pk=None):
        estimate = self.get_object()
        response = HttpResponse(estimate.trace.encode(), content_type="application/json")
        response["X-Trace-SHA256"] = estimate.trace_sha256
        return response

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "VerifyResult",
            {
                "match": serializers.BooleanField(),
                "stored_sha256": serializers.CharField(),
                "recomputed_sha256": serializers.CharField(),
            },
        ),
    )
    def verify(self, request, pk=None):
        return Response(estimate_verify(estimate=self.get_object()))
