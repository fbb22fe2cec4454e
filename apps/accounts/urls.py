"""API routes (``api_urlpatterns``, mounted under /api/v1/) of this app: tokens."""

from __future__ import annotations

from django.urls import include, path

from apps.accounts.api import ApiTokenViewSet, TokenView
from apps.common.routers import ApiRouter

router = ApiRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token-record")
api_urlpatterns: list = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
