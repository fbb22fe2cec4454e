"""Checkpoint signatures: what is signed verifies with the key, and nothing else does."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier import FormatError, VerificationError, checkpoint_body, verify_checkpoint

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def signed(tree_size=8, root=ROOT, timestamp="2026-11-22T06:11:00Z", key=KEY) -> dict:
    return {
        "tree_size": tree_size,
        "root_hash": root.hex(),
        "timestamp": timestamp,
        "signature": base64.b64encode(
            key.sign(checkpoint_body(tree_size, root, timestamp))
        ).decode(),
        "public_key": base64.b64encode(PUBLIC).decode(),
    }


def test_the_signed_body_is_the_documented_note_text():
    assert checkpoint_body(8, ROOT, "2026-11-22T06:11:00Z") == (
        b"carbon-manifest/audit-log\n8\n" + base64.b64encode(ROOT) + b"\n2026-11-22T06:11:00Z\n"
    )


def test_a_signed_checkpoint_verifies_with_its_public_key_in_any_form():
    document = signed()
    assert verify_checkpoint(document, PUBLIC).tree_size == 8
    assert verify_checkpoint(json.dumps(document), document["public_key"]).root_hash == ROOT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tree_size", 9),
        ("root_hash", "00" * 32),
        ("timestamp", "2026-11-22T06:11:01Z"),
        ("signature", base64.b64encode(bytes(64)).decode()),
    ],
)
def test_a_modified_checkpoint_does_not_verify(field, value):
    document = {**signed(), field: value}
    with pytest.raises(VerificationError):
        verify_checkpoint(document, PUBLIC)


def test_another_key_does_not_verify():
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(VerificationError):
        verify_checkpoint(signed(), other)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": "8"},
        {"tree_size": -1},
        {"root_hash": "zz"},
        {"root_hash": "00"},
        {"timestamp": "2026-11-22 06:11"},
        {"signature": "not base64!"},
        {"public_key": base64.b64encode(b"short").decode()},
    ],
)
def test_a_malformed_checkpoint_is_a_format_error(change):
    with pytest.raises(FormatError):
        verify_checkpoint({**signed(), **change}, PUBLIC)


def test_the_verifier_does_not_import_django():
    program = (
        "import sys, verifier, verifier.__main__\n"
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    root = Path(__file__).parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
