"""Web pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this area."""

from __future__ import annotations

urlpatterns: list = []
api_urlpatterns: list = []
