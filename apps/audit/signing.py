"""The Ed25519 keys that sign checkpoints (the log's) and cosignatures (the witness's).

``CM_AUDIT_SIGNING_KEY`` (and ``CM_WITNESS_SIGNING_KEY``, file ``witness_signing_key``)
holds the base64 of the 32-byte private seed (RFC 8032 §5.1.5).
Unset, a key is generated once and kept in ``<CM_VAR_DIR>/audit_signing_key`` (mode 0600),
with a warning in the log: fine for the embedded default, but production should set the
variable (from a secret store) so the key survives the machine and auditors can pin it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

logger = logging.getLogger(__name__)

KEY_ENV = "CM_AUDIT_SIGNING_KEY"
KEY_FILE = "audit_signing_key"
WITNESS_KEY_ENV = "CM_WITNESS_SIGNING_KEY"
WITNESS_KEY_FILE = "witness_signing_key"


def _seed_from_base64(text: str, where: str) -> bytes:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ImproperlyConfigured(f"{where} is not base64") from None
    if len(seed) != 32:
        raise ImproperlyConfigured(f"{where} must be the base64 of 32 bytes, not {len(seed)}")
    return seed


def _seed_from_file(path: Path, env: str, what: str) -> bytes:
    if path.exists():
        return _seed_from_base64(path.read_text(encoding="ascii"), str(path))
    seed = os.urandom(32)
    # Written to a private temporary file, then linked into place: a concurrent process
    # either wins the link or reads the complete key the winner wrote.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(seed).decode("ascii") + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _seed_from_base64(path.read_text(encoding="ascii"), str(path))
    finally:
        tmp.unlink()
    logger.warning(
        "%s is unset: generated a new Ed25519 %s key in %s (mode 0600). "
        "Back it up, or set %s, so signatures stay verifiable with the same public key.",
        env,
        what,
        path,
        env,
    )
    return seed


def _key(env: str, filename: str, what: str) -> Ed25519PrivateKey:
    raw = env_str(env)
    if raw:
        seed = _seed_from_base64(raw, env)
    else:
        path = Path(settings.VAR_DIR) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = _seed_from_file(path, env, what)
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    """The checkpoint signing key, from the environment or the var dir file."""
    return _key(KEY_ENV, KEY_FILE, "audit signing")


def witness_signing_key() -> Ed25519PrivateKey:
    """The key this instance cosigns other members' checkpoints with, as a witness. Kept
    apart from the log's key: a witness key says "I saw this log grow consistently"."""
    return _key(WITNESS_KEY_ENV, WITNESS_KEY_FILE, "witness signing")


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
