"""Web pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this area."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.grid import api, views

urlpatterns = [
    path("grid/", views.grid_zone_list_view, name="grid-zone-list"),
    path("grid/zones/<str:key>/", views.grid_zone_detail_view, name="grid-zone-detail"),
    path("grid/hydrogen/<int:pk>/", views.hydrogen_report_view, name="hydrogen-report"),
]

router = SimpleRouter(trailing_slash=True)
router.register("grid/zones", api.GridZoneViewSet, basename="grid-zone")
router.register("grid/factors", api.EmissionFactorViewSet, basename="grid-factor")
router.register("grid/averages", api.GridAverageViewSet, basename="grid-average")
router.register("grid/hydrogen", api.HydrogenAssessmentViewSet, basename="hydrogen-assessment")

api_urlpatterns = [
    path(
        "grid/zones/<str:key>/intensity/",
        api.IntensitySeriesView.as_view(),
        name="grid-zone-intensity",
    ),
    path("grid/lookup/", api.GridFactorLookupView.as_view(), name="grid-factor-lookup"),
    *router.urls,
]
