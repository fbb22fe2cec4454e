"""Signed checkpoints of the audit log: what is signed, and how to check it.

A checkpoint document (the answer of ``GET /api/v1/audit/checkpoint``) is the JSON object::

    {"tree_size": 1000, "root_hash": "<64 hex>", "timestamp": "2026-11-22T06:11:00Z",
     "signature": "<base64, 64 bytes>", "public_key": "<base64, 32 bytes>"}

The signature is pure Ed25519 (RFC 8032 §5.1) over these UTF-8 bytes, each line ended by
a single ``\\n``::

    <origin, by default carbon-manifest/audit-log>
    <tree_size in decimal>
    <root hash in standard base64, with padding>
    <timestamp exactly as in the document>

``origin`` is optional in the document (``carbon-manifest/audit-log`` when absent): each
member of a coalition names its own log (``CM_AUDIT_LOG_ORIGIN``). The document also
carries ``note``: the same checkpoint as a C2SP signed note, with the witnesses'
cosignatures (``verifier.note``, docs/integrity.md §4).

The first three lines are the body of a transparency-dev checkpoint note (origin, size,
root; https://github.com/transparency-dev/formats/blob/main/log/README.md); the fourth is
an extension line carrying the time, RFC 3339 in UTC to the second. ``public_key`` in the
document is informational: an auditor pins the key they obtained out of band and passes
it to ``verify_checkpoint``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.errors import FormatError, VerificationError
from verifier.merkle import HASH_SIZE

ORIGIN = "carbon-manifest/audit-log"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # RFC 3339, UTC, whole seconds
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FIELDS = ("tree_size", "root_hash", "timestamp", "signature", "public_key")


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    timestamp: str
    signature: bytes
    public_key: bytes
    origin: str = ORIGIN


def checkpoint_body(
    tree_size: int, root_hash: bytes, timestamp: str, origin: str = ORIGIN
) -> bytes:
    """The exact bytes that are signed (see the module docstring): also the text of the
    checkpoint's signed note (``verifier.note``)."""
    root_b64 = base64.b64encode(root_hash).decode("ascii")
    return f"{origin}\n{tree_size}\n{root_b64}\n{timestamp}\n".encode()


def key_id(public_key: bytes) -> str:
    """A short name for a public key: the first 8 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _b64(value: Any, what: str, size: int) -> bytes:
    if isinstance(value, bytes) and len(value) == size:
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise FormatError(f"{what} is not base64") from None
    if len(raw) != size:
        raise FormatError(f"{what} decodes to {len(raw)} bytes, expected {size}")
    return raw


def parse_checkpoint(document: dict[str, Any] | str | bytes) -> Checkpoint:
    """Read a checkpoint document (a dict, or its JSON text) and check its shape."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise FormatError(f"the checkpoint is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FormatError("the checkpoint is not a JSON object")
    missing = [f for f in FIELDS if f not in document]
    if missing:
        raise FormatError(f"the checkpoint lacks {', '.join(missing)}")
    size = document["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise FormatError(f"tree_size {size!r} is not a non-negative integer")
    try:
        root_hash = bytes.fromhex(document["root_hash"])
    except (TypeError, ValueError):
        raise FormatError("root_hash is not hex") from None
    if len(root_hash) != HASH_SIZE:
        raise FormatError(f"root_hash has {len(root_hash)} bytes, expected {HASH_SIZE}")
    timestamp = document["timestamp"]
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise FormatError(f"timestamp {timestamp!r} is not YYYY-MM-DDTHH:MM:SSZ")
    origin = document.get("origin", ORIGIN)
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise FormatError(f"origin {origin!r} is not one line of text")
    return Checkpoint(
        origin=origin,
        tree_size=size,
        root_hash=root_hash,
        timestamp=timestamp,
        signature=_b64(document["signature"], "signature", 64),
        public_key=_b64(document["public_key"], "public_key", 32),
    )


def verify_checkpoint(
    checkpoint_json: dict[str, Any] | str | bytes, public_key: bytes | str
) -> Checkpoint:
    """Check the Ed25519 signature of a checkpoint document with a pinned public key.

    ``public_key`` is the raw 32-byte key or its base64. Returns the parsed checkpoint;
    raises ``VerificationError`` if the signature does not verify with that key.
    """
    checkpoint = parse_checkpoint(checkpoint_json)
    key = _b64(public_key, "the public key", 32)
    body = checkpoint_body(
        checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp, checkpoint.origin
    )
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(checkpoint.signature, body)
    except InvalidSignature:
        raise VerificationError(
            f"the checkpoint signature (tree size {checkpoint.tree_size}) does not verify "
            f"with key {key_id(key)}"
        ) from None
    return checkpoint
