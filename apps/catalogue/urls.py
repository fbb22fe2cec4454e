"""API routes (``api_urlpatterns``, mounted under /api/v1/) of this app: the default values."""

from __future__ import annotations

from django.urls import include, path

from apps.catalogue.api import DefaultValueViewSet
from apps.common.routers import ApiRouter

router = ApiRouter()
router.register("default-values", DefaultValueViewSet, basename="default-value")
api_urlpatterns: list = [path("", include(router.urls))]
