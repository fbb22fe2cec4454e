"""RFC 6962 trees, proofs and their verification, against the transparency-dev vectors.

Expected values: fixtures/audit/rfc6962_vectors.json (transparency-dev/merkle
proof/verify_test.go and rfc6962/rfc6962_test.go, Apache-2.0; see its README). The
corrupted-proof probes mirror that file's corruptInclusionProof / corruptConsistencyProof.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerificationError, verify_consistency, verify_inclusion
from verifier.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
)

VECTORS = json.loads(
    (Path(__file__).parents[2] / "fixtures/audit/rfc6962_vectors.json").read_text("utf-8")
)
LEAVES = [leaf_hash(bytes.fromhex(d)) for d in VECTORS["leaves_hex"]]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots_hex"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_the_hasher_matches_rfc6962_vectors():
    hasher = VECTORS["hasher"]
    assert EMPTY_ROOT.hex() == root([]).hex() == hasher["empty_tree_root"]
    assert leaf_hash(b"").hex() == hasher["empty_leaf_hash"]
    assert leaf_hash(b"L123456").hex() == hasher["leaf_L123456"]["hash"]
    assert node_hash(b"N123", b"N456").hex() == hasher["node_N123_N456"]["hash"]


@pytest.mark.parametrize("size", range(1, 9))
def test_the_root_of_the_first_n_leaves_is_the_published_one(size):
    assert root(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion"], ids=lambda v: f"{v['index']}@{v['tree_size']}"
)
def test_inclusion_proofs_are_generated_and_verified_as_published(vector):
    index, size, proof = vector["index"], vector["tree_size"], h(vector["proof"])
    assert inclusion_proof(LEAVES[:size], index) == proof
    verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(
    "vector", VECTORS["consistency"], ids=lambda v: f"{v['first']}-{v['second']}"
)
def test_consistency_proofs_are_generated_and_verified_as_published(vector):
    first, second, proof = vector["first"], vector["second"], h(vector["proof"])
    assert consistency_proof(LEAVES[:second], first) == proof
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


def flipped(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ bit]) + out[i][1:]
    return out


def inclusion_probes():
    for v in VECTORS["inclusion"]:
        i, n, proof = v["index"], v["tree_size"], h(v["proof"])
        leaf, r = LEAVES[i], ROOTS[n - 1]
        name = f"{i}@{n}"
        probes = {
            "index - 1": (leaf, i - 1, n, proof, r),
            "index + 1": (leaf, i + 1, n, proof, r),
            "index ^ 2": (leaf, i ^ 2, n, proof, r),
            "size * 2": (leaf, i, n * 2, proof, r),
            "size / 2": (leaf, i, n // 2, proof, r),
            "wrong leaf": (leaf_hash(b"WrongLeaf"), i, n, proof, r),
            "short leaf": (b"WrongLeaf", i, n, proof, r),
            "empty root": (leaf, i, n, proof, EMPTY_ROOT),
            "random root": (leaf, i, n, proof, SOME_HASH),
            "trailing garbage": (leaf, i, n, [*proof, b""], r),
            "trailing root": (leaf, i, n, [*proof, r], r),
            "preceding garbage": (leaf, i, n, [b"", *proof], r),
            "preceding root": (leaf, i, n, [r, *proof], r),
        }
        for k in range(len(proof)):
            probes[f"proof[{k}] bit 3 flipped"] = (leaf, i, n, flipped(proof, k, 8), r)
            probes[f"proof[{k}] last bit flipped"] = (
                leaf,
                i,
                n,
                [*proof[:k], proof[k][:-1] + bytes([proof[k][-1] ^ 1]), *proof[k + 1 :]],
                r,
            )
        if proof:
            probes["removed node"] = (leaf, i, n, proof[:-1], r)
            probes["removed first node"] = (leaf, i, n, proof[1:], r)
        if len(proof) > 1:
            probes["inserted node"] = (leaf, i, n, [proof[0], SOME_HASH, *proof[1:]], r)
        for desc, args in probes.items():
            yield pytest.param(*args, id=f"{name}: {desc}")


@pytest.mark.parametrize(("leaf", "index", "size", "proof", "root_hash"), list(inclusion_probes()))
def test_a_corrupted_inclusion_proof_never_verifies(leaf, index, size, proof, root_hash):
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, size, proof, root_hash)


def consistency_probes():
    for v in VECTORS["consistency"]:
        m, n, proof = v["first"], v["second"], h(v["proof"])
        if not proof:
            continue  # as in the Go test: only non-trivial proofs are corrupted
        r1, r2 = ROOTS[m - 1], ROOTS[n - 1]
        name = f"{m}-{n}"
        probes = {
            "first - 1": (m - 1, n, r1, r2, proof),
            "first + 1": (m + 1, n, r1, r2, proof),
            "first ^ 2": (m ^ 2, n, r1, r2, proof),
            "second * 2": (m, n * 2, r1, r2, proof),
            "second / 2": (m, n // 2, r1, r2, proof),
            "wrong first root": (m, n, SOME_HASH, r2, proof),
            "wrong second root": (m, n, r1, SOME_HASH, proof),
            "short root": (m, n, b"WrongRoot", r2, proof),
            "swapped roots": (m, n, r2, r1, proof),
            "empty proof": (m, n, r1, r2, []),
            "trailing garbage": (m, n, r1, r2, [*proof, b""]),
            "trailing first root": (m, n, r1, r2, [*proof, r1]),
            "trailing second root": (m, n, r1, r2, [*proof, r2]),
            "preceding garbage": (m, n, r1, r2, [b"", *proof]),
            "preceding first root": (m, n, r1, r2, [r1, *proof]),
            "preceding second root": (m, n, r1, r2, [r2, *proof]),
            "preceding proof[0]": (m, n, r1, r2, [proof[0], *proof]),
            "removed last node": (m, n, r1, r2, proof[:-1]),
            "removed first node": (m, n, r1, r2, proof[1:]),
            "inserted node": (m, n, r1, r2, [proof[0], SOME_HASH, *proof[1:]]),
        }
        for k in range(len(proof)):
            probes[f"proof[{k}] bit 4 flipped"] = (m, n, r1, r2, flipped(proof, k, 16))
        for desc, args in probes.items():
            yield pytest.param(*args, id=f"{name}: {desc}")


@pytest.mark.parametrize(("first", "second", "root1", "root2", "proof"), list(consistency_probes()))
def test_a_corrupted_consistency_proof_never_verifies(first, second, root1, root2, proof):
    with pytest.raises(VerificationError):
        verify_consistency(first, second, root1, root2, proof)


def test_trivial_consistency_needs_an_empty_proof_and_matching_roots():
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    verify_consistency(3, 3, ROOTS[2], ROOTS[2], [])
    for args in [
        (3, 3, ROOTS[2], ROOTS[3], []),  # equal sizes, different roots
        (3, 3, ROOTS[2], ROOTS[2], [EMPTY_ROOT]),  # equal sizes, a proof anyway
        (0, 5, ROOTS[0], ROOTS[4], []),  # "empty" tree with a non-empty root
        (4, 3, ROOTS[3], ROOTS[2], []),  # shrinking
        (1, 2, ROOTS[0], ROOTS[1], []),  # growth with no proof
    ]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)


def naive_root(hashes: list[bytes]) -> bytes:
    """An independent MTH: pair up level by level, carrying an odd last node upward."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    level = list(hashes)
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_generated_proof_verifies_for_any_tree_size(n, data):
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    assert root(hashes) == naive_root(hashes)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    verify_inclusion(hashes[index], index, n, inclusion_proof(hashes, index), root(hashes))
    m = data.draw(st.integers(min_value=0, max_value=n))
    verify_consistency(m, n, root(hashes[:m]), root(hashes), consistency_proof(hashes, m))
