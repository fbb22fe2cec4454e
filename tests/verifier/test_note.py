"""Signed notes, cosignature/v1 and the add-checkpoint body (verifier.note).

The Ed25519 note vector is the Go module's own example, golang.org/x/mod/sumdb/note
``example_test.go`` (ExampleSign, ExampleOpen): key PeterNeumann, its seed in the
private key ``PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK…`` (after the algorithm byte 0x01)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.errors import FormatError, VerificationError
from verifier.note import (
    ALG_COSIGNATURE_V1,
    Note,
    add_checkpoint_body,
    cosign,
    cosignature_key,
    cosigners,
    parse_add_checkpoint,
    parse_checkpoint_text,
    parse_note,
    parse_vkey,
    raw_public_key,
    sign_note_text,
    verify_cosignature,
    verify_note_signature,
)

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
    "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_it_signs_and_opens_the_go_note_packages_example_byte_for_byte():
    key = parse_vkey(GO_VKEY)
    assert key.key_id.hex() == "c74f20a3" and key.vkey == GO_VKEY
    signed = Note(
        GO_TEXT,
        (sign_note_text(Ed25519PrivateKey.from_private_bytes(GO_SEED), "PeterNeumann", GO_TEXT),),
    )
    assert signed.render() == GO_NOTE
    verify_note_signature(parse_note(GO_NOTE), key)
    with pytest.raises(VerificationError):
        verify_note_signature(parse_note(GO_NOTE.replace("answer", "Answer")), key)


def test_a_cosignature_has_the_spec_layout_and_verifies_only_on_its_text():
    seed = bytes(range(32))
    private = Ed25519PrivateKey.from_private_bytes(seed)
    text = "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    sig = cosign(private, "witness.example", text, 1679315147)
    key = cosignature_key("witness.example", raw_public_key(private))
    # Key ID: SHA-256("witness.example" || "\n" || 0x04 || public key)[:4] (tlog-cosignature).
    want_id = hashlib.sha256(b"witness.example\n\x04" + raw_public_key(private)).digest()[:4]
    assert key.alg == ALG_COSIGNATURE_V1 and sig.key_id == want_id
    assert sig.signature[:8] == (1679315147).to_bytes(8, "big") and len(sig.signature) == 72
    private.public_key().verify(
        sig.signature[8:], b"cosignature/v1\ntime 1679315147\n" + text.encode()
    )
    assert verify_cosignature(key, text, sig) == 1679315147
    with pytest.raises(VerificationError):
        verify_cosignature(key, text.replace("20852163", "20852164"), sig)
    note = Note(text, (sig,))
    other = cosignature_key("other.example", raw_public_key(private))
    assert cosigners(note, [key, other, key]) == ["witness.example"]


def test_a_vkey_whose_base64_holds_a_plus_sign_is_read():
    key = parse_vkey(
        "member-b.test/audit-log+4bd1e5c9+AfktlKSjIV8Cjz3eEf7nMEahu+M0DBDnNrlui8KzeKK0"
    )
    assert key.name == "member-b.test/audit-log"
    with pytest.raises(FormatError, match="key ID"):
        parse_vkey("member-b.test/audit-log+4bd1e5c8+AfktlKSjIV8Cjz3eEf7nMEahu+M0DBDnNrlui8KzeKK0")


def test_the_add_checkpoint_body_round_trips_and_malformed_bodies_are_named():
    proof = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    body = add_checkpoint_body(7, proof, GO_NOTE)
    assert body.startswith(b"old 7\n") and body.count(b"\n\n") == 2
    parsed = parse_add_checkpoint(body)
    assert (parsed.old_size, parsed.proof, parsed.note) == (7, proof, GO_NOTE.encode())
    for bad, reason in [
        (b"old 07\n\n" + GO_NOTE.encode(), "old <size>"),
        (b"new 7\n\n", "old <size>"),
        (b"old 7\nAAAA\n\n", "32-byte"),
        (b"old 7" + b"\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\n", "63"),
        (b"old 7\n", "blank line"),
    ]:
        with pytest.raises(FormatError, match=reason):
            parse_add_checkpoint(bad)


def test_a_checkpoint_text_is_origin_size_root_and_extensions():
    root = base64.b64encode(bytes(32)).decode()
    parsed = parse_checkpoint_text(f"o.test/log\n12\n{root}\n2026-12-07T00:00:00Z\n")
    assert (parsed.origin, parsed.tree_size, parsed.extensions) == (
        "o.test/log",
        12,
        ("2026-12-07T00:00:00Z",),
    )
    for bad in (f"o\n-1\n{root}\n", f"o\n12\n{root[:-4]}\n", f"o\n12\n{root}", "o\n12\n"):
        with pytest.raises(FormatError):
            parse_checkpoint_text(bad)
    with pytest.raises(FormatError, match="control"):
        parse_note(GO_NOTE.replace("answer", "ans\rwer"))
