"""Append events to the audit log, inside the caller's transaction.

The leaf hash follows RFC 6962 §2.1: ``SHA-256(0x00 || data)`` where ``data`` is the
canonical JSON (RFC 8785) of the event. Indices are gapless: appends are serialised by a
transaction-scoped advisory lock on PostgreSQL (SQLite serialises writers itself).
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.models import AuditEvent

_LOCK_KEY = 0x434D_4155  # "CMAU": the audit-log append lock


def leaf_hash(data: bytes) -> str:
    return hashlib.sha256(b"\x00" + data).hexdigest()


def audit_append(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any] | None = None,
    evidence_sha256: str = "",
) -> AuditEvent:
    """Append one event. Must run inside ``transaction.atomic()`` with the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_append must run in the transaction of the change it records")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = AuditEvent.objects.aggregate(m=Max("index"))["m"]
    index = 0 if last is None else last + 1
    created_at = timezone.now()
    data = rfc8785.dumps(
        {
            "index": index,
            "time": created_at.isoformat(),
            "actor": getattr(actor, "username", None),
            "action": action,
            "object": {"type": object_type, "id": str(object_id)},
            "evidence_sha256": evidence_sha256 or None,
            "payload": payload or {},
        }
    )
    return AuditEvent.objects.create(
        index=index,
        created_at=created_at,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        evidence_sha256=evidence_sha256,
        data=data,
        leaf_hash=leaf_hash(data),
    )
