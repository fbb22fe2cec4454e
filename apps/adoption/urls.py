"""API routes (``api_urlpatterns``, mounted under /api/v1/) of methodology versions and
their adoption (docs/adoption.md). The officials' pages join shipments, so they are the
site's (apps/web/methodology_versions.py)."""

from __future__ import annotations

from django.urls import path

from apps.adoption import api

api_urlpatterns: list = [
    path("methodology-versions", api.VersionListView.as_view(), name="methodology-version-list"),
    path(
        "methodology-versions/<str:label>",
        api.VersionDetailView.as_view(),
        name="methodology-version-detail",
    ),
    path(
        "methodology-versions/<str:label>/record",
        api.VersionRecordView.as_view(),
        name="methodology-version-record",
    ),
    path(
        "methodology-versions/<str:label>/signatures",
        api.VersionSignView.as_view(),
        name="methodology-version-sign",
    ),
    path(
        "methodology-versions/<str:label>/retire",
        api.VersionRetireView.as_view(),
        name="methodology-version-retire",
    ),
]
