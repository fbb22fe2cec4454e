"""Reads of the audit log: history, tree size, roots, proofs, checkpoints, verification.

Roots and proofs are computed on demand from the stored leaf hashes of the first
``tree_size`` events, loaded in one query (``verifier.merkle``, RFC 6962 §2.1). That costs
one pass over ``tree_size`` leaf hashes per call: milliseconds for thousands of events,
about a second per million. Beyond that, cache the hashes of complete power-of-two
subtrees (they never change once full) in a ``MerkleNode(level, index, hash)`` table.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db.models import Max, Q, QuerySet

from apps.audit.models import AuditEvent, Checkpoint
from verifier.checkpoint import TIMESTAMP_FORMAT, checkpoint_body, verify_checkpoint
from verifier.errors import VerifierError
from verifier.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
)
from verifier.note import Note, NoteSignature, ed25519_key, parse_signature_line


class AuditLogError(Exception):
    """The audit log cannot answer: a request out of range, or a damaged log."""


class OutOfRange(AuditLogError):
    """An index or tree size beyond the log; the message names the bound."""


def audit_event_list(*, user) -> QuerySet[AuditEvent]:
    """The events whose data ``user`` may read. Officials, auditors and admins: all. An
    exporter: those attributed to its own organisation, and the public ones (reference
    data); never another organisation's, whose payloads carry its file names and
    disclosed or corrected values, nor a restricted one (a command-line customs ingest
    carries every exporter's lines). Attribution: ``apps.audit.attribution``. Leaf
    hashes, proofs and checkpoints stay open to every signed-in user."""
    events = AuditEvent.objects.all()
    if not user.is_exporter:
        return events
    if not user.organisation_id:
        return events.filter(public=True)
    return events.filter(Q(public=True) | Q(organisation_id=user.organisation_id))


def audit_history(*, object_type: str, object_id: str | int, user=None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all() if user is None else audit_event_list(user=user)
    return events.filter(object_type=object_type, object_id=str(object_id)).order_by("index")


def audit_tree_size() -> int:
    """The number of committed events (indices are gapless from 0)."""
    last = AuditEvent.objects.aggregate(m=Max("index"))["m"]
    return 0 if last is None else last + 1


def audit_leaf_hashes(*, tree_size: int) -> list[bytes]:
    """Leaf hashes of events 0..tree_size-1, in one query."""
    hashes = list(
        AuditEvent.objects.filter(index__lt=tree_size)
        .order_by("index")
        .values_list("leaf_hash", flat=True)
    )
    if len(hashes) != tree_size:
        raise AuditLogError(f"the log holds {len(hashes)} events below index {tree_size}")
    return [bytes.fromhex(h) for h in hashes]


def _check_size(tree_size: int, name: str = "tree_size") -> None:
    size = audit_tree_size()
    if tree_size > size:
        raise OutOfRange(f"{name} {tree_size} exceeds the log's size {size}")


def audit_inclusion_proof(*, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) (RFC 6962 §2.1.1)."""
    if not 0 <= index < tree_size:
        raise OutOfRange(f"index {index} is not below tree_size {tree_size}")
    _check_size(tree_size)
    return inclusion_proof(audit_leaf_hashes(tree_size=tree_size), index)


def audit_consistency_proof(*, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 6962 §2.1.2); empty when first is 0 or equals second."""
    if not 0 <= first <= second:
        raise OutOfRange(f"first {first} is greater than second {second}")
    _check_size(second, "second")
    return consistency_proof(audit_leaf_hashes(tree_size=second), first)


def checkpoint_latest(*, public_key: bytes | None = None) -> Checkpoint | None:
    """The checkpoint of the largest tree, optionally among those signed by ``public_key``."""
    checkpoints = Checkpoint.objects.all()
    if public_key is not None:
        checkpoints = checkpoints.filter(public_key=base64.b64encode(public_key).decode())
    return checkpoints.order_by("-tree_size", "-timestamp").first()


def checkpoint_note(checkpoint: Checkpoint, *, cosigned: bool = True) -> Note:
    """The checkpoint as a C2SP signed note: the signed body, the log's Ed25519 signature
    (key name = origin), then the witnesses' cosignature lines (docs/integrity.md §4)."""
    body = checkpoint_body(
        checkpoint.tree_size,
        bytes.fromhex(checkpoint.root_hash),
        checkpoint.timestamp.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
        checkpoint.origin,
    )
    key = ed25519_key(checkpoint.origin, base64.b64decode(checkpoint.public_key))
    signatures = [NoteSignature(key.name, key.key_id, base64.b64decode(checkpoint.signature))]
    if cosigned:
        lines = checkpoint.cosignatures.order_by("witness").values_list("line", flat=True)
        signatures += [parse_signature_line(line) for line in lines]
    return Note(body.decode(), tuple(signatures))


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as the API serves it and auditors save it (verifier.checkpoint)."""
    return {
        "origin": checkpoint.origin,
        "note": checkpoint_note(checkpoint).render(),
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": checkpoint.timestamp.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
    }


def entry_document(event: AuditEvent) -> dict[str, Any]:
    return {
        "index": event.index,
        "leaf_hash": event.leaf_hash,
        "data": base64.b64encode(bytes(event.data)).decode("ascii"),
    }


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str


def audit_log_verify(*, document: dict[str, Any], public_key: bytes) -> list[Check]:
    """Check the database against a saved checkpoint document.

    (a) its Ed25519 signature with ``public_key``; (b) every stored leaf hash equals
    SHA-256(0x00 || data) of its event, and the root recomputed from the data at the
    checkpoint's size equals the signed root; (c) the latest stored checkpoint signed by
    the same key verifies, and the consistency proof from the saved checkpoint to it,
    generated from the database, verifies (RFC 9162 §2.1.4.2).
    """
    checks: list[Check] = []
    try:
        saved = verify_checkpoint(document, public_key)
    except VerifierError as exc:
        return [Check(False, f"signature: {exc}")]
    checks.append(Check(True, f"signature of the checkpoint at tree size {saved.tree_size}"))

    recomputed: list[bytes] = []
    mismatched: list[int] = []
    rows = AuditEvent.objects.order_by("index").values_list("index", "data", "leaf_hash")
    for expected_index, (index, data, stored) in enumerate(rows.iterator(chunk_size=2000)):
        if index != expected_index:
            gap = f"the log has a gap: index {index} where {expected_index} was expected"
            return [*checks, Check(False, gap)]
        recomputed.append(leaf_hash(bytes(data)))
        if recomputed[-1].hex() != stored:
            mismatched.append(index)
    if mismatched:
        shown = ", ".join(map(str, mismatched[:10])) + (" …" if len(mismatched) > 10 else "")
        checks.append(Check(False, f"leaf hashes differ from their data at index {shown}"))
    else:
        checks.append(Check(True, f"all {len(recomputed)} leaf hashes match their data"))

    if saved.tree_size > len(recomputed):
        return [
            *checks,
            Check(
                False,
                f"the log has {len(recomputed)} events, fewer than the "
                f"checkpoint's {saved.tree_size}",
            ),
        ]
    got = root(recomputed[: saved.tree_size])
    checks.append(
        Check(
            got == saved.root_hash,
            f"root at tree size {saved.tree_size}: recomputed "
            f"{got.hex()}, signed {saved.root_hash.hex()}",
        )
    )

    latest_row = checkpoint_latest(public_key=public_key)
    if latest_row is None or latest_row.tree_size < saved.tree_size:
        return [*checks, Check(False, "no stored checkpoint at or beyond the saved one")]
    try:
        latest = verify_checkpoint(checkpoint_document(latest_row), public_key)
        proof = audit_consistency_proof(first=saved.tree_size, second=latest.tree_size)
        verify_consistency(
            saved.tree_size, latest.tree_size, saved.root_hash, latest.root_hash, proof
        )
    except (VerifierError, AuditLogError) as exc:
        checks.append(Check(False, f"consistency {saved.tree_size} → latest: {exc}"))
    else:
        checks.append(
            Check(
                True,
                f"consistency {saved.tree_size} → {latest.tree_size} "
                f"({len(proof)} hashes) verifies",
            )
        )
    return checks
