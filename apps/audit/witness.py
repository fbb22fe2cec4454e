"""This instance as a C2SP tlog-witness of other members' logs (docs/integrity.md §4).

``CM_WITNESS_LOGS`` names the logs it follows: their verifier keys
(``<origin>+<key ID>+<base64(0x01 || key)>``, separated by commas or whitespace); the key's
name is the log's origin. For each, the latest checkpoint cosigned is kept in
:class:`~apps.audit.models.WitnessedLog`. A new checkpoint is cosigned only when it is
signed by the log's configured key and a consistency proof from the stored one verifies.
Every refusal of a checkpoint that the log did sign is appended to this instance's own
audit log with the refused note: a split view becomes evidence.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from apps.audit.models import WitnessedLog
from apps.audit.services import audit_append
from apps.audit.signing import witness_signing_key
from verifier import merkle
from verifier.errors import FormatError, VerifierError
from verifier.note import (
    ALG_ED25519,
    NoteKey,
    check_key_name,
    cosign,
    cosignature_key,
    parse_add_checkpoint,
    parse_checkpoint_text,
    parse_note,
    parse_vkey,
    raw_public_key,
    verify_note_signature,
)

SIZE_CONTENT_TYPE = "text/x.tlog.size"


def split_config(raw: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", raw or "") if item]


@cache
def _logs(raw: str) -> dict[str, NoteKey]:
    logs: dict[str, NoteKey] = {}
    for item in split_config(raw):
        try:
            key = parse_vkey(item, alg=ALG_ED25519)
        except FormatError as exc:
            raise ImproperlyConfigured(f"CM_WITNESS_LOGS: {exc}") from None
        logs[key.name] = key
    return logs


def witnessed_logs() -> dict[str, NoteKey]:
    """The followed logs by origin, from CM_WITNESS_LOGS."""
    return _logs(settings.WITNESS_LOGS)


def witness_key() -> NoteKey:
    """This witness's cosignature/v1 verifier key: give its ``vkey`` to the logs and
    auditors that rely on this witness."""
    name = check_key_name(settings.WITNESS_NAME)
    return cosignature_key(name, raw_public_key(witness_signing_key()))


@dataclass
class WitnessAnswer:
    """What the HTTP view answers: status, content type and body (tlog-witness.md)."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    reason: str = ""
    audited: bool = field(default=False)


def _refuse(status: int, reason: str) -> WitnessAnswer:
    return WitnessAnswer(status, reason + "\n", reason=reason)


def witness_add_checkpoint(*, body: bytes) -> WitnessAnswer:
    """Handle one ``POST /witness/add-checkpoint`` body (tlog-witness.md).

    400 malformed, 404 unknown origin, 403 no valid signature by the log's key, 409 the
    old size is not the size last cosigned (body: that size, ``text/x.tlog.size``) or the
    same size with another root (a fork), 400 a checkpoint smaller than the old size, 422
    the consistency proof fails; 200 with the cosignature line otherwise.
    """
    try:
        request = parse_add_checkpoint(body)
        note = parse_note(request.note)
        checkpoint = parse_checkpoint_text(note.text)
    except VerifierError as exc:
        return _refuse(400, f"malformed request: {exc}")
    key = witnessed_logs().get(checkpoint.origin)
    if key is None:
        return _refuse(404, f"unknown log origin {checkpoint.origin!r}")
    try:
        verify_note_signature(note, key)
    except VerifierError as exc:
        return _refuse(403, f"not signed by the key of {checkpoint.origin}: {exc}")

    WitnessedLog.objects.get_or_create(origin=checkpoint.origin)
    with transaction.atomic():
        state = WitnessedLog.objects.select_for_update().get(origin=checkpoint.origin)
        answer = _decide(state, request.old_size, request.proof, checkpoint)
        if answer is None:
            # Compare-and-swap on the stored size: with the row lock it cannot miss, and
            # it keeps the state from forking even if the lock were ever dropped.
            swapped = WitnessedLog.objects.filter(pk=state.pk, tree_size=state.tree_size).update(
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash.hex(),
                note=note.render(),
            )
            if swapped != 1:
                raise RuntimeError(f"the witness state of {checkpoint.origin} moved under a lock")
            private_key = witness_signing_key()
            line = cosign(private_key, settings.WITNESS_NAME, note.text, int(time.time())).line
            audit_append(
                actor=None,
                action="witness.cosign",
                object_type="witnessed_log",
                object_id=checkpoint.origin,
                payload={
                    "old_size": state.tree_size,
                    "tree_size": checkpoint.tree_size,
                    "root_hash": checkpoint.root_hash.hex(),
                },
            )
            return WitnessAnswer(200, line)
        audit_append(
            actor=None,
            action="witness.refuse",
            object_type="witnessed_log",
            object_id=checkpoint.origin,
            payload={
                "status": answer.status,
                "reason": answer.reason,
                "old_size": request.old_size,
                "cosigned_size": state.tree_size,
                "cosigned_root_hash": state.root_hash,
                "tree_size": checkpoint.tree_size,
                "root_hash": checkpoint.root_hash.hex(),
                "note": note.render(),  # signed by the log: the evidence of a split view
            },
        )
        answer.audited = True
        return answer


def _decide(state: WitnessedLog, old: int, proof: list[bytes], checkpoint) -> WitnessAnswer | None:
    """None to cosign, else the refusal; the checks and their order of tlog-witness.md."""
    if old != state.tree_size:
        answer = WitnessAnswer(
            409,
            f"{state.tree_size}\n",
            SIZE_CONTENT_TYPE,
            reason=f"old size {old} is not the size last cosigned, {state.tree_size}",
        )
        return answer
    if old > checkpoint.tree_size:
        return _refuse(400, f"the checkpoint's size {checkpoint.tree_size} is below old {old}")
    if old == checkpoint.tree_size:
        if old and checkpoint.root_hash.hex() != state.root_hash:
            return _refuse(
                409,
                f"a different root at the cosigned size {old}: the log forked "
                f"(cosigned {state.root_hash}, now {checkpoint.root_hash.hex()})",
            )
        if proof:
            return _refuse(422, "the proof must be empty when the size did not change")
        return None
    if old == 0:
        if proof:
            return _refuse(422, "the proof must be empty from size 0")
        return None
    try:
        merkle.verify_consistency(
            old, checkpoint.tree_size, bytes.fromhex(state.root_hash), checkpoint.root_hash, proof
        )
    except VerifierError as exc:
        return _refuse(
            422, f"no consistency from the cosigned size {old} to {checkpoint.tree_size}: {exc}"
        )
    return None
