"""Writes of the PACT exchange: register a data recipient, issue it an access token, take
the events it posts, answer its requests and announce changed footprints.

Each is a state change, so each commits with its audit event (``apps.audit``). Events we
send (``SentEvent``) are delivered after commit by a task, and again by the periodic sweep
until the partner takes them or 72 hours have passed (PACT v3, Action Events: "SHOULD retry
… using exponential backoff", "SHOULD abandon sending the event after 72 hours").
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote_plus, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_append
from apps.estimates.models import Estimate
from apps.pact.events import (
    MEDIA_TYPE,
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    Event,
    EventError,
    event_bytes,
    request_filters,
)
from apps.pact.mapping import footprint_documents, footprint_id
from apps.pact.models import PactAccessToken, PactClient, ReceivedEvent, SentEvent
from apps.pact.selectors import footprint_estimates
from config.env import env_url

#: Lifetime of an access token, returned as ``expires_in`` (RFC 6749 §5.1).
TOKEN_TTL = dt.timedelta(hours=1)
#: The most footprints one RequestFulfilledEvent carries (ListFootprints' page cap); a
#: request matching more is rejected, naming ListFootprints and its pagination instead.
MAX_ANSWER_FOOTPRINTS = 1000
#: The most footprint ids one PublishedEvent names.
PUBLISH_BATCH = 1000
#: A claimed delivery is left alone this long (longer than both HTTP calls can take).
DELIVERY_LEASE = dt.timedelta(minutes=5)
FIRST_RETRY = dt.timedelta(seconds=30)
MAX_RETRY_DELAY = dt.timedelta(hours=6)
GIVE_UP_AFTER = dt.timedelta(hours=72)
HTTP_TIMEOUT_S = 30
#: Names the answer to a request: the same request gets the same answer id.
ANSWER_NAMESPACE = uuid.UUID("6f1c2a52-4b8e-5d0e-9a57-3e0f4c1d8b21")
#: Audit actions after which footprints changed (a new one, or earlier ones deprecated).
FOOTPRINT_CHANGES = ("estimate.create", "estimate.supersede")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def public_url() -> str:
    """Our address for partners when no request tells it (``CM_PUBLIC_URL``)."""
    return env_url("CM_PUBLIC_URL", "http://127.0.0.1:8000/", schemes=("http", "https"))


def events_source(base_url: str) -> str:
    """The ``source`` of the events we send: our own Action Events endpoint."""
    return urljoin(base_url, reverse("pact-events"))


def pact_client_create(
    *,
    name: str,
    actor: Any = None,
    events_url: str = "",
    events_client_id: str = "",
    events_client_secret: str = "",
    events_token_url: str = "",
) -> tuple[PactClient, str]:
    """Register a data recipient. Returns (client, secret); the secret is shown only now.

    ``events_url`` is the partner's Action Events endpoint, where its answers and our
    PublishedEvents go; ``events_client_id``/``events_client_secret`` are the credentials
    its host issued us, if it asks for them (at ``events_token_url``, by default
    :func:`token_url`). Footprints changed from now on are announced to it.
    """
    for url in (events_url, events_token_url):
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"{url!r} is not an http(s) URL")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = PactClient.objects.create(
            name=name,
            client_id="cm-" + secrets.token_hex(8),
            secret_sha256=secret_hash(secret),
            events_url=events_url,
            events_client_id=events_client_id,
            events_client_secret=events_client_secret,
            events_token_url=events_token_url,
        )
        event = audit_append(
            actor=actor,
            action="pact.client.create",
            object_type="pact_client",
            object_id=client.pk,
            payload={"name": name, "client_id": client.client_id, "events_url": events_url},
        )
        client.published_through = event.index
        client.save(update_fields=["published_through"])
    return client, secret


def pact_client_authenticate(*, client_id: str, secret: str) -> PactClient | None:
    """The active client with these credentials, or None (constant-time secret check)."""
    client = PactClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    expected = client.secret_sha256 if client else secret_hash("")
    ok = hmac.compare_digest(expected, secret_hash(secret))
    return client if client is not None and ok else None


def pact_token_issue(*, client: PactClient) -> tuple[str, int]:
    """Issue an access token to ``client``. Returns (token, lifetime in seconds)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        record = PactAccessToken.objects.create(
            client=client,
            key_sha256=secret_hash(token),
            expires_at=timezone.now() + TOKEN_TTL,
        )
        audit_append(
            actor=None,
            action="pact.token.create",
            object_type="pact_access_token",
            object_id=record.pk,
            payload={"client_id": client.client_id, "expires": record.expires_at.isoformat()},
        )
    return token, int(TOKEN_TTL.total_seconds())


# --- Events received ---------------------------------------------------------------------


class EventQuotaExceeded(Exception):
    """A client has posted as many events as it may for now; ``retry_after`` [s] is when
    the oldest of them leaves the window that is full."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: The event windows a client's stored events are counted in, with their settings.
EVENT_WINDOWS = (
    ("minute", dt.timedelta(minutes=1), "PACT_EVENTS_PER_MINUTE"),
    ("day", dt.timedelta(days=1), "PACT_EVENTS_PER_DAY"),
)


def _event_quota_check(*, client: PactClient) -> None:
    """Raise :class:`EventQuotaExceeded` when ``client`` already has its allowance of
    stored events in the last minute or day (``settings.PACT_EVENTS_PER_MINUTE``,
    ``PACT_EVENTS_PER_DAY``). Each stored event is an audit-log entry, and the log is never
    pruned, so a partner may not grow it without bound. Called with the client's row
    locked, so concurrent posts of one client are counted one after the other."""
    now = timezone.now()
    for name, window, setting in EVENT_WINDOWS:
        allowed = getattr(settings, setting)
        recent = ReceivedEvent.objects.filter(client=client, received_at__gt=now - window)
        if recent.count() < allowed:
            continue
        # The window frees a place when the allowed-th most recent event leaves it.
        last_counted = recent.order_by("-received_at").values_list("received_at", flat=True)
        wait = max(1, math.ceil((last_counted[allowed - 1] + window - now).total_seconds()))
        raise EventQuotaExceeded(
            f"at most {allowed} events per {name} are accepted from one client; retry in {wait} s",
            retry_after=wait,
        )


def pact_event_receive(
    *, client: PactClient, event: Event, body_sha256: str, base_url: str
) -> ReceivedEvent:
    """Keep an accepted event, once per (client, source, id): a redelivery is the same
    event (CloudEvents 1.0 §3.1.1). A RequestCreatedEvent is answered after commit by
    ``pact.request_answer``; the others are kept for the record.

    A new event counts against the client's rate and quota (:func:`_event_quota_check`,
    raises :class:`EventQuotaExceeded`); a redelivery does not, as nothing is stored."""
    from apps.pact.tasks import pact_request_answer_task

    with transaction.atomic():
        PactClient.objects.select_for_update().filter(pk=client.pk).first()
        record = ReceivedEvent.objects.filter(
            client=client, source=event.source, event_id=event.id
        ).first()
        if record is not None:
            return record
        _event_quota_check(client=client)
        record, created = ReceivedEvent.objects.get_or_create(
            client=client,
            source=event.source,
            event_id=event.id,
            defaults={
                "type": event.type,
                "time": event.time,
                "data": event.data,
                "base_url": base_url,
            },
        )
        if created:
            audit_append(
                actor=None,
                action="pact.event.receive",
                object_type="pact_received_event",
                object_id=record.pk,
                payload={
                    "client_id": client.client_id,
                    "type": event.type,
                    "id": event.id,
                    "source": event.source,
                },
                evidence_sha256=body_sha256,
            )
            if event.type == REQUEST_CREATED:
                transaction.on_commit(lambda: pact_request_answer_task.delay(record.pk))
    return record


def _sent_event_create(
    *,
    client: PactClient,
    kind: str,
    data: dict[str, Any],
    base_url: str,
    event_id: uuid.UUID,
    request: ReceivedEvent | None = None,
) -> SentEvent:
    """Store an event to send (inside the caller's transaction) and deliver it after commit."""
    from apps.pact.tasks import pact_event_deliver_task

    now = timezone.now()
    body = event_bytes(
        kind=kind, event_id=event_id, source=events_source(base_url), time=now, data=data
    )
    sent = SentEvent.objects.create(
        client=client,
        event_id=event_id,
        type=kind,
        body=body.decode("utf-8"),
        request=request,
        next_attempt_at=now,
    )
    audit_append(
        actor=None,
        action="pact.event.create",
        object_type="pact_sent_event",
        object_id=sent.pk,
        payload={
            "client_id": client.client_id,
            "type": kind,
            "id": str(event_id),
            "request": request.event_id if request else None,
        },
        evidence_sha256=hashlib.sha256(body).hexdigest(),
    )
    transaction.on_commit(lambda: pact_event_deliver_task.delay(sent.pk))
    return sent


def _answer(request: ReceivedEvent) -> tuple[str, dict[str, Any]]:
    """The type and data of the answer to a RequestCreatedEvent (PACT v3: a non-empty
    RequestFulfilledEvent, else a RequestRejectedEvent with an Error)."""
    base: dict[str, Any] = {"requestEventId": request.event_id}
    try:
        filters = request_filters(request.data)
    except EventError as exc:  # checked on receipt; kept for rows stored before a change
        return REQUEST_REJECTED, {**base, "error": {"code": "BadRequest", "message": str(exc)}}
    estimates = list(footprint_estimates(filters=filters)[: MAX_ANSWER_FOOTPRINTS + 1])
    if not estimates:
        error = {"code": "NotFound", "message": "No footprint matches the request's criteria."}
        return REQUEST_REJECTED, {**base, "error": error}
    if len(estimates) > MAX_ANSWER_FOOTPRINTS:
        message = (
            f"More than {MAX_ANSWER_FOOTPRINTS} footprints match the request's criteria: "
            "narrow them, or page through ListFootprints (GET /3/footprints)."
        )
        return REQUEST_REJECTED, {**base, "error": {"code": "BadRequest", "message": message}}
    pfs = footprint_documents(estimates, base_url=request.base_url)
    return REQUEST_FULFILLED, {**base, "pfs": pfs}


def pact_request_answer(*, received_event_id: int) -> SentEvent:
    """Answer a RequestCreatedEvent with the footprints matching its criteria.

    Safe to run twice and concurrently: the request row is locked, a request has at most
    one answer (``SentEvent.request`` is unique), and the answer's id is derived from the
    request's identity, so a repeat finds the answer already made.
    """
    with transaction.atomic():
        request = (
            ReceivedEvent.objects.select_for_update()
            .select_related("client")
            .get(pk=received_event_id, type=REQUEST_CREATED)
        )
        existing = SentEvent.objects.filter(request=request).first()
        if existing is not None:
            return existing
        kind, data = _answer(request)
        identity = f"{request.client.client_id}\n{request.source}\n{request.event_id}"
        return _sent_event_create(
            client=request.client,
            kind=kind,
            data=data,
            base_url=request.base_url,
            event_id=uuid.uuid5(ANSWER_NAMESPACE, identity),
            request=request,
        )


# --- Footprints announced ----------------------------------------------------------------


def _changed_footprint_ids(rows: list[tuple[str, bytes]]) -> list[str]:
    """Footprint ids changed by these ``estimate.create``/``estimate.supersede`` events:
    the estimates named, and the earlier versions of their subjects, which a newer version
    makes ``Deprecated`` (``apps.pact.mapping``)."""
    changed: set[int] = set()
    for object_id, data in rows:
        changed.add(int(object_id))
        changed.update(json.loads(bytes(data))["payload"].get("superseded", []))
    newest: dict[str, int] = {}
    for pk, subject in Estimate.objects.filter(pk__in=changed).values_list("pk", "subject_key"):
        newest[subject] = max(newest.get(subject, pk), pk)
    versions = Estimate.objects.filter(subject_key__in=newest).only(
        "pk", "subject_key", "trace_sha256"
    )
    return [
        footprint_id(e)
        for e in versions.order_by("pk")
        if e.pk in changed or e.pk < newest[e.subject_key]
    ]


def _publish_to(*, client_pk: int, base_url: str) -> list[SentEvent]:
    with transaction.atomic():
        client = PactClient.objects.select_for_update().get(pk=client_pk)
        # Audit indices commit in order (appends hold a lock until commit), so nothing
        # below the last index read can still appear: the mark never skips a change.
        rows = list(
            AuditEvent.objects.filter(
                index__gt=client.published_through, action__in=FOOTPRINT_CHANGES
            )
            .order_by("index")
            .values_list("index", "object_id", "data")
        )
        if not rows:
            return []
        ids = _changed_footprint_ids([(object_id, data) for _, object_id, data in rows])
        sent = [
            _sent_event_create(
                client=client,
                kind=PUBLISHED,
                data={"pfIds": ids[start : start + PUBLISH_BATCH]},
                base_url=base_url,
                event_id=uuid.uuid4(),
            )
            for start in range(0, len(ids), PUBLISH_BATCH)
        ]
        client.published_through = rows[-1][0]
        client.save(update_fields=["published_through"])
    return sent


def pact_footprints_publish(*, base_url: str | None = None) -> list[SentEvent]:
    """Announce the footprints changed since the last announcement to every active client
    with an events endpoint: PublishedEvents naming their ids (PACT v3 ``PublishedEvent``;
    the partner fetches them with GetFootprint). Safe to run twice and concurrently: each
    client's row is locked while its mark advances."""
    base_url = base_url or public_url()
    clients = PactClient.objects.filter(revoked_at__isnull=True).exclude(events_url="")
    sent: list[SentEvent] = []
    for pk in clients.values_list("pk", flat=True):
        sent += _publish_to(client_pk=pk, base_url=base_url)
    return sent


# --- Delivery ------------------------------------------------------------------------------


class DeliveryError(Exception):
    """The partner's host did not take the event; the message says what happened."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: the event goes only where it was registered."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"POST {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"POST {url} failed: {reason}") from None


def token_url(events_url: str) -> str:
    """The partner's token endpoint when none is registered: PACT v3 Authentication Flow,
    ``AuthHostname/AuthSubpath/auth/token``, the subpath being what precedes ``/3/events``."""
    parts = urlsplit(events_url)
    path = parts.path.rstrip("/")
    subpath = path.removesuffix("/3/events") if path.endswith("/3/events") else ""
    return urlunsplit((parts.scheme, parts.netloc, subpath + "/auth/token", "", ""))


def _partner_token(client: PactClient) -> str | None:
    """An access token from the partner's host (RFC 6749 §4.4 with HTTP Basic), or None
    when it issued us no credentials."""
    if not client.events_client_id:
        return None
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
    pair = f"{quote_plus(client.events_client_id)}:{quote_plus(client.events_client_secret)}"
    url = client.events_token_url or token_url(client.events_url)
    answer = _http_post(
        url,
        b"grant_type=client_credentials",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii"),
        },
    )
    try:
        token = json.loads(answer)["access_token"]
    except (ValueError, KeyError, TypeError):
        raise DeliveryError(f"{url} answered no access_token") from None
    if not isinstance(token, str) or not token:
        raise DeliveryError(f"{url} answered no access_token")
    return token


def _post_event(client: PactClient, body: bytes) -> None:
    if client.revoked_at is not None:
        raise DeliveryError("the client was revoked")
    if not client.events_url:
        raise DeliveryError("no events endpoint is registered for the client")
    headers = {"Content-Type": f"{MEDIA_TYPE}; charset=UTF-8"}
    token = _partner_token(client)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    _http_post(client.events_url, body, headers)


def _retry_delay(attempts: int) -> dt.timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY_DELAY)


def pact_event_deliver(*, sent_event_id: int) -> str:
    """One attempt to post a SentEvent to its client's events endpoint; returns its status.

    Safe to run twice and concurrently: an attempt first claims the event with a
    conditional UPDATE (pending and due) that must touch exactly one row and holds it for
    :data:`DELIVERY_LEASE`; a delivered or abandoned event is never posted again. A
    failure is retried by the periodic sweep with exponential backoff; after
    :data:`GIVE_UP_AFTER` (or once the client is revoked) the event is abandoned.
    """
    now = timezone.now()
    claimed = SentEvent.objects.filter(
        pk=sent_event_id, status=SentEvent.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + DELIVERY_LEASE)
    sent = SentEvent.objects.select_related("client").get(pk=sent_event_id)
    if claimed != 1:
        return sent.status
    body = sent.body.encode("utf-8")
    error = ""
    try:
        _post_event(sent.client, body)
    except DeliveryError as exc:
        error = str(exc)
    finished = timezone.now()
    if not error:
        status = SentEvent.Status.DELIVERED
    elif sent.client.revoked_at is not None or finished - sent.created_at >= GIVE_UP_AFTER:
        status = SentEvent.Status.ABANDONED
    else:
        status = SentEvent.Status.PENDING
    with transaction.atomic():
        SentEvent.objects.filter(pk=sent.pk).update(
            status=status,
            attempts=F("attempts") + 1,
            last_attempt_at=finished,
            last_error=error,
            next_attempt_at=finished + _retry_delay(sent.attempts + 1),
        )
        if status != SentEvent.Status.PENDING:
            audit_append(
                actor=None,
                action=f"pact.event.{status}",
                object_type="pact_sent_event",
                object_id=sent.pk,
                payload={
                    "client_id": sent.client.client_id,
                    "id": str(sent.event_id),
                    "attempts": sent.attempts + 1,
                    "error": error or None,
                },
                evidence_sha256=hashlib.sha256(body).hexdigest(),
            )
    return status
