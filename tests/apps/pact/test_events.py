"""PACT v3 Action Events (``POST /pact/3/events``): conformance cases 12–17 of the WBCSD
pact-conformance-service (``docs/v3-test-cases-expected-results.md``), the answer to a
request posted to the partner's events endpoint by a task, retries, and PublishedEvents.

The partner is a local HTTP server that speaks the spec (tests/apps/pact/partner.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from types import SimpleNamespace

import pytest
from celery import Celery
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.pact import tasks
from apps.pact.mapping import footprint_id
from apps.pact.models import PactAccessToken, ReceivedEvent, SentEvent
from apps.pact.services import pact_client_create
from tests.apps.api.helpers import ENGINE_CASES, record, record_every_type
from tests.apps.pact.helpers import check, token
from tests.apps.pact.partner import CLIENT_ID, CLIENT_SECRET, TOKEN, PartnerServer

pytestmark = pytest.mark.services

CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
FULFILLED = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
REJECTED = "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
PUBLISHED = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
CLOUDEVENTS = "application/cloudevents+json; charset=UTF-8"
DEFAULT_PRODUCT = "urn:pact:carbon-manifest:product-id:cn:72081000:origin:CN"
#: A footprint id as PublishedEvent carries them (PACT v3: ``pfIds`` items ``format: uuid``);
#: the one the conformance suite's case 15 sends.
PF_ID = "3a6c14a7-4deb-498a-b5ea-16ce2535b576"


@pytest.fixture
def partner():
    with PartnerServer() as running:
        yield running


@pytest.fixture
def exchange(postgres, partner):
    """A data recipient registered with its events endpoint, its bearer token, estimates
    of every type."""
    client, secret = pact_client_create(
        name="Partner ministry",
        events_url=partner.events_url,
        events_client_id=CLIENT_ID,
        events_client_secret=CLIENT_SECRET,
    )
    return SimpleNamespace(
        client=client,
        bearer=token(Client(), client.client_id, secret),
        estimates=record_every_type(),
        partner=partner,
    )


def event(kind: str, data: dict, *, source: str, event_id: str = "req-1", **extra) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "time": "2026-11-29T10:30:00Z",
        "type": kind,
        "data": data,
        **extra,
    }


def post(bearer: str | None, body, content_type: str = CLOUDEVENTS, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post("/pact/3/events", payload, content_type=content_type, **headers, **extra)


def actions(prefix: str = "pact.event.") -> list[str]:
    rows = AuditEvent.objects.filter(action__startswith=prefix).order_by("index")
    return list(rows.values_list("action", flat=True))


def test_a_request_is_accepted_then_fulfilled_at_the_partner_endpoint(exchange):  # cases 12, 13
    partner = exchange.partner
    request = event(
        CREATED,
        {"productId": [DEFAULT_PRODUCT], "comment": "Please send PCF data for this year."},
        source=f"//{partner.host}:{partner.port}/partner/3/events",
    )
    response = post(exchange.bearer, request)
    assert response.status_code == 200, response.content
    assert response.content == b""
    stored = ReceivedEvent.objects.get()
    assert (stored.type, stored.event_id, stored.data) == (CREATED, "req-1", request["data"])

    # The task answered at the registered endpoint, authenticated the spec's way.
    (answer,) = partner.received
    assert answer.path == "/partner/3/events"
    assert answer.headers["Content-Type"] == CLOUDEVENTS
    assert answer.headers["Authorization"] == f"Bearer {TOKEN}" and partner.tokens_issued == 1
    document = answer.event
    check(document, "RequestFulfilledEvent")
    assert document["type"] == FULFILLED
    assert document["source"] == "http://testserver/pact/3/events"
    assert document["data"]["requestEventId"] == "req-1"
    (footprint,) = document["data"]["pfs"]
    estimate = exchange.estimates["cbam.default"]
    assert footprint["id"] == footprint_id(estimate)
    assert footprint["productIds"] == [DEFAULT_PRODUCT]
    assert f"http://testserver/api/v1/estimates/{estimate.pk}/trace" in footprint["comment"]

    sent = SentEvent.objects.get()
    assert (sent.status, sent.attempts, sent.request_id) == ("delivered", 1, stored.pk)
    assert str(sent.event_id) == document["id"] and sent.body.encode() == answer.body
    assert actions() == ["pact.event.receive", "pact.event.create", "pact.event.delivered"]
    created = AuditEvent.objects.get(action="pact.event.create")
    assert created.evidence_sha256 == hashlib.sha256(answer.body).hexdigest()
    received = AuditEvent.objects.get(action="pact.event.receive")
    assert received.evidence_sha256 == hashlib.sha256(json.dumps(request).encode()).hexdigest()


def test_the_criteria_of_a_request_are_those_of_list_footprints(exchange):
    partner = exchange.partner
    requests = {
        "by-geography": {"geography": ["cn"], "status": "active"},
        "by-classification": {"classification": ["urn:pact:productclassification:cn:7208"]},
        # The v2 fragment that the conformance suite's case 12 still documents.
        "v2-fragment": {"pf": {"productIds": [DEFAULT_PRODUCT]}, "comment": "This year."},
        "valid-on": {"validOn": "2026-06-01T00:00:00Z", "companyId": ["urn:other:company"]},
        # As ListFootprints (conformance case 37): a status neither Active nor Deprecated
        # names no footprint, so the request is accepted and answered with none.
        "bogus-status": {"status": "BogusStatus"},
    }
    for event_id, data in requests.items():
        response = post(
            exchange.bearer, event(CREATED, data, source=partner.origin, event_id=event_id)
        )
        assert response.status_code == 200, (event_id, response.content)
    answers = {e.event["data"]["requestEventId"]: e.event for e in partner.received}
    ids = {k: {pf["id"] for pf in a["data"].get("pfs", [])} for k, a in answers.items()}
    default = footprint_id(exchange.estimates["cbam.default"])
    installation = footprint_id(exchange.estimates["cbam.installation"])
    assert ids["by-geography"] == ids["v2-fragment"] == {default}
    assert ids["by-classification"] == {default, installation}
    # No footprint of another company: the request is rejected, in the spec's Error format.
    for rejected in (answers["valid-on"], answers["bogus-status"]):
        check(rejected, "RequestRejectedEvent")
        assert rejected["data"]["error"]["code"] == "NotFound"
    for answer in answers.values():
        check(answer, answer["type"].split(".")[-2])


def test_a_request_is_answered_once_however_often_it_arrives_or_runs(exchange):
    partner, body = exchange.partner, event(CREATED, {"geography": ["IN"]}, source="//127.0.0.1")
    for _ in range(2):  # a redelivered event (same source and id) is the same event
        assert post(exchange.bearer, body).status_code == 200
    request = ReceivedEvent.objects.get()
    # Both tasks again, as a second delivery of their messages would run them.
    tasks.pact_request_answer_task.apply(args=[request.pk])
    tasks.pact_event_deliver_task.apply(args=[SentEvent.objects.get().pk])
    tasks.pact_deliver_due_task.apply()
    (answer,) = partner.received
    check(answer.event, "RequestFulfilledEvent")
    assert len(answer.event["data"]["pfs"]) == 6  # every estimate of origin IN
    assert SentEvent.objects.count() == 1
    assert actions() == ["pact.event.receive", "pact.event.create", "pact.event.delivered"]


def test_an_unreachable_partner_is_retried_with_backoff_then_abandoned(exchange):
    partner = exchange.partner
    partner.failures = [503, 503]
    assert post(exchange.bearer, event(CREATED, {}, source=partner.origin)).status_code == 200
    sent = SentEvent.objects.get()
    assert (sent.status, sent.attempts) == ("pending", 1)
    assert "HTTP 503" in sent.last_error
    assert sent.next_attempt_at - sent.last_attempt_at == dt.timedelta(seconds=30)
    assert tasks.pact_deliver_due_task.apply().get() == 0  # not due yet
    for attempts, delay in ((2, 60), (3, None)):
        SentEvent.objects.update(next_attempt_at=timezone.now())
        assert tasks.pact_deliver_due_task.apply().get() == 1
        sent.refresh_from_db()
        assert sent.attempts == attempts
        if delay:
            assert sent.next_attempt_at - sent.last_attempt_at == dt.timedelta(seconds=delay)
    assert sent.status == "delivered" and sent.last_error == ""
    assert len(partner.received) == 3
    assert {r.body for r in partner.received} == {sent.body.encode()}  # the same event each time
    check(partner.received[-1].event, "RequestFulfilledEvent")  # no criteria: every footprint

    # A partner down for 72 hours: the event is given up, and the log says so.
    partner.failures = [500]
    assert (
        post(exchange.bearer, event(CREATED, {}, source=partner.origin, event_id="r2")).status_code
        == 200
    )
    stale = SentEvent.objects.get(request__event_id="r2")
    SentEvent.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=72), next_attempt_at=timezone.now()
    )
    partner.failures = [500]
    assert tasks.pact_event_deliver_task.apply(args=[stale.pk]).get() == "abandoned"
    assert actions()[-1] == "pact.event.abandoned"
    assert tasks.pact_deliver_due_task.apply().get() == 0


#: A raw body, or changes to a valid PublishedEvent (None removes the attribute).
BAD_EVENTS = {
    "not JSON": "{not json",
    "a list": "[]",
    "no specversion": {"specversion": None},
    "specversion 0.3": {"specversion": "0.3"},
    "no id": {"id": None},
    "empty id": {"id": ""},
    "no source": {"source": None},
    "a source with spaces": {"source": "not a uri"},
    "no time": {"time": None},
    "a time without a zone": {"time": "2026-11-29T10:30:00"},
    "a time that is no time": {"time": "yesterday"},
    "data not an object": {"data": ["pfIds"]},
    "empty pfIds": {"data": {"pfIds": []}},
    "pfIds not strings": {"data": {"pfIds": [1]}},
    "xml data": {"datacontenttype": "application/xml"},
    "a criterion not a list": {"type": CREATED, "data": {"productId": DEFAULT_PRODUCT}},
    "a bad validOn": {"type": CREATED, "data": {"validOn": "2026-13-01T00:00:00Z"}},
    "a status not text": {"type": CREATED, "data": {"status": 1}},
    # Conformance case 40: a pfId that is a URN, not a UUID, is a malformed event.
    "a pfId that is a URN": {"data": {"pfIds": ["urn:gtin:4712345060507"]}},
    "a pfId UUID without hyphens": {"data": {"pfIds": [PF_ID.replace("-", "")]}},
    "a pfId UUID with a tail": {"data": {"pfIds": [PF_ID + "0"]}},
    "a second pfId not a UUID": {"data": {"pfIds": [PF_ID, "a"]}},
    "a comment not text": {"type": CREATED, "data": {"comment": 42}},
    "fulfilled with no pfs": {"type": FULFILLED, "data": {"requestEventId": "r", "pfs": []}},
    "fulfilled with no request id": {"type": FULFILLED, "data": {"pfs": [{"id": "x"}]}},
    "rejected with no error": {"type": REJECTED, "data": {"requestEventId": "r"}},
    "an oversized id": {"id": "x" * 256},
}


def test_malformed_events_are_refused_in_the_spec_error_format(exchange):
    source = exchange.partner.origin
    for name, change in BAD_EVENTS.items():
        body = change
        if isinstance(change, dict):
            body = {**event(PUBLISHED, {"pfIds": [PF_ID]}, source=source), **change}
            body = {k: v for k, v in body.items() if v is not None}
        response = post(exchange.bearer, body)
        assert response.status_code == 400, (name, response.content)
        check(response.json(), "Error")
        assert response.json()["code"] == "BadRequest", name
    unknown = post(exchange.bearer, event("org.example.Unknown.1", {}, source=source))
    assert unknown.status_code == 400 and unknown.json()["code"] == "NotImplemented"
    # Structured mode only: the media type of a CloudEvent.
    good = event(PUBLISHED, {"pfIds": [PF_ID]}, source=source)
    wrong_type = post(exchange.bearer, good, content_type="application/json")
    assert wrong_type.status_code == 400 and "cloudevents" in wrong_type.json()["message"]
    assert ReceivedEvent.objects.count() == 0 and not exchange.partner.received
    assert post(exchange.bearer, good).status_code == 200


def test_tokens_and_transport_are_checked_as_for_footprints(exchange, settings):  # 16, 17
    body = event(PUBLISHED, {"pfIds": [PF_ID]}, source="https://webhook.example.com")
    for bearer in ("invalid-access-token", None):
        response = post(bearer, body)
        assert response.status_code == 400 and response.json()["code"] == "BadRequest"
        check(response.json(), "Error")
    settings.PACT_REQUIRE_HTTPS = True
    refused = post(exchange.bearer, body)
    assert refused.status_code == 403 and "data" not in refused.json()
    assert post(exchange.bearer, body, secure=True).status_code == 200
    settings.PACT_REQUIRE_HTTPS = False
    PactAccessToken.objects.update(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    expired = post(exchange.bearer, {**body, "id": "another"})
    assert expired.status_code == 401 and expired.json()["code"] == "TokenExpired"
    assert ReceivedEvent.objects.count() == 1


def test_a_request_that_could_not_be_answered_is_refused_at_once(exchange):
    partner = exchange.partner
    # A source naming another host: we would answer only at the registered endpoint.
    elsewhere = post(exchange.bearer, event(CREATED, {}, source="https://elsewhere.example"))
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "AccessDenied"
    other_port = post(exchange.bearer, event(CREATED, {}, source=f"//{partner.host}:1/3/events"))
    assert other_port.status_code == 403
    # A client with no events endpoint can notify us, but not ask for an answer.
    client, secret = pact_client_create(name="No endpoint")
    bearer = token(Client(), client.client_id, secret)
    assert post(bearer, event(CREATED, {}, source=partner.origin)).status_code == 403
    assert (
        post(bearer, event(PUBLISHED, {"pfIds": [PF_ID]}, source=partner.origin)).status_code == 200
    )
    assert ReceivedEvent.objects.get().type == PUBLISHED and not partner.received


def test_events_from_a_data_owner_are_accepted_and_kept(exchange):  # cases 13, 14, 15
    source = "https://webhook.example.com"
    footprint = {"id": "b1f8c0d2-7c4e-4e67-9a9c-2e4c12345678", "productIds": ["urn:gtin:1"]}
    bodies = [
        event(
            FULFILLED,
            {"requestEventId": "test-run-id-12345", "pfs": [footprint]},
            source=source,
            event_id="e13",
        ),
        event(
            REJECTED,
            {
                "requestEventId": "test-run-id-12345",
                "error": {"code": "NotFound", "message": "none"},
            },
            source=source,
            event_id="e14",
        ),
        event(PUBLISHED, {"pfIds": [PF_ID]}, source=source, event_id="e15"),
    ]
    for body in bodies:
        response = post(exchange.bearer, body)
        assert response.status_code == 200 and response.content == b"", response.content
    kept = ReceivedEvent.objects.order_by("pk")
    assert [(e.type, e.event_id, e.data) for e in kept] == [
        (b["type"], b["id"], b["data"]) for b in bodies
    ]
    assert actions() == ["pact.event.receive"] * 3
    assert not SentEvent.objects.exists() and not exchange.partner.received


def test_changed_footprints_are_published_to_partners(exchange, monkeypatch):
    monkeypatch.delenv("CM_PUBLIC_URL", raising=False)
    partner = exchange.partner
    idle, _ = pact_client_create(name="Reads only")  # no events endpoint: told nothing
    assert tasks.pact_publish_task.apply().get() == 1
    (published,) = partner.received
    check(published.event, "PublishedEvent")
    # The estimates made since the partner registered, announced by id.
    assert sorted(published.event["data"]["pfIds"]) == sorted(
        footprint_id(e) for e in exchange.estimates.values()
    )
    assert published.event["source"] == "http://127.0.0.1:8000/pact/3/events"
    assert tasks.pact_publish_task.apply().get() == 0  # nothing new

    # A restatement: the new version, and the old one that it deprecates, are announced.
    case, cn_code, tier = ENGINE_CASES["cbam.installation"]
    old = exchange.estimates["cbam.installation"]
    restated = {**case, "good": {"cn_code": "7208", "activity_level_t": 1200}}
    new = record(restated, cn_code=cn_code, tier=tier, subject_key=old.subject_key)
    assert tasks.pact_publish_task.apply().get() == 1
    announced = partner.received[-1].event["data"]["pfIds"]
    assert announced == [footprint_id(old), footprint_id(new)]
    http = Client()
    for pf_id, status in zip(announced, ("Deprecated", "Active"), strict=True):
        got = http.get(
            f"/pact/3/footprints/{pf_id}", HTTP_AUTHORIZATION=f"Bearer {exchange.bearer}"
        )
        assert got.json()["data"]["status"] == status
    assert not SentEvent.objects.filter(client=idle).exists()
    assert actions().count("pact.event.delivered") == 2


@pytest.mark.worker
def test_a_real_worker_answers_a_request_once(
    exchange, celery_worker_process, service_env, monkeypatch
):
    """The request is queued on Redis; a ``celery worker`` process answers it and posts the
    answer, and the same task delivered three times posts it once."""
    # Not the current app: the other tests' tasks must keep running in-process.
    sender = Celery(broker=service_env["CELERY_BROKER_URL"], set_as_current=False)

    def enqueue(pk: int) -> None:
        sender.send_task("pact.request_answer", args=[pk], queue="carbon-manifest")

    monkeypatch.setattr(tasks, "pact_request_answer_task", SimpleNamespace(delay=enqueue))
    body = event(CREATED, {"productId": [DEFAULT_PRODUCT]}, source=exchange.partner.origin)
    assert post(exchange.bearer, body).status_code == 200
    request = ReceivedEvent.objects.get()
    enqueue(request.pk)
    enqueue(request.pk)
    log = celery_worker_process.log
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.count("pact.request_answer") >= 6 and "pact.deliver" in text:
            if SentEvent.objects.filter(status="delivered").exists():
                break
        time.sleep(0.3)
    (answer,) = exchange.partner.received
    check(answer.event, "RequestFulfilledEvent")
    assert [pf["productIds"] for pf in answer.event["data"]["pfs"]] == [[DEFAULT_PRODUCT]]
    assert SentEvent.objects.get().status == "delivered"
    sender.close()


def test_a_clients_event_rate_and_quota_are_limited(exchange, settings):
    """Each stored event appends to the audit log, which is never pruned: a client may store
    at most PACT_EVENTS_PER_MINUTE events a minute and PACT_EVENTS_PER_DAY a day, then gets
    429 (RFC 6585 §4) with Retry-After; a redelivery stores nothing and is not counted."""
    settings.PACT_EVENTS_PER_MINUTE, settings.PACT_EVENTS_PER_DAY = 3, 5
    source = exchange.partner.origin

    def publish(bearer: str, number: int):
        return post(bearer, event(PUBLISHED, {"pfIds": [PF_ID]}, source=source, event_id=number))

    assert [publish(exchange.bearer, str(n)).status_code for n in range(3)] == [200] * 3
    refused = publish(exchange.bearer, "3")
    assert refused.status_code == 429, refused.content
    check(refused.json(), "Error")
    assert "3 events per minute" in refused.json()["message"]
    # The oldest of the three leaves the minute window at most 60 s from now.
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert publish(exchange.bearer, "0").status_code == 200  # a redelivery of a kept event
    # Another client has an allowance of its own.
    other, secret = pact_client_create(name="Other partner")
    assert publish(token(Client(), other.client_id, secret), "3").status_code == 200
    assert ReceivedEvent.objects.filter(client=exchange.client).count() == 3
    assert actions() == ["pact.event.receive"] * 4

    # Two minutes later the minute window is free, the day holds 3 of its 5.
    ReceivedEvent.objects.update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert [publish(exchange.bearer, str(n)).status_code for n in (3, 4)] == [200, 200]
    full = publish(exchange.bearer, "5")
    assert full.status_code == 429 and "5 events per day" in full.json()["message"]
    # The 5th most recent event (received 120 s ago) leaves the day window in
    # 86 400 − 120 = 86 280 s (less the few moments the test took).
    assert 86_270 <= int(full["Retry-After"]) <= 86_280
    assert ReceivedEvent.objects.filter(client=exchange.client).count() == 5
