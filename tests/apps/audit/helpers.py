"""Helpers of the audit-log tests: tokens, appending events, an independent MTH."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.audit.services import audit_append

# The tests' signing key (CM_AUDIT_SIGNING_KEY, see conftest) and its public key, pinned.
TEST_SEED = bytes(range(32))
PUBLIC_KEY = base64.b64decode("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=")


@pytest.fixture(autouse=True)
def signing_key_env(monkeypatch):
    """Sign with the fixed test key, so no key file is written into var/ (a conftest
    that imports this fixture turns it on for its package)."""
    monkeypatch.setenv("CM_AUDIT_SIGNING_KEY", base64.b64encode(TEST_SEED).decode())


def token_for(username: str) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": "pw-" + username}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


def append_events(count: int, *, seed: int = 0) -> None:
    """Append ``count`` events via ``audit_append`` in shuffled batches of random size,
    each batch in its own transaction."""
    rng = random.Random(seed)
    actions = ["ingest", "extraction", "confirmation", "estimate", "override"]
    specs = [(rng.choice(actions), f"obj-{seed}-{n}") for n in range(count)]
    rng.shuffle(specs)
    while specs:
        size = rng.randint(1, 60)
        batch, specs = specs[:size], specs[size:]
        with transaction.atomic():
            for action, object_id in batch:
                audit_append(
                    actor=None,
                    action=action,
                    object_type="test",
                    object_id=object_id,
                    payload={"n": object_id, "note": "ünïcode ✓"},
                )


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH written out again here, independent of the platform's code."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()
