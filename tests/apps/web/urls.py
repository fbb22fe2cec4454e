"""The site's URLs (the web app's pages are mounted by config/urls.py); kept so the web
tests can name their URLconf explicitly."""

from __future__ import annotations

from config.urls import urlpatterns  # noqa: F401
