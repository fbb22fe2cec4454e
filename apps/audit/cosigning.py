"""This instance as a log: ask its witnesses to cosign each checkpoint (docs/integrity.md §4).

``CM_WITNESSES`` lists the witnesses as ``<vkey> <URL>`` pairs separated by commas: the
witness's cosignature/v1 verifier key (``<name>+<key ID>+<base64(0x04 || key)>``) and the
URL prefix of its tlog-witness API (``POST <URL>/add-checkpoint``). Each checkpoint is
sent with a consistency proof from the size that witness last cosigned; a 409 answer
with ``text/x.tlog.size`` is resent once from the size the witness says it holds. A
cosignature is stored only after it verifies with the configured key.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max

from apps.audit.models import Checkpoint, Cosignature
from apps.audit.selectors import AuditLogError, audit_consistency_proof, checkpoint_note
from apps.audit.witness import SIZE_CONTENT_TYPE, split_config
from verifier.errors import VerifierError
from verifier.note import (
    ALG_COSIGNATURE_V1,
    Note,
    NoteKey,
    add_checkpoint_body,
    parse_signature_line,
    parse_vkey,
    signature_of,
    verify_cosignature,
)

logger = logging.getLogger(__name__)


class WitnessUnavailable(AuditLogError):
    """The witness could not be reached or answered 5xx: try again later."""


class WitnessRefused(AuditLogError):
    """The witness refused the checkpoint (4xx) or answered what does not verify."""


@dataclass(frozen=True)
class Witness:
    key: NoteKey
    url: str

    @property
    def name(self) -> str:
        return self.key.name


@cache
def _witnesses(raw: str) -> tuple[Witness, ...]:
    witnesses = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        parts = split_config(entry)
        if len(parts) != 2:
            raise ImproperlyConfigured(f"CM_WITNESSES: {entry!r} is not '<vkey> <URL>'")
        try:
            key = parse_vkey(parts[0], alg=ALG_COSIGNATURE_V1)
        except VerifierError as exc:
            raise ImproperlyConfigured(f"CM_WITNESSES: {exc}") from None
        if urllib.parse.urlparse(parts[1]).scheme not in ("http", "https"):
            raise ImproperlyConfigured(f"CM_WITNESSES: {parts[1]!r} is not an http(s) URL")
        witnesses.append(Witness(key, parts[1].rstrip("/")))
    return tuple(witnesses)


def configured_witnesses() -> tuple[Witness, ...]:
    return _witnesses(settings.WITNESSES)


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked in _witnesses)
        url, data=body, method="POST", headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WITNESS_TIMEOUT_S) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), _text(response)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), _text(exc)
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessUnavailable(f"POST {url}: {exc}") from None


def _text(response) -> str:
    return response.read(64 * 1024).decode("utf-8", "replace")


def _last_cosigned_size(checkpoint: Checkpoint, witness: Witness) -> int:
    last = Cosignature.objects.filter(
        witness=witness.name, checkpoint__origin=checkpoint.origin
    ).aggregate(m=Max("checkpoint__tree_size"))["m"]
    return last or 0


def _collect(checkpoint: Checkpoint, witness: Witness) -> Cosignature:
    note = checkpoint_note(checkpoint, cosigned=False)
    url = witness.url + "/add-checkpoint"
    old = _last_cosigned_size(checkpoint, witness)
    for attempt in range(2):
        if old > checkpoint.tree_size:
            raise WitnessRefused(
                f"{witness.name} holds size {old}, beyond checkpoint {checkpoint.tree_size}"
            )
        proof = audit_consistency_proof(first=old, second=checkpoint.tree_size)
        status, content_type, text = _post(url, add_checkpoint_body(old, proof, note.render()))
        if status == 200:
            return _store(checkpoint, witness, note.text, text)
        if status == 409 and content_type.startswith(SIZE_CONTENT_TYPE) and attempt == 0:
            try:
                old = int(text.strip())
            except ValueError:
                raise WitnessRefused(f"{witness.name}: 409 with size {text[:40]!r}") from None
            continue
        if status >= 500 or status == 429:
            raise WitnessUnavailable(f"{witness.name} answered {status}: {text[:300]}")
        raise WitnessRefused(f"{witness.name} answered {status}: {text[:300].strip()}")
    raise WitnessRefused(f"{witness.name} still disagrees on the old size after resending")


def _store(checkpoint: Checkpoint, witness: Witness, text: str, answer: str) -> Cosignature:
    try:
        lines = tuple(parse_signature_line(line) for line in answer.splitlines() if line)
        sig = signature_of(Note(text, lines), witness.key)
        if sig is None:
            raise WitnessRefused(f"{witness.name} answered no cosignature by its key")
        timestamp = verify_cosignature(witness.key, text, sig)
    except VerifierError as exc:
        raise WitnessRefused(f"{witness.name}: {exc}") from None
    cosignature, _ = Cosignature.objects.get_or_create(
        checkpoint=checkpoint,
        witness=witness.name,
        defaults={
            "line": sig.line.rstrip("\n"),
            "timestamp": datetime.fromtimestamp(timestamp, UTC),
        },
    )
    return cosignature


def checkpoint_cosign(*, checkpoint: Checkpoint) -> dict[str, str]:
    """Collect the missing cosignatures of ``checkpoint``; safe to run twice.

    Returns each witness's outcome (``cosigned``, ``already``, ``refused: …``,
    ``superseded``). Raises :class:`WitnessUnavailable` after trying every witness when
    one could not be reached, so the task retries only what is missing.
    """
    outcomes: dict[str, str] = {}
    unavailable: list[str] = []
    for witness in configured_witnesses():
        if Cosignature.objects.filter(checkpoint=checkpoint, witness=witness.name).exists():
            outcomes[witness.name] = "already"
            continue
        if _last_cosigned_size(checkpoint, witness) > checkpoint.tree_size:
            outcomes[witness.name] = "superseded"  # a later checkpoint is already cosigned
            continue
        try:
            _collect(checkpoint, witness)
            outcomes[witness.name] = "cosigned"
        except WitnessRefused as exc:
            logger.error("checkpoint %s: %s", checkpoint.tree_size, exc)
            outcomes[witness.name] = f"refused: {exc}"
        except WitnessUnavailable as exc:
            logger.warning("checkpoint %s: %s", checkpoint.tree_size, exc)
            outcomes[witness.name] = f"unavailable: {exc}"
            unavailable.append(str(exc))
    if unavailable:
        raise WitnessUnavailable("; ".join(unavailable))
    return outcomes
