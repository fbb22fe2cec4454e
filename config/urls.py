"""Site URLs: web pages, the REST API under /api/v1/, its schema and docs."""

from __future__ import annotations

from importlib import import_module

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from apps.accounts.api import ApiTokenViewSet, TokenView
from apps.catalogue.api import DefaultValueViewSet
from apps.estimates.api import EstimateViewSet
from apps.evidence import views as evidence_views
from apps.shipments import views as shipment_views
from apps.shipments.api import RiskView, ShipmentViewSet, TotalsView, TradeAggregateViewSet
from apps.web import views as web_views

router = DefaultRouter(trailing_slash=True)
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("estimates", EstimateViewSet, basename="estimate")
router.register("trade-aggregates", TradeAggregateViewSet, basename="trade-aggregate")
router.register("default-values", DefaultValueViewSet, basename="default-value")
router.register("auth/tokens", ApiTokenViewSet, basename="api-token-record")

# DESIGN §7 names /estimates/{id}/trace and /verify, without a trailing slash.
api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("audit/", include("apps.audit.urls")),
    path("totals/", TotalsView.as_view(), name="totals"),
    path("risk/", RiskView.as_view(), name="risk"),
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
# Each evidence area mounts its own pages and API routes.
AREAS = ("grid", "satellite", "disclosures", "facilities")
area_urls = [import_module(f"apps.{area}.urls") for area in AREAS]
api_v1 += [path("", include(module.api_urlpatterns)) for module in area_urls]

urlpatterns = [
    path("", web_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("shipments/", shipment_views.shipment_list_view, name="shipment-list"),
    path("shipments/<int:pk>/", shipment_views.shipment_detail_view, name="shipment-detail"),
    path("risk/", shipment_views.risk_view, name="risk"),
    path("ingests/", evidence_views.ingest_run_list_view, name="ingest-run-list"),
    path("ingests/<int:pk>/", evidence_views.ingest_run_detail_view, name="ingest-run-detail"),
    path(
        "ingests/<int:pk>/errors.csv",
        evidence_views.ingest_run_errors_csv,
        name="ingest-run-errors",
    ),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its initialiser as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("pact/", include("apps.pact.urls")),
    path("", include("apps.web.urls")),
    *[path("", include(module.urlpatterns)) for module in area_urls],
]

# A path under /api/ or /pact/ that no route matches is answered in JSON (apps/web/errors.py).
handler404 = "apps.web.errors.not_found"
