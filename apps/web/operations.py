"""The operations page and its API (docs/operations.md, "Reads from a replica"): the read
replica's state and lag, for administrators (role "admin", or a superuser)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.common.replica import replica_status


def is_operations_admin(user) -> bool:
    return user.is_authenticated and (user.role == User.Role.ADMIN or user.is_superuser)


def _status() -> dict:
    """Checked now (not the cached state the router uses), with the pin window."""
    return {**replica_status(fresh=True).as_dict(), "pin_seconds": settings.CM_REPLICA_PIN_S}


@login_required
def operations_view(request: HttpRequest) -> HttpResponse:
    if not is_operations_admin(request.user):
        raise PermissionDenied("the operations page is for administrators")
    return render(request, "web/operations.html", {"replica": _status()})


class IsOperationsAdmin(BasePermission):
    message = "the operations API is for administrators"

    def has_permission(self, request, view) -> bool:
        return is_operations_admin(request.user)


class ReplicaStatusView(APIView):
    """``GET /api/v1/operations/replica/``: the read replica's state and lag."""

    permission_classes = [IsOperationsAdmin]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ReplicaStatus",
                {
                    "configured": serializers.BooleanField(),
                    "up": serializers.BooleanField(help_text="reads go to it"),
                    "reason": serializers.CharField(help_text="why it is down, else empty"),
                    "lag_bytes": serializers.IntegerField(allow_null=True),
                    "lag_seconds": serializers.FloatField(allow_null=True),
                    "replay_lsn": serializers.CharField(allow_null=True),
                    "primary_lsn": serializers.CharField(allow_null=True),
                    "replay_paused": serializers.BooleanField(allow_null=True),
                    "checked_at": serializers.FloatField(help_text="Unix time"),
                    "max_lag_seconds": serializers.IntegerField(),
                    "max_lag_bytes": serializers.IntegerField(),
                    "pin_seconds": serializers.IntegerField(),
                },
            ),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="not an administrator"),
        }
    )
    def get(self, request):
        return Response(_status())
