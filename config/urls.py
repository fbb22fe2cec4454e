"""Site URLs: every app's ``urls.py`` listed once (docs/contributing.md, "URLs"). An app's
``urlpatterns`` are its pages, mounted at the site root; its ``api_urlpatterns`` are its
API routes, mounted under /api/v1/ (namespace ``api``). Beside them: the API's index,
schema and docs, and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView
from rest_framework.urlpatterns import format_suffix_patterns

from apps.accounts import urls as accounts
from apps.adoption import urls as adoption
from apps.audit import urls as audit
from apps.catalogue import urls as catalogue
from apps.disclosures import urls as disclosures
from apps.estimates import urls as estimates
from apps.evidence import urls as evidence
from apps.facilities import urls as facilities
from apps.grid import urls as grid
from apps.pact import urls as pact
from apps.satellite import urls as satellite
from apps.shipments import urls as shipments
from apps.web import urls as web

APPS = (
    accounts,
    audit,
    adoption,
    catalogue,
    evidence,
    facilities,
    grid,
    satellite,
    estimates,
    shipments,
    pact,
    disclosures,
    web,
)

# The API's browsable index: the collections of the apps whose routers list theirs
# (apps/common/routers.py), with DRF's format suffixes.
api_root = APIRootView.as_view(
    api_root_dict={
        prefix: f"{basename}-list"
        for module in APPS
        if getattr(getattr(module, "router", None), "include_format_suffixes", False)
        for prefix, _viewset, basename in module.router.registry
    }
)
api_v1 = format_suffix_patterns([path("", api_root, name="api-root")])
api_v1 += [
    path("", include(module.api_urlpatterns))
    for module in APPS
    if hasattr(module, "api_urlpatterns")
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its initialiser as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # The language switcher's POST /i18n/setlang/ (Django's set_language; docs/languages.md).
    path("i18n/", include("django.conf.urls.i18n")),
    *[path("", include(module.urlpatterns)) for module in APPS if hasattr(module, "urlpatterns")],
]

# A path under /api/ or /pact/ that no route matches is answered in JSON (apps/web/errors.py).
handler404 = "apps.web.errors.not_found"
