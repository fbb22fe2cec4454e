"""The PACT v3 exchange under ``/pact/``: ``auth/token``, ``3/footprints``, ``3/footprints/{id}``.

Follows the PACT Technical Specifications for PCF Data Exchange v3.0.0 (WBCSD,
``spec/v3/openapi.yaml`` of https://github.com/wbcsd/data-exchange-protocol) and the
mandatory cases of its conformance tests (``docs/v3-test-cases-expected-results.md`` of
https://github.com/wbcsd/pact-conformance-service):

- ``POST /pact/auth/token``: OAuth2 client credentials (RFC 6749 §4.4) with HTTP Basic
  client authentication (§2.3.1), form ``grant_type=client_credentials`` →
  ``{"access_token", "token_type": "Bearer", "expires_in"}``; errors as RFC 6749 §5.2
  (``{"error": "invalid_client" | "invalid_request" | "unsupported_grant_type", …}``).
- ``GET /pact/3/footprints`` and ``GET /pact/3/footprints/{id}`` with
  ``Authorization: Bearer <token>`` → ``{"data": …}``; errors are the spec's ``Error``
  object ``{"code", "message"}``: an unknown, malformed or missing token 400 ``BadRequest``
  (conformance cases 6 and 7), an expired one 401 ``TokenExpired``, an unknown id 404
  ``NotFound``, a bad parameter 400 ``BadRequest``, anything else 500 ``InternalError``.
- Pagination: ``limit`` (default 100, at most 1000); when more footprints follow, an RFC 8288
  ``Link: <absolute URL>; rel="next"`` on the request's own host, keyed on the last id
  returned (``x-cm-after``, the spec's ``x-<identifier>-`` prefix), valid indefinitely.
- ``CM_PACT_REQUIRE_HTTPS=1`` refuses plain-HTTP requests (conformance cases 9–11): set it
  in production behind TLS; the embedded demo serves plain HTTP, so it is off by default.

Every data recipient reads every footprint; they are the platform's published estimates.
"""

from __future__ import annotations

import base64
import binascii
import logging
from urllib.parse import unquote, urlencode

from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.pact.mapping import cn_descriptions, estimate_pk_of, footprint_id, product_footprint
from apps.pact.mapping import versions_of as estimate_versions
from apps.pact.models import PactClient
from apps.pact.selectors import (
    FootprintFilters,
    TokenExpired,
    TokenInvalid,
    footprint_estimates,
    pact_token_client,
)
from apps.pact.services import pact_client_authenticate, pact_token_issue
from config.env import env_bool

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
AFTER = "x-cm-after"


def _https_required(request) -> bool:
    return env_bool("CM_PACT_REQUIRE_HTTPS", False) and not request.is_secure()


# --- Authentication --------------------------------------------------------------------------


class _TokenExpiredError(exceptions.AuthenticationFailed):
    default_code = "token_expired"


class PactBearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>`` from ``/pact/auth/token``."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token provided")
        try:
            return pact_token_client(token=parts[1].decode("ascii"))
        except (TokenInvalid, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed("Invalid token provided") from None
        except TokenExpired:
            raise _TokenExpiredError("The access token has expired") from None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="pact"'


class PactBearerScheme(OpenApiAuthenticationExtension):
    target_class = PactBearerAuthentication
    name = "PactBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "OAuth2 client credentials (RFC 6749 §4.4) at /pact/auth/token",
            "flows": {"clientCredentials": {"tokenUrl": "/pact/auth/token", "scopes": {}}},
        }


class IsPactClient(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, PactClient)


def error_document(exc: Exception) -> tuple[int, str, str]:
    """(HTTP status, spec Error code, message) of an exception raised in a PACT view."""
    if isinstance(exc, _TokenExpiredError):
        return 401, "TokenExpired", str(exc.detail)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        detail = exc.detail if isinstance(exc, exceptions.AuthenticationFailed) else None
        return 400, "BadRequest", str(detail or "Missing bearer access token")
    if isinstance(exc, exceptions.PermissionDenied):
        return 403, "AccessDenied", str(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        return 404, "NotFound", str(exc.detail)
    if isinstance(exc, exceptions.MethodNotAllowed | exceptions.ValidationError):
        return 400, "BadRequest", str(exc.detail)
    if isinstance(exc, exceptions.APIException) and exc.status_code < 500:
        return 400, "BadRequest", str(exc.detail)
    logger.exception("PACT request failed", exc_info=exc)
    return 500, "InternalError", "Internal error"


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["BadRequest", "AccessDenied", "TokenExpired", "NotFound", "InternalError"]
    )
    message = serializers.CharField()


class PactView(APIView):
    """Base of the footprint views: bearer tokens, the spec's error format."""

    authentication_classes = [PactBearerAuthentication]
    permission_classes = [IsPactClient]
    renderer_classes = [JSONRenderer]

    def initial(self, request, *args, **kwargs):
        if _https_required(request):
            raise exceptions.PermissionDenied("HTTPS is required")
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        status, code, message = error_document(exc)
        response = Response({"code": code, "message": message}, status=status)
        response.exception = True
        return response


# --- Token endpoint --------------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if error == "invalid_client":
        response["WWW-Authenticate"] = 'Basic realm="pact"'
    return response


def _basic_credentials(request) -> tuple[str, str] | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


class TokenView(APIView):
    """Action Authenticate: OAuth2 client credentials with HTTP Basic (RFC 6749 §4.4)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        request={
            "application/x-www-form-urlencoded": inline_serializer(
                "PactTokenRequest", {"grant_type": serializers.CharField()}
            )
        },
        responses={
            200: inline_serializer(
                "PactTokenResponse",
                {
                    "access_token": serializers.CharField(),
                    "token_type": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                },
            ),
            (400, "application/json"): OpenApiTypes.OBJECT,
            (401, "application/json"): OpenApiTypes.OBJECT,
        },
        description="OAuth2 client credentials (HTTP Basic client_id:secret, form "
        "grant_type=client_credentials). Errors as RFC 6749 §5.2.",
        auth=[],
    )
    def post(self, request):
        if _https_required(request):
            return _oauth_error(400, "invalid_request", "HTTPS is required")
        credentials = _basic_credentials(request)
        if credentials is None:
            return _oauth_error(401, "invalid_client", "HTTP Basic client authentication needed")
        client = pact_client_authenticate(client_id=credentials[0], secret=credentials[1])
        if client is None:
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        grant_type = request.POST.get("grant_type")
        if grant_type is None:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "only grant_type=client_credentials is supported"
            )
        token, expires_in = pact_token_issue(client=client)
        response = JsonResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
        )
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


# --- Footprints ------------------------------------------------------------------------------

LIST_FILTERS = {
    "productId": "product_ids",
    "companyId": "company_ids",
    "geography": "geography",
    "classification": "classification",
}
TIME_FILTERS = {"validOn": "valid_on", "validAfter": "valid_after", "validBefore": "valid_before"}


def _filters(params) -> FootprintFilters:
    filters = FootprintFilters()
    for name, attr in LIST_FILTERS.items():
        # Repeated (?geography=CN&geography=IN) or comma-separated values are both taken.
        values = [v for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
        setattr(filters, attr, values)
    for name, attr in TIME_FILTERS.items():
        if name in params:
            moment = parse_datetime(params[name])
            if moment is None or moment.tzinfo is None:
                raise exceptions.ValidationError(
                    f"{name} must be an RFC 3339 date-time with a time zone, got {params[name]!r}"
                )
            setattr(filters, attr, moment)
    if "status" in params:
        status = params["status"].strip().lower()
        if status not in ("active", "deprecated"):
            raise exceptions.ValidationError("status must be Active or Deprecated")
        filters.status = status
    return filters


def _positive_int(params, name: str, default: int | None) -> int | None:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        raise exceptions.ValidationError(f"{name} must be an integer") from None
    if value < 0:
        raise exceptions.ValidationError(f"{name} must not be negative")
    return value


def _documents(request, estimates) -> list[dict]:
    versions = estimate_versions(estimates)
    descriptions = cn_descriptions(e.cn_code for e in estimates)
    return [
        product_footprint(
            e,
            versions=versions[e.subject_key],
            description=descriptions.get(e.cn_code, ""),
            trace_url=request.build_absolute_uri(f"/api/v1/estimates/{e.pk}/trace"),
        )
        for e in estimates
    ]


FILTER_PARAMETERS = [
    OpenApiParameter(
        "limit", int, description=f"at most this many footprints (default {DEFAULT_LIMIT})"
    ),
    *[
        OpenApiParameter(name, {"type": "array", "items": {"type": "string"}}, explode=True)
        for name in LIST_FILTERS
    ],
    *[OpenApiParameter(name, OpenApiTypes.DATETIME) for name in TIME_FILTERS],
    OpenApiParameter("status", str, enum=["Active", "Deprecated"]),
    OpenApiParameter(AFTER, int, description="pagination key, from the Link header"),
]


class FootprintListView(PactView):
    """Action ListFootprints."""

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={
            200: inline_serializer(
                "PactFootprintList", {"data": serializers.ListField(child=serializers.JSONField())}
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
        description="PACT v3 ListFootprints; a Link header (rel=next) when more follow.",
        operation_id="pact_list_footprints",
    )
    def get(self, request):
        params = request.query_params
        filters = _filters(params)
        limit = min(_positive_int(params, "limit", DEFAULT_LIMIT), MAX_LIMIT)
        after = _positive_int(params, AFTER, None)
        estimates = footprint_estimates(filters=filters)
        if after is not None:
            estimates = estimates.filter(pk__gt=after)
        page = list(estimates[: limit + 1])
        more, page = len(page) > limit, page[:limit]
        response = Response({"data": _documents(request, page)})
        if more and page:
            query = [(k, v) for k in params for v in params.getlist(k) if k != AFTER]
            query.append((AFTER, str(page[-1].pk)))
            url = request.build_absolute_uri(request.path) + "?" + urlencode(query)
            response["Link"] = f'<{url}>; rel="next"'
        return response


class FootprintDetailView(PactView):
    """Action GetFootprint."""

    @extend_schema(
        responses={
            200: inline_serializer("PactFootprint", {"data": serializers.JSONField()}),
            400: ErrorSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
        },
        description="PACT v3 GetFootprint.",
        operation_id="pact_get_footprint",
    )
    def get(self, request, pf_id: str):
        pk = estimate_pk_of(pf_id)
        estimate = (
            footprint_estimates(filters=FootprintFilters()).filter(pk=pk).first()
            if pk is not None
            else None
        )
        if estimate is None or footprint_id(estimate) != pf_id.lower():
            raise exceptions.NotFound(f"Footprint with ID '{pf_id}' does not exist")
        return Response({"data": _documents(request, [estimate])[0]})
