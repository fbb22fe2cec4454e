"""Web pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this area.

The installation pages (apps.facilities.views) are mounted here: the site's URL
configuration includes the evidence areas only, and installations are where satellite
evidence is shown."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.facilities import api as facility_api
from apps.facilities import views as facility_views
from apps.satellite import api

urlpatterns: list = [
    path("installations/", facility_views.installation_list_view, name="installation-list"),
    path(
        "installations/<int:pk>/",
        facility_views.installation_detail_view,
        name="installation-detail",
    ),
]

# SimpleRouter: no second API root view beside the site's DefaultRouter.
router = SimpleRouter(trailing_slash=True)
# The registry's API (apps.facilities.api), mounted here with the installation pages.
router.register("installations", facility_api.InstallationViewSet, basename="installation")
router.register("observations", api.ObservationViewSet, basename="observation")
router.register("activity-indices", api.ActivityIndexViewSet, basename="activity-index")
router.register(
    "reconciliation-flags", api.ReconciliationFlagViewSet, basename="reconciliation-flag"
)
api_urlpatterns: list = [
    # No trailing slash, like /estimates/{id}/trace (DESIGN §7).
    path(
        "reconciliation-flags/<int:pk>/trace",
        api.ReconciliationFlagViewSet.as_view({"get": "trace"}),
        name="reconciliation-flag-trace-exact",
    ),
    path("", include(router.urls)),
]
