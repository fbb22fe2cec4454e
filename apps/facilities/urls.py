"""Pages (``urlpatterns``) and API routes (``api_urlpatterns``) of the registry's review
queue. The installation pages and ``/api/v1/installations/`` are mounted by apps.satellite
(installations are where satellite evidence is shown)."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.facilities import api, views

urlpatterns: list = [
    path("matches/", views.match_review_view, name="match-review"),
    path("matches/<int:pk>/decide/", views.match_decide_view, name="match-decide"),
]

router = SimpleRouter(trailing_slash=True)
router.register("match-suggestions", api.MatchSuggestionViewSet, basename="match-suggestion")
router.register(
    "installation-emissions", api.InstallationEmissionViewSet, basename="installation-emission"
)
api_urlpatterns: list = [path("", include(router.urls))]
