"""API routes (``api_urlpatterns``, mounted under /api/v1/) of this app. The estimate's page
is the site's (apps/web/urls.py): it joins the estimate with its evidence and history."""

from __future__ import annotations

from django.urls import include, path

from apps.common.routers import ApiRouter
from apps.estimates.api import EstimateViewSet

router = ApiRouter()
router.register("estimates", EstimateViewSet, basename="estimate")

# /estimates/{id}/trace and /verify without a trailing slash (docs/interfaces.md).
api_urlpatterns: list = [
    path(
        "estimates/<int:pk>/trace",
        EstimateViewSet.as_view({"get": "trace"}),
        name="estimate-trace-exact",
    ),
    path(
        "estimates/<int:pk>/verify",
        EstimateViewSet.as_view({"post": "verify"}),
        name="estimate-verify-exact",
    ),
    path(
        "estimates/<int:pk>/trace.csv",
        EstimateViewSet.as_view({"get": "trace_csv"}),
        name="estimate-trace-csv",
    ),
    path(
        "estimates/<int:pk>/trace.xlsx",
        EstimateViewSet.as_view({"get": "trace_xlsx"}),
        name="estimate-trace-xlsx",
    ),
    path(
        "estimates/traces.zip",
        EstimateViewSet.as_view({"get": "traces_zip"}),
        name="estimate-traces-zip",
    ),
    path("", include(router.urls)),
]
