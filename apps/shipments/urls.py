"""Pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this app."""

from __future__ import annotations

from django.urls import include, path

from apps.common.routers import ApiRouter
from apps.shipments import views
from apps.shipments.api import ShipmentViewSet, TotalsView, TradeAggregateViewSet

urlpatterns: list = [
    path("shipments/", views.shipment_list_view, name="shipment-list"),
    path("shipments/<int:pk>/", views.shipment_detail_view, name="shipment-detail"),
]

router = ApiRouter()
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("trade-aggregates", TradeAggregateViewSet, basename="trade-aggregate")
api_urlpatterns: list = [
    path("totals/", TotalsView.as_view(), name="totals"),
    path("", include(router.urls)),
]
