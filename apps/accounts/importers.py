"""The importer role reads only what is its own (docs/official-formats.md, "Importers").

Every other area scopes exporters and lets the other roles read all; an importer must not
inherit that. So an importer is held to an allowlist, deny by default: the web pages of
:data:`IMPORTER_PATHS` (its shipments, its Registry report, logging in and out) and the
shipments API, which scopes it to the customs lines naming its organisation
(``apps.shipments.selectors``). The middleware guards the pages; the DRF permission
(a default permission class) guards the API, whatever the authentication (session or
token).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from rest_framework.permissions import BasePermission

#: Page prefixes an importer may open.
IMPORTER_PATHS = ("/shipments/", "/importer/", "/login/", "/logout/", "/static/", "/favicon")
#: API prefixes an importer may call.
IMPORTER_API_PATHS = ("/api/v1/shipments/", "/api/v1/auth/token/")


def _is_importer(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == "importer"


class ImporterAllowlistMiddleware:
    """403 for an importer's request outside :data:`IMPORTER_PATHS` (the API is left to
    :class:`ImporterAllowlist`, which sees token-authenticated users too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path == "/" and _is_importer(getattr(request, "user", None)):
            return redirect("/importer/")
        if (
            _is_importer(getattr(request, "user", None))
            and not path.startswith("/api/")
            and not path.startswith(IMPORTER_PATHS)
        ):
            raise PermissionDenied("importers read their own shipments and report only")
        return self.get_response(request)


class ImporterAllowlist(BasePermission):
    """Deny an importer every API route but the shipments list (scoped to it)."""

    message = "importers read their own shipments only"

    def has_permission(self, request, view) -> bool:
        if _is_importer(request.user):
            return request.path.startswith(IMPORTER_API_PATHS)
        return True
