"""PACT data recipients (OAuth2 clients), their access tokens, and the events exchanged.

Only SHA-256 digests of client secrets and access tokens are stored (like
:class:`apps.accounts.models.ApiToken`): a database copy cannot be replayed. The partner's
own credentials for *its* events endpoint (``events_client_secret``) are the exception:
we must present them to post events there, so they are kept as given.
"""

from __future__ import annotations

from django.db import models


class PactClient(models.Model):
    """A data recipient of the PACT API (RFC 6749 §2: a confidential client).

    ``events_url`` is the partner's Action Events endpoint (``…/3/events``): the only place
    our answers to its requests and our PublishedEvents are sent, whatever an event's
    ``source`` says. When the partner's host authenticates callers (it SHOULD), it issued
    us ``events_client_id``/``events_client_secret`` for its ``/auth/token``.
    """

    name = models.CharField(max_length=255)
    client_id = models.CharField(max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    events_url = models.URLField(max_length=1024, blank=True)
    events_token_url = models.URLField(
        max_length=1024, blank=True, help_text="blank: <events URL's host system>/auth/token"
    )
    events_client_id = models.CharField(max_length=255, blank=True)
    events_client_secret = models.CharField(max_length=255, blank=True)
    # Audit-log index up to which changed footprints were announced (PublishedEvent).
    published_through = models.BigIntegerField(default=-1)

    class Meta:
        ordering = ["name"]
        verbose_name = "PACT client"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # DRF treats the authenticated principal as ``request.user``.
    is_authenticated = True
    is_anonymous = False


class PactAccessToken(models.Model):
    """A bearer token from ``/pact/auth/token`` (RFC 6749 §4.4); it expires."""

    client = models.ForeignKey(PactClient, on_delete=models.CASCADE, related_name="tokens")
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.client} until {self.expires_at:%Y-%m-%d %H:%M}"


class ReceivedEvent(models.Model):
    """A CloudEvent a client posted to ``/pact/3/events`` and we accepted (200).

    CloudEvents 1.0 §3.1: ``source`` + ``id`` identify an event, so a redelivery of the
    same event is recognised and stored once.
    """

    client = models.ForeignKey(PactClient, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=255)
    source = models.CharField(max_length=512)
    type = models.CharField(max_length=128)
    time = models.DateTimeField()
    data = models.JSONField()
    # Our own address as the client reached it: the links in an answer's footprints.
    base_url = models.CharField(max_length=1024)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "source", "event_id"], name="pact_received_event_identity"
            )
        ]
        # The event quota counts a client's events of the last minute and day.
        indexes = [models.Index(fields=["client", "received_at"], name="pact_received_quota")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} from {self.client}"


class SentEvent(models.Model):
    """A CloudEvent we send to a client's ``events_url``: the answer to one of its requests
    (RequestFulfilledEvent or RequestRejectedEvent) or a PublishedEvent.

    ``body`` is the exact bytes posted at every attempt (same ``id``, so the partner can
    recognise a repeat). Attempts back off exponentially and stop after 72 hours (PACT v3
    ``RequestFulfilledEvent``: "SHOULD abandon sending the event after 72 hours").
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        ABANDONED = "abandoned"

    client = models.ForeignKey(PactClient, on_delete=models.PROTECT, related_name="sent_events")
    event_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=128)
    body = models.TextField()
    # The request this event answers: at most one answer per request.
    request = models.OneToOneField(
        ReceivedEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="answer"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} to {self.client} ({self.status})"
