"""A log of a thousand events: the signed root is the RFC 6962 root of their data, and
inclusion and consistency proofs from the API verify with the auditor's verifier."""

from __future__ import annotations

import base64
import hashlib
import random
import threading

import pytest
from django.db import connections

from apps.audit.models import AuditEvent
from tests.apps.audit.helpers import PUBLIC_KEY, TEST_SEED, append_events, mth
from verifier import verify_checkpoint, verify_consistency, verify_inclusion
from verifier.checkpoint import parse_checkpoint

pytestmark = pytest.mark.services


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def stored_leaves() -> list[bytes]:
    rows = AuditEvent.objects.order_by("index").values_list("index", "data")
    assert [i for i, _ in rows] == list(range(len(rows))), "indices are gapless"
    return [leaf(bytes(data)) for _, data in rows]


def test_the_test_key_is_the_one_pinned_here():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(TEST_SEED).public_key()
    assert key.public_bytes(Encoding.Raw, PublicFormat.Raw) == PUBLIC_KEY


def appender(seed: int) -> None:
    try:
        append_events(250, seed=seed)
    finally:
        connections.close_all()


def test_a_thousand_events_in_concurrent_batches_give_the_signed_root(api):
    threads = [threading.Thread(target=appender, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    leaves = stored_leaves()
    assert len(leaves) == 1 + 1000  # the auditor's token event, then ours
    response = api.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200
    checkpoint = verify_checkpoint(response.json(), PUBLIC_KEY)
    assert checkpoint.tree_size == len(leaves)
    assert checkpoint.root_hash == mth(leaves)

    for index in random.Random(7).sample(range(len(leaves)), 30):
        entry = api.get(f"/api/v1/audit/entries/{index}").json()
        leaf_hash = leaf(base64.b64decode(entry["data"]))
        assert entry["index"] == index
        assert entry["leaf_hash"] == leaf_hash.hex() == leaves[index].hex()
        answer = api.get(f"/api/v1/audit/proof/inclusion?index={index}&tree_size={len(leaves)}")
        proof = [bytes.fromhex(h) for h in answer.json()["hashes"]]
        verify_inclusion(leaf_hash, index, checkpoint.tree_size, proof, checkpoint.root_hash)


def test_two_checkpoints_are_consistent_and_proofs_hold_at_every_size(api):
    append_events(37, seed=1)
    first = parse_checkpoint(api.get("/api/v1/audit/checkpoint").json())
    append_events(26, seed=2)
    second = parse_checkpoint(api.get("/api/v1/audit/checkpoint").json())
    assert (first.tree_size, second.tree_size) == (38, 64)
    answer = api.get("/api/v1/audit/proof/consistency?first=38&second=64").json()
    proof = [bytes.fromhex(h) for h in answer["hashes"]]
    verify_consistency(38, 64, first.root_hash, second.root_hash, proof)

    leaves = stored_leaves()
    rng = random.Random(3)
    for size in range(1, len(leaves) + 1):
        index, older = rng.randrange(size), rng.randrange(size + 1)
        inclusion = api.get(f"/api/v1/audit/proof/inclusion?index={index}&tree_size={size}")
        verify_inclusion(
            leaves[index],
            index,
            size,
            [bytes.fromhex(h) for h in inclusion.json()["hashes"]],
            mth(leaves[:size]),
        )
        consistency = api.get(f"/api/v1/audit/proof/consistency?first={older}&second={size}")
        verify_consistency(
            older,
            size,
            mth(leaves[:older]),
            mth(leaves[:size]),
            [bytes.fromhex(h) for h in consistency.json()["hashes"]],
        )
