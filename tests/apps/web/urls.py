"""The site's URLs plus the web app's own pages, for tests, until config/urls.py mounts
``apps.web.urls`` itself (then the include below is a harmless duplicate)."""

from __future__ import annotations

from django.urls import include, path

from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("", include("apps.web.urls"))]
