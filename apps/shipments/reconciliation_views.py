"""Officials' reconciliation pages and API (docs/official-formats.md, "Reconciliation"):
an importer's declared Registry report against the customs lines and the evidence."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.shipments.reconciliation import (
    ReconciliationNotFound,
    reconcile,
    reconciliation_periods,
)

#: Who may read reconciliations: they compare one importer's declaration with every
#: exporter's evidence, so exporters may not.
READERS = (User.Role.OFFICIAL, User.Role.AUDITOR, User.Role.ADMIN)


def _allowed(user) -> bool:
    return user.role in READERS


@login_required
def reconciliation_list_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request.user):
        raise PermissionDenied("reconciliations are for officials, auditors and admins")
    return render(
        request, "shipments/reconciliation_list.html", {"reports": reconciliation_periods()}
    )


@login_required
def reconciliation_detail_view(
    request: HttpRequest, declarant: str, year: int, period: str
) -> HttpResponse:
    if not _allowed(request.user):
        raise PermissionDenied("reconciliations are for officials, auditors and admins")
    try:
        result = reconcile(declarant_id=declarant, year=year, period=period)
    except ReconciliationNotFound as exc:
        raise Http404(str(exc)) from None
    return render(request, "shipments/reconciliation_detail.html", {"r": result})


class ReconciliationListView(APIView):
    """``GET /api/v1/reconciliations/``: the declared reports that can be reconciled."""

    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="api_v1_reconciliations_list")
    def get(self, request):
        if not _allowed(request.user):
            raise ApiPermissionDenied("reconciliations are for officials, auditors and admins")
        return Response({"results": reconciliation_periods()})


class ReconciliationDetailView(APIView):
    """``GET /api/v1/reconciliations/<declarant>/<year>/<period>/``: each difference of the
    declared report with the customs lines and the evidence, with size and trace."""

    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="api_v1_reconciliations_retrieve")
    def get(self, request, declarant: str, year: int, period: str):
        if not _allowed(request.user):
            raise ApiPermissionDenied("reconciliations are for officials, auditors and admins")
        try:
            return Response(reconcile(declarant_id=declarant, year=year, period=period))
        except ReconciliationNotFound as exc:
            raise NotFound(str(exc)) from None
