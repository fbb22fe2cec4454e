"""The PACT v3 exchange under ``/pact/``: ``auth/token``, ``3/footprints``, ``3/footprints/{id}``
and ``3/events``.

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
- ``POST /pact/3/events`` (Action Events, conformance cases 12–17) with the same bearer
  token: one CloudEvent, ``Content-Type: application/cloudevents+json``
  (:mod:`apps.pact.events`) → 200 with an empty body once it is stored; 400 ``BadRequest``
  for a malformed event (``NotImplemented`` for an unknown type), 401/400 for tokens as
  above, 403 ``AccessDenied`` for a RequestCreatedEvent from a client with no registered
  events endpoint or whose ``source`` names another host (we answer only at the
  registered endpoint). A request is answered later by a task
  (:func:`apps.pact.services.pact_request_answer`).
- Plain-HTTP requests are refused (conformance cases 9–11, 17: the token endpoint 400
  ``invalid_request``, the others 403 ``AccessDenied``) when ``settings.PACT_REQUIRE_HTTPS``:
  on with ``CM_PRODUCTION=1`` (which also exempts ``/pact/`` from the HTTPS redirect, so
  such a request is refused rather than redirected) or ``CM_PACT_REQUIRE_HTTPS=1``; the
  embedded demo serves plain HTTP, so it is off there.
- A client may have at most ``PACT_EVENTS_PER_MINUTE`` events stored per rolling minute and
  ``PACT_EVENTS_PER_DAY`` per rolling day (each is an audit-log entry, which is never
  pruned); beyond, 429 (RFC 6585 §4; PACT names no status for it) with ``Retry-After``
  and the spec's Error body, code ``BadRequest``. A redelivered event does not count.

Every data recipient reads every footprint; they are the platform's published estimates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from urllib.parse import unquote, urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.pact import events
from apps.pact.mapping import estimate_pk_of, footprint_documents, footprint_id
from apps.pact.models import PactClient
from apps.pact.selectors import (
    LIST_CRITERIA,
    TIME_CRITERIA,
    CriteriaError,
    FootprintFilters,
    TokenExpired,
    TokenInvalid,
    footprint_estimates,
    footprint_filters,
    pact_token_client,
)
from apps.pact.services import (
    EventQuotaExceeded,
    pact_client_authenticate,
    pact_event_receive,
    pact_token_issue,
)

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
AFTER = "x-cm-after"
MAX_INTEGER = 2**63 - 1


def _https_required(request) -> bool:
    return settings.PACT_REQUIRE_HTTPS and not request.is_secure()


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


class PactError(exceptions.APIException):
    """An error answered as given: HTTP status, the spec's error code, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.error_code = status, code


def _message(detail) -> str:
    """The text of a DRF error detail (a string, or lists and dicts of them)."""
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_message(item) for item in detail)
    return str(detail)


def error_document(exc: Exception) -> tuple[int, str, str]:
    """(HTTP status, spec Error code, message) of an exception raised in a PACT view."""
    if isinstance(exc, PactError):
        return exc.status_code, exc.error_code, _message(exc.detail)
    if isinstance(exc, _TokenExpiredError):
        return 401, "TokenExpired", _message(exc.detail)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        detail = exc.detail if isinstance(exc, exceptions.AuthenticationFailed) else None
        return 400, "BadRequest", _message(detail or "Missing bearer access token")
    if isinstance(exc, exceptions.PermissionDenied):
        return 403, "AccessDenied", _message(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        return 404, "NotFound", _message(exc.detail)
    if isinstance(exc, exceptions.APIException) and exc.status_code < 500:
        return 400, "BadRequest", _message(exc.detail)
    logger.exception("PACT request failed", exc_info=exc)
    return 500, "InternalError", "Internal error"


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "BadRequest",
            "AccessDenied",
            "TokenExpired",
            "NotFound",
            "InternalError",
            "NotImplemented",
        ]
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


def _filters(params) -> FootprintFilters:
    # Repeated (?geography=CN&geography=IN) or comma-separated values are both taken.
    criteria = {
        name: [v for raw in params.getlist(name) for v in raw.split(",")] for name in LIST_CRITERIA
    }
    criteria.update({n: params[n] for n in (*TIME_CRITERIA, "status") if n in params})
    try:
        return footprint_filters(criteria)
    except CriteriaError as exc:
        raise PactError(400, "BadRequest", str(exc)) from None


def _positive_int(params, name: str, default: int | None) -> int | None:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        raise PactError(400, "BadRequest", f"{name} must be an integer") from None
    if value < 0:
        raise PactError(400, "BadRequest", f"{name} must not be negative")
    if value > MAX_INTEGER:  # beyond a bigint: PostgreSQL would refuse the query (500)
        raise PactError(400, "BadRequest", f"{name} must be at most {MAX_INTEGER}")
    return value


def _documents(request, estimates) -> list[dict]:
    return footprint_documents(estimates, base_url=request.build_absolute_uri("/"))


FILTER_PARAMETERS = [
    OpenApiParameter(
        "limit", int, description=f"at most this many footprints (default {DEFAULT_LIMIT})"
    ),
    *[
        OpenApiParameter(name, {"type": "array", "items": {"type": "string"}}, explode=True)
        for name in LIST_CRITERIA
    ],
    *[OpenApiParameter(name, OpenApiTypes.DATETIME) for name in TIME_CRITERIA],
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


# --- Events ----------------------------------------------------------------------------------

CLOUD_EVENT = inline_serializer(
    "PactCloudEvent",
    {
        "type": serializers.ChoiceField(
            choices=[
                events.REQUEST_CREATED,
                events.REQUEST_FULFILLED,
                events.REQUEST_REJECTED,
                events.PUBLISHED,
            ]
        ),
        "specversion": serializers.ChoiceField(choices=[events.SPEC_VERSION]),
        "id": serializers.CharField(max_length=events.MAX_ID),
        "source": serializers.CharField(max_length=events.MAX_SOURCE),
        "time": serializers.DateTimeField(),
        "data": serializers.JSONField(
            help_text="RequestCreatedEvent: the ListFootprints criteria (productId, companyId, "
            "geography, classification, validOn, validAfter, validBefore, status) and comment; "
            "RequestFulfilledEvent: requestEventId, pfs; RequestRejectedEvent: requestEventId, "
            "error; PublishedEvent: pfIds"
        ),
    },
)


class EventsView(PactView):
    """Action Events."""

    @extend_schema(
        request={events.MEDIA_TYPE: CLOUD_EVENT},
        responses={
            200: OpenApiResponse(description="The event was accepted; the body is empty."),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            429: OpenApiResponse(
                ErrorSerializer,
                description="The client's event rate or quota is used up (settings "
                "PACT_EVENTS_PER_MINUTE, PACT_EVENTS_PER_DAY); Retry-After says when to retry.",
            ),
        },
        description="PACT v3 Action Events: one CloudEvent in structured mode. A "
        "RequestCreatedEvent is answered later with a RequestFulfilledEvent or "
        "RequestRejectedEvent posted to the client's registered events endpoint.",
        operation_id="pact_events",
    )
    def post(self, request):
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type != events.MEDIA_TYPE:
            raise PactError(
                400, "BadRequest", f"Content-Type must be {events.MEDIA_TYPE} (structured mode)"
            )
        try:
            body = request.body
        except RequestDataTooBig:
            raise PactError(400, "BadRequest", "The event is too large") from None
        try:
            event = events.event_parse(body)
        except events.EventError as exc:
            raise PactError(400, exc.code, str(exc)) from None
        client = request.user
        if event.type == events.REQUEST_CREATED:
            # Refused now rather than accepted and never answered (RequestCreatedEvent:
            # "If the data owner can immediately determine that it will not be able to
            # handle this request it MUST respond with an appropriate 4xx error").
            if not client.events_url:
                raise PactError(
                    403, "AccessDenied", "No events endpoint is registered for this client"
                )
            if not events.source_matches(event.source, client.events_url):
                raise PactError(
                    403,
                    "AccessDenied",
                    f"source {event.source!r} does not name the host of the events endpoint "
                    "registered for this client",
                )
        try:
            pact_event_receive(
                client=client,
                event=event,
                body_sha256=hashlib.sha256(body).hexdigest(),
                base_url=request.build_absolute_uri("/"),
            )
        except EventQuotaExceeded as exc:
            response = Response({"code": "BadRequest", "message": str(exc)}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return Response(status=200)
