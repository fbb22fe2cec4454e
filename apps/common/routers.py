"""The API router of the apps whose collections the API index lists (docs/contributing.md,
"URLs"): DRF's ``DefaultRouter`` (trailing slashes, ``.json``-style format suffixes)
without a root view of its own; config/urls.py serves one index for every app."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


class ApiRouter(DefaultRouter):
    include_root_view = False

    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
