"""Writes to the audit log: append events (inside the caller's transaction), sign checkpoints.

The leaf hash follows RFC 6962 §2.1: ``SHA-256(0x00 || data)`` where ``data`` is the
canonical JSON (RFC 8785) of the event. Indices are gapless: appends are serialised by a
transaction-scoped advisory lock on PostgreSQL (SQLite serialises writers itself).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import rfc8785
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.attribution import Attribution, attribute
from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.selectors import (
    AuditLogError,
    audit_leaf_hashes,
    audit_tree_size,
    checkpoint_latest,
)
from apps.audit.signing import public_key_bytes, signing_key
from verifier import merkle
from verifier.checkpoint import TIMESTAMP_FORMAT, checkpoint_body, key_id

_LOCK_KEY = 0x434D_4155  # "CMAU": the audit-log append lock


def leaf_hash(data: bytes) -> str:
    return merkle.leaf_hash(data).hex()


def audit_append(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any] | None = None,
    evidence_sha256: str = "",
    organisation: Any = None,
) -> AuditEvent:
    """Append one event. Must run inside ``transaction.atomic()`` with the change it records.

    The event is attributed to the organisation whose data it carries: ``organisation``
    when given, else as :func:`apps.audit.attribution.attribute` finds it."""
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
        evidence_sha256=evidence_sha256,
        organisation=organisation,
    )
    return audit_append_many(actor=actor, entries=[entry])[0]


@dataclass(frozen=True)
class AuditEntry:
    """One event for :func:`audit_append_many`. ``attribution``, when given, is whose data
    the event carries as the caller already knows it (saves a lookup per event)."""

    action: str
    object_type: str
    object_id: str | int
    payload: dict[str, Any] | None = None
    evidence_sha256: str = ""
    organisation: Any = None
    attribution: Attribution | None = None


def audit_lock() -> None:
    """Take the append lock for the rest of the transaction (PostgreSQL; SQLite serialises
    writers itself). Callers that must check and write under it take it first."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_append must run in the transaction of the change it records")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def audit_append_many(*, actor: Any, entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append events in order, under one lock and in one insert: each gets the index, bytes
    and leaf hash that appending it alone would give. Must run inside the transaction of
    the changes they record."""
    audit_lock()
    if not entries:
        return []
    last = AuditEvent.objects.aggregate(m=Max("index"))["m"]
    first = 0 if last is None else last + 1
    created_at = timezone.now()
    actor_name = getattr(actor, "username", None)
    events = []
    for offset, entry in enumerate(entries):
        index = first + offset
        data = rfc8785.dumps(
            {
                "index": index,
                "time": created_at.isoformat(),
                "actor": actor_name,
                "action": entry.action,
                "object": {"type": entry.object_type, "id": str(entry.object_id)},
                "evidence_sha256": entry.evidence_sha256 or None,
                "payload": entry.payload or {},
            }
        )
        if entry.organisation is not None:
            owner = Attribution(getattr(entry.organisation, "pk", entry.organisation))
        elif entry.attribution is not None:
            owner = entry.attribution
            if owner.organisation_id is None and getattr(actor, "organisation_id", None):
                owner = Attribution(actor.organisation_id)  # as attribute() decides
        else:
            owner = attribute(
                actor=actor, object_type=entry.object_type, object_id=str(entry.object_id)
            )
        events.append(
            AuditEvent(
                organisation_id=owner.organisation_id,
                public=owner.public,
                index=index,
                created_at=created_at,
                actor=actor if getattr(actor, "pk", None) else None,
                action=entry.action,
                object_type=entry.object_type,
                object_id=str(entry.object_id),
                evidence_sha256=entry.evidence_sha256,
                data=data,
                leaf_hash=leaf_hash(data),
            )
        )
    if len(events) == 1:
        events[0].save(force_insert=True)
        return events
    return AuditEvent.objects.bulk_create(events, batch_size=1000)


class CheckpointRefused(AuditLogError):
    """The log does not extend the latest signed checkpoint (rows were removed or
    rewritten past the triggers): nothing more is signed over it."""


def checkpoint_ensure() -> Checkpoint:
    """The checkpoint of the current tree signed with the current key, created if missing.

    Signs ``verifier.checkpoint.checkpoint_body`` (origin, size, base64 root, timestamp)
    with Ed25519. Safe to run twice and concurrently: one row per (tree size, key).

    A log only grows: before signing, the stored leaves must give the root of the latest
    checkpoint signed with this key at its size, or :class:`CheckpointRefused` is raised,
    so a history rewritten by someone who bypassed the triggers is never signed.
    """
    key = signing_key()
    public_key = public_key_bytes(key)
    kid = key_id(public_key)
    # Read before the size: sizes only grow, so a concurrent signer's newer checkpoint
    # cannot look like a checkpoint beyond the log.
    previous = checkpoint_latest(public_key=public_key)
    size = audit_tree_size()
    existing = Checkpoint.objects.filter(tree_size=size, key_id=kid).first()
    if existing is not None:
        return existing
    leaves = audit_leaf_hashes(tree_size=size)
    if previous is not None and (
        previous.tree_size > size
        or merkle.root(leaves[: previous.tree_size]).hex() != previous.root_hash
    ):
        raise CheckpointRefused(
            f"the log ({size} events) does not extend the checkpoint signed at tree size "
            f"{previous.tree_size}: refusing to sign; run verify_audit_log"
        )
    root_hash = merkle.root(leaves)
    timestamp = timezone.now().replace(microsecond=0)
    origin = settings.AUDIT_LOG_ORIGIN
    body = checkpoint_body(size, root_hash, timestamp.strftime(TIMESTAMP_FORMAT), origin)
    signature = key.sign(body)
    checkpoint, _ = Checkpoint.objects.get_or_create(
        tree_size=size,
        key_id=kid,
        defaults={
            "origin": origin,
            "root_hash": root_hash.hex(),
            "timestamp": timestamp,
            "signature": base64.b64encode(signature).decode("ascii"),
            "public_key": base64.b64encode(public_key).decode("ascii"),
        },
    )
    return checkpoint
