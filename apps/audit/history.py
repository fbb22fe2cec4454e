"""Audit history of a page's objects, each event marked with whether the latest signed
checkpoint includes it (reads ``apps.audit`` only; rendered by ``_audit_history.html``).

An event of index *i* is included in a checkpoint of tree size *n* when *i* < *n*: the
checkpoint's root commits to leaves 0..n-1 (RFC 6962 §2.1), and anyone can check it with
``GET /api/v1/audit/proof/inclusion?index=i&tree_size=n``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.selectors import audit_event_list, checkpoint_latest


@dataclass(frozen=True)
class HistoryEvent:
    event: AuditEvent
    included: bool


@dataclass(frozen=True)
class History:
    events: list[HistoryEvent]
    checkpoint: Checkpoint | None


def audit_history_of(objects: list[tuple[str, object]], *, limit: int = 200, user=None) -> History:
    """Events of the given (object_type, object_id) pairs, oldest first; with ``user``,
    only those ``user`` may read (``apps.audit.selectors.audit_event_list``: an exporter
    does not see events caused by another organisation's members, whose payloads and
    usernames are that organisation's)."""
    pairs = [(t, str(i)) for t, i in objects if i is not None]
    if not pairs:
        return History(events=[], checkpoint=checkpoint_latest())
    where = Q()
    for object_type, object_id in pairs:
        where |= Q(object_type=object_type, object_id=object_id)
    events = AuditEvent.objects.all() if user is None else audit_event_list(user=user)
    events = list(events.filter(where).select_related("actor").order_by("index")[:limit])
    checkpoint = checkpoint_latest()
    size = checkpoint.tree_size if checkpoint else 0
    return History(
        events=[HistoryEvent(event=e, included=e.index < size) for e in events],
        checkpoint=checkpoint,
    )
