"""Pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this app."""

from __future__ import annotations

from django.urls import include, path

from apps.common.routers import ApiRouter
from apps.shipments import (
    export_views,
    importer_views,
    ranking_views,
    reconciliation_views,
    views,
)
from apps.shipments.api import RiskView, ShipmentViewSet, TotalsView, TradeAggregateViewSet

urlpatterns: list = [
    path("shipments/", views.shipment_list_view, name="shipment-list"),
    path("shipments/<int:pk>/", views.shipment_detail_view, name="shipment-detail"),
    path(
        "shipments/exports/",
        export_views.shipment_export_create_view,
        name="shipment-export-create",
    ),
    path(
        "shipments/exports/<int:pk>/",
        export_views.shipment_export_detail_view,
        name="shipment-export-detail",
    ),
    path(
        "shipments/exports/<int:pk>/download",
        export_views.shipment_export_download_view,
        name="shipment-export-download",
    ),
    path("risk/", views.risk_view, name="risk"),
    path("rankings/", ranking_views.ranking_view, name="rankings"),
    path("compare/", ranking_views.compare_view, name="compare"),
    path("importers/", importer_views.importer_list_view, name="importer-list"),
    path("importer/", importer_views.importer_home_view, name="importer-home"),
    path("importer/report.xml", importer_views.importer_report_view, name="importer-report"),
    path(
        "reconciliation/",
        reconciliation_views.reconciliation_list_view,
        name="reconciliation-list",
    ),
    path(
        "reconciliation/<str:declarant>/<int:year>/<str:period>/",
        reconciliation_views.reconciliation_detail_view,
        name="reconciliation-detail",
    ),
]

router = ApiRouter()
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("trade-aggregates", TradeAggregateViewSet, basename="trade-aggregate")
api_urlpatterns: list = [
    path("totals/", TotalsView.as_view(), name="totals"),
    path("risk/", RiskView.as_view(), name="risk"),
    path(
        "reconciliations/",
        reconciliation_views.ReconciliationListView.as_view(),
        name="reconciliation-list-api",
    ),
    path(
        "reconciliations/<str:declarant>/<int:year>/<str:period>/",
        reconciliation_views.ReconciliationDetailView.as_view(),
        name="reconciliation-detail-api",
    ),
    path("", include(router.urls)),
]
