"""Merkle tree hashing, proofs and their verification (RFC 6962 §2.1, RFC 9162 §2.1).

Hashes are raw 32-byte SHA-256 digests (``bytes``); a tree is given by its list of leaf
hashes. The generation functions follow the recursive definitions of RFC 6962 §2.1
literally (MTH, PATH, PROOF/SUBPROOF), splitting ``n`` leaves at ``k``, the largest power
of two smaller than ``n``. The verification functions are the iterative algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2, which verify RFC 6962 proofs.

- RFC 6962: https://www.rfc-editor.org/rfc/rfc6962#section-2.1
- RFC 9162: https://www.rfc-editor.org/rfc/rfc9162#section-2.1
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verifier.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 6962 §2.1)


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0)) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over leaf hashes, hi > lo."""
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of the whole list (RFC 6962 §2.1)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) for leaf ``index`` in the tree of all ``leaf_hashes`` (RFC 6962 §2.1.1).

    Returned leaf-to-root, as the RFC's recursion appends the sibling after the sub-path.
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*path(m, lo, lo + k), _mth(leaf_hashes, lo + k, hi)]
        return [*path(m - k, lo + k, hi), _mth(leaf_hashes, lo, lo + k)]

    return path(index, 0, n)


def consistency_proof(leaf_hashes: Sequence[bytes], first_size: int) -> list[bytes]:
    """PROOF(m, D[n]) between the first ``first_size`` leaves and all of them (RFC 6962 §2.1.2).

    Empty when ``first_size`` is 0 or equals the tree size (nothing to prove).
    """
    n = len(leaf_hashes)
    if not 0 <= first_size <= n:
        raise ValueError(f"first size {first_size} is outside 0..{n}")
    if first_size in (0, n):
        return []

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if complete else [_mth(leaf_hashes, lo, hi)]
        k = _split(hi - lo)
        if m <= k:
            return [*subproof(m, lo, lo + k, complete), _mth(leaf_hashes, lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), _mth(leaf_hashes, lo, lo + k)]

    return subproof(first_size, 0, n, True)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is not a {HASH_SIZE}-byte SHA-256 hash")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises ``VerificationError`` naming the failed check.
    """
    _check_hash(leaf_hash, "the leaf hash")
    _check_hash(root, "the root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    if not 0 <= index < tree_size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise VerificationError(
            f"the inclusion proof of leaf {index} gives root {r.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree of ``first_size`` is a prefix of the tree of ``second_size``.

    RFC 9162 §2.1.4.2, plus the trivial cases it leaves to the caller: equal sizes need an
    empty proof and equal roots; an empty first tree needs an empty proof and the empty
    root. Raises ``VerificationError`` naming the failed check.
    """
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    if not 0 <= first_size <= second_size:
        raise VerificationError(f"sizes {first_size} → {second_size} do not grow")
    if first_size == second_size or first_size == 0:
        if proof:
            raise VerificationError("a consistency proof from an empty or equal tree is empty")
        if first_size == 0 and first_root != EMPTY_ROOT:
            raise VerificationError("the first root is not the root of the empty tree")
        if first_size == second_size and first_root != second_root:
            raise VerificationError("equal tree sizes with different roots")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # a power of two: the first root is a node
        path.insert(0, first_root)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise VerificationError(
            f"the consistency proof gives first root {fr.hex()}, expected {first_root.hex()}"
        )
    if sr != second_root:
        raise VerificationError(
            f"the consistency proof gives second root {sr.hex()}, expected {second_root.hex()}"
        )
