"""PACT v3 events: CloudEvents 1.0 in structured JSON mode, read and written.

The Action Events of the PACT Technical Specifications for PCF Data Exchange 3.0.0
(``spec/v3/openapi.yaml``: ``POST /3/events``, ``BaseEvent``, ``RequestCreatedEvent``,
``RequestFulfilledEvent``, ``RequestRejectedEvent``, ``PublishedEvent``) on CloudEvents 1.0
(https://github.com/cloudevents/spec: ``spec.md`` §3.1 for the attributes,
``formats/json-format.md`` for the JSON form, ``bindings/http-protocol-binding.md`` §3.2
for structured mode and its media type ``application/cloudevents+json``).

An event is checked the way the spec's schemas shape it: the envelope (``specversion``
"1.0", non-empty ``id``, ``source``, ``type``, an RFC 3339 ``time`` and an object ``data``;
PACT's ``BaseEvent`` requires all six) and the ``data`` of its type. Where the schema leaves
room, we do too: unknown keys of ``data`` are ignored and received footprints are kept as
sent, not re-validated. Where it is strict, so are we: ``PublishedEvent.data.pfIds`` are
UUIDs (``format: uuid``; conformance case 40 sends a URN and expects 400).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import rfc8785
from django.utils.dateparse import parse_datetime

from apps.pact.selectors import CriteriaError, FootprintFilters, footprint_filters

MEDIA_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
REQUEST_CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
REQUEST_FULFILLED = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
REQUEST_REJECTED = "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
PUBLISHED = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"

#: Sizes of our columns (apps.pact.models.ReceivedEvent), in UTF-8 bytes: together they
#: stay within a PostgreSQL index entry (the pair is unique per client).
MAX_ID, MAX_SOURCE = 255, 512
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class EventError(Exception):
    """An event we do not accept: HTTP 400 with the spec's ``code`` (BadRequest, or
    NotImplemented for an event type this host does not know)."""

    def __init__(self, message: str, code: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Event:
    type: str
    id: str
    source: str
    time: dt.datetime
    data: dict[str, Any]


def _text(value: Any, name: str, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{name} must be a non-empty string")
    if limit is not None and len(value.encode("utf-8")) > limit:
        raise EventError(f"{name} is longer than {limit} bytes")
    return value


def _uuid(value: Any, name: str) -> str:
    """A ProductFootprint id: PACT v3 ``PublishedEvent.data.pfIds`` items are ``format:
    uuid`` (RFC 9562 §4, the hyphenated 8-4-4-4-12 hex form); a URN is refused
    (conformance case 40)."""
    text = _text(value, name)
    if not _UUID.fullmatch(text):
        raise EventError(f"{name} must be a UUID (8-4-4-4-12 hex digits), got {text!r}")
    return text


def _time(value: Any) -> dt.datetime:
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    # RFC 3339 (CloudEvents "Timestamp"): a full date-time with a zone offset.
    if moment is None or moment.tzinfo is None:
        raise EventError(f"time must be an RFC 3339 date-time with a zone, got {value!r}")
    return moment


def request_filters(data: dict[str, Any]) -> FootprintFilters:
    """The ListFootprints filters a RequestCreatedEvent asks for.

    A version 2.x requester names products in a ``pf`` fragment (``{"pf": {"productIds":
    […]}}``, obsolete in v3 but still what the conformance suite's case 12 documents); its
    ids count as ``productId``.
    """
    criteria = dict(data)
    fragment = data.get("pf")
    if isinstance(fragment, dict) and "productId" not in data:
        criteria["productId"] = fragment.get("productIds", [])
    try:
        return footprint_filters(criteria)
    except CriteriaError as exc:
        raise EventError(f"data.{exc}") from None


def _check_data(kind: str, data: dict[str, Any]) -> None:
    if kind == REQUEST_CREATED:
        request_filters(data)
        if "comment" in data and not isinstance(data["comment"], str):
            raise EventError("data.comment must be a string")
    elif kind == PUBLISHED:
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids:
            raise EventError("data.pfIds must be a non-empty list of footprint ids")
        for index, pf_id in enumerate(ids):
            _uuid(pf_id, f"data.pfIds[{index}]")
    elif kind in (REQUEST_FULFILLED, REQUEST_REJECTED):
        _text(data.get("requestEventId"), "data.requestEventId")
        if kind == REQUEST_FULFILLED:
            pfs = data.get("pfs")
            if not isinstance(pfs, list) or not pfs or not all(isinstance(p, dict) for p in pfs):
                raise EventError("data.pfs must be a non-empty list of ProductFootprints")
        else:
            error = data.get("error")
            if not isinstance(error, dict):
                raise EventError("data.error must be an Error object {code, message}")
            _text(error.get("code"), "data.error.code")
            _text(error.get("message"), "data.error.message")
    else:
        raise EventError(f"event type {kind!r} is not supported", code="NotImplemented")


def event_parse(body: bytes) -> Event:
    """The event in a request body (already known to be ``application/cloudevents+json``).
    Raises :class:`EventError`."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise EventError("the body is not JSON") from None
    if not isinstance(document, dict):
        raise EventError("the body must be one CloudEvent, a JSON object")
    if document.get("specversion") != SPEC_VERSION:
        raise EventError(f"specversion must be {SPEC_VERSION!r}")
    kind = _text(document.get("type"), "type")
    event_id = _text(document.get("id"), "id", MAX_ID)
    source = _text(document.get("source"), "source", MAX_SOURCE)
    if any(c.isspace() for c in source):
        raise EventError("source must be a URI-reference")
    content_type = document.get("datacontenttype", "application/json")
    if not isinstance(content_type, str) or not content_type.split(";")[0].strip().endswith("json"):
        raise EventError("datacontenttype must be application/json")
    if "time" not in document:
        raise EventError("time is required")
    moment = _time(document["time"])
    data = document.get("data")
    if not isinstance(data, dict):
        raise EventError("data must be a JSON object")
    _check_data(kind, data)
    return Event(type=kind, id=event_id, source=source, time=moment, data=data)


def source_matches(source: str, events_url: str) -> bool:
    """Whether an event's ``source`` names the host system at ``events_url``.

    PACT v3 (Action Events): the data owner "MUST validate the value of ``source`` before
    sending the response". We answer only at the endpoint registered for the client; the
    source (``//api.example.com/3/events`` or ``https://api.example.com``) must name its
    host, and its port if it gives one.
    """
    given, registered = urlsplit(source), urlsplit(events_url)
    try:
        port = given.port
        registered_port = registered.port or {"http": 80, "https": 443}.get(registered.scheme)
    except ValueError:
        return False
    return (
        given.hostname is not None
        and given.hostname == registered.hostname
        and (port is None or port == registered_port)
    )


def event_bytes(
    *, kind: str, event_id: uuid.UUID, source: str, time: dt.datetime, data: dict[str, Any]
) -> bytes:
    """A CloudEvent in its JSON form, canonical (RFC 8785) so its SHA-256 is reproducible."""
    return rfc8785.dumps(
        {
            "type": kind,
            "specversion": SPEC_VERSION,
            "id": str(event_id),
            "source": source,
            "time": time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "datacontenttype": "application/json",
            "data": data,
        }
    )
