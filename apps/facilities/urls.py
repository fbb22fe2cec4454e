"""Pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of the installation registry: the installation pages and
``/api/v1/installations/``, and the review queue of entity resolution."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.facilities import api, views

urlpatterns: list = [
    path("installations/", views.installation_list_view, name="installation-list"),
    path("installations/<int:pk>/", views.installation_detail_view, name="installation-detail"),
    path("matches/", views.match_review_view, name="match-review"),
    path("matches/<int:pk>/decide/", views.match_decide_view, name="match-decide"),
]

# SimpleRouter: no second API root view beside the site's.
router = SimpleRouter(trailing_slash=True)
router.register("installations", api.InstallationViewSet, basename="installation")
router.register("match-suggestions", api.MatchSuggestionViewSet, basename="match-suggestion")
router.register(
    "installation-emissions", api.InstallationEmissionViewSet, basename="installation-emission"
)
api_urlpatterns: list = [path("", include(router.urls))]
