"""Pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this app: API tokens."""

from __future__ import annotations

from django.urls import include, path

from apps.accounts import views
from apps.accounts.api import ApiTokenViewSet, TokenView
from apps.common.routers import ApiRouter

urlpatterns: list = [
    path("account/tokens/", views.token_list_view, name="token-list"),
    path("account/tokens/revoke/", views.token_revoke_view, name="token-revoke"),
]

router = ApiRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token-record")
api_urlpatterns: list = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
