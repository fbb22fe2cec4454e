"""Web pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this area."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.satellite import api

urlpatterns: list = []

# SimpleRouter: no second API root view beside the site's DefaultRouter.
router = SimpleRouter(trailing_slash=True)
router.register("observations", api.ObservationViewSet, basename="observation")
router.register("activity-indices", api.ActivityIndexViewSet, basename="activity-index")
router.register(
    "reconciliation-flags", api.ReconciliationFlagViewSet, basename="reconciliation-flag"
)
api_urlpatterns: list = [
    # No trailing slash, like /estimates/{id}/trace (docs/interfaces.md).
    path(
        "reconciliation-flags/<int:pk>/trace",
        api.ReconciliationFlagViewSet.as_view({"get": "trace"}),
        name="reconciliation-flag-trace-exact",
    ),
    path("", include(router.urls)),
]
