"""Site-wide request guards."""

from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.urls import Resolver404, resolve

#: What a view answers when it says nothing narrower (the site's pages: GET and POST forms).
DEFAULT_ALLOWED = ("GET", "HEAD", "OPTIONS", "POST")


def _allowed_methods(path: str) -> list[str]:
    """The methods the view at ``path`` answers, for the ``Allow`` header of a 405."""
    try:
        func = resolve(path).func
    except Resolver404:
        return list(DEFAULT_ALLOWED)
    view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
    actions = getattr(func, "actions", None)  # a DRF viewset bound to {method: action}
    if actions:
        methods = [m.upper() for m in actions]
        return sorted({*methods, "OPTIONS", *(["HEAD"] if "GET" in methods else [])})
    if view_class is not None:
        names = getattr(view_class, "http_method_names", [])
        return sorted(m.upper() for m in names if m != "trace" and hasattr(view_class, m))
    return list(DEFAULT_ALLOWED)


class RefuseTraceMiddleware:
    """HTTP ``TRACE`` is answered 405 everywhere (RFC 9110 §9.3.8: it echoes the request,
    credentials included, back to the caller, and nothing here serves it). Before it, DRF
    dispatched ``TRACE`` to a viewset's own ``trace`` action (``/api/v1/estimates/{id}/trace``)
    and answered 200 with data. The 405 names the resource's methods in ``Allow`` (RFC 9110
    §15.5.6)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "TRACE":
            return HttpResponseNotAllowed(_allowed_methods(request.path_info))
        return self.get_response(request)
