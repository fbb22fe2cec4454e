"""PACT v3 exchange, included under /pact/ (paths as the specification names them)."""

from __future__ import annotations

from django.urls import path

from apps.pact import api

urlpatterns = [
    path("auth/token", api.TokenView.as_view(), name="pact-token"),
    path("3/footprints", api.FootprintListView.as_view(), name="pact-footprint-list"),
    path("3/footprints/<str:pf_id>", api.FootprintDetailView.as_view(), name="pact-footprint"),
    path("3/events", api.EventsView.as_view(), name="pact-events"),
]
