"""Routes (``urlpatterns``, mounted at the site root) of the PACT v3 exchange: /pact/…, the
paths as the specification names them."""

from __future__ import annotations

from django.urls import path

from apps.pact import api

urlpatterns = [
    path("pact/auth/token", api.TokenView.as_view(), name="pact-token"),
    path("pact/3/footprints", api.FootprintListView.as_view(), name="pact-footprint-list"),
    path("pact/3/footprints/<str:pf_id>", api.FootprintDetailView.as_view(), name="pact-footprint"),
    path("pact/3/events", api.EventsView.as_view(), name="pact-events"),
]
