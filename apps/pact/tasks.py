"""Thin tasks of the PACT exchange; each is safe to run twice (see the services)."""

from __future__ import annotations

from celery import shared_task

from apps.pact import selectors, services


@shared_task(name="pact.request_answer")
def pact_request_answer_task(received_event_id: int) -> str:
    """Answer a RequestCreatedEvent; its delivery is enqueued when the answer commits."""
    return str(services.pact_request_answer(received_event_id=received_event_id).event_id)


@shared_task(name="pact.deliver")
def pact_event_deliver_task(sent_event_id: int) -> str:
    """One attempt to post an event to its partner; returns the event's status."""
    return services.pact_event_deliver(sent_event_id=sent_event_id)


@shared_task(name="pact.deliver_due")
def pact_deliver_due_task() -> int:
    """Periodic (Celery beat): enqueue every delivery that is due (retries, lost tasks)."""
    due = selectors.sent_events_due()
    for pk in due:
        pact_event_deliver_task.delay(pk)
    return len(due)


@shared_task(name="pact.publish")
def pact_publish_task() -> int:
    """Periodic (Celery beat): announce changed footprints with PublishedEvents."""
    return len(services.pact_footprints_publish())
