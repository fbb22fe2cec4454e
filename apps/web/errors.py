"""Error pages that speak the client's language: JSON under the API, HTML elsewhere.

``handler404`` of the site's URL configuration. A path under ``/api/`` or ``/pact/`` that
no route matches (``/api/v1/estimates/1.5/``, ``/api/v1/audit/entries/true``) is answered
as the API answers a missing object, not with the web site's HTML page: ``{"detail": …}``,
or the PACT specification's ``{"code": "NotFound", "message": …}`` under ``/pact/``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
PACT_PREFIX = "/pact/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(PACT_PREFIX):
        return JsonResponse({"code": "NotFound", "message": "Not found."}, status=404)
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
