"""C2SP signed notes, checkpoints, ``cosignature/v1`` and the tlog-witness request body.

Pure Python (``hashlib``, ``cryptography`` for Ed25519), shared by the platform and the
auditor's verifier. The byte layouts, written out in docs/integrity.md §4:

- a **signed note** (https://github.com/C2SP/C2SP/blob/main/signed-note.md) is UTF-8 text
  ending in ``\\n``, a blank line, then one line per signature:
  ``— <key name> <base64(4-byte key ID || signature)>\\n`` (U+2014, then a space);
- an **Ed25519 note key** (algorithm 0x01) has key ID
  ``SHA-256(name || "\\n" || 0x01 || public key)[:4]`` and signs the note text itself;
- a **cosignature/v1** key (algorithm 0x04, tlog-cosignature.md) has key ID
  ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``; its signature is the 8-byte
  big-endian UNIX time followed by the 64-byte Ed25519 signature of
  ``"cosignature/v1\\ntime <seconds>\\n" || note text``;
- a **verifier key** ("vkey", the Go ``note`` package's text form) is
  ``<name>+<key ID in hex>+<base64(algorithm byte || 32-byte public key)>``;
- a **checkpoint** (tlog-checkpoint.md) is a note whose text is the origin, the tree size
  in decimal, the base64 root hash, then optional extension lines;
- the body of ``POST <witness>/add-checkpoint`` (tlog-witness.md) is ``old <size>\\n``,
  up to 63 lines of base64 consistency-proof hashes, a blank line, then the signed note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier.errors import FormatError, VerificationError
from verifier.merkle import HASH_SIZE

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # "— "
MAX_PROOF_LINES = 63  # tlog-witness: a consistency proof has at most 63 hashes
MAX_NOTE_BYTES = 1 << 20
_NAME = re.compile(r"[^\s+]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not base64: {text[:60]!r}") from None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_key_name(name: str) -> str:
    """A key name is non-empty UTF-8 without whitespace or ``+`` (signed-note.md)."""
    if not _NAME.fullmatch(name):
        raise FormatError(f"key name {name!r} is empty or holds whitespace or '+'")
    return name


def note_key_id(name: str, alg: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class NoteKey:
    """A named public key: a log's Ed25519 key (0x01) or a witness's cosignature/v1 (0x04)."""

    name: str
    alg: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.alg, self.public_key)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public_key)}"


def parse_vkey(text: str, *, alg: int | None = None) -> NoteKey:
    """Read ``name+keyid+base64(alg || key)``; the key ID must match the key."""
    parts = text.strip().split("+", 2)  # a name holds no "+", the base64 may
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise FormatError(f"{text!r} is not a verifier key name+<8 hex>+<base64>")
    name = check_key_name(parts[0])
    raw = _b64decode(parts[2], f"the key of {name}")
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise FormatError(f"the key of {name} is not 0x01 or 0x04 followed by 32 bytes")
    if alg is not None and raw[0] != alg:
        raise FormatError(f"the key of {name} has algorithm 0x{raw[0]:02x}, expected 0x{alg:02x}")
    key = NoteKey(name, raw[0], raw[1:])
    if key.key_id.hex() != parts[1]:
        raise FormatError(f"the key ID of {name} is {key.key_id.hex()}, the text says {parts[1]}")
    return key


def ed25519_key(name: str, public_key: bytes) -> NoteKey:
    return NoteKey(check_key_name(name), ALG_ED25519, public_key)


def cosignature_key(name: str, public_key: bytes) -> NoteKey:
    return NoteKey(check_key_name(name), ALG_COSIGNATURE_V1, public_key)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # after the key ID

    @property
    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


def parse_signature_line(line: str) -> NoteSignature:
    """One ``— name base64`` line, without its newline."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise FormatError(f"signature line {line[:60]!r} does not begin with '— '")
    name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
    raw = _b64decode(blob, f"the signature of {name}")
    if len(raw) < 5:
        raise FormatError(f"the signature of {name} is shorter than its key ID")
    return NoteSignature(check_key_name(name), raw[:4], raw[4:])


@dataclass(frozen=True)
class Note:
    text: str  # ends with "\n"; what the log's key signs
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)


def parse_note(raw: bytes | str) -> Note:
    """Split a signed note into its text and signature lines (signed-note.md)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_NOTE_BYTES:
            raise FormatError(f"the note has {len(raw)} bytes, more than {MAX_NOTE_BYTES}")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("the note is not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in raw):
        raise FormatError("the note holds a control character other than newline")
    split = raw.rfind("\n\n")
    if split < 0 or not raw.endswith("\n"):
        raise FormatError("the note has no blank line before its signatures, or no final newline")
    text, lines = raw[: split + 1], raw[split + 2 : -1].split("\n")
    if not lines or lines == [""]:
        raise FormatError("the note has no signature")
    return Note(text, tuple(parse_signature_line(line) for line in lines))


def sign_note_text(private_key: Ed25519PrivateKey, name: str, text: str) -> NoteSignature:
    key = ed25519_key(name, raw_public_key(private_key))
    return NoteSignature(name, key.key_id, private_key.sign(text.encode()))


def signature_of(note: Note, key: NoteKey) -> NoteSignature | None:
    """The note's signature line by ``key`` (same name and key ID), if any."""
    for sig in note.signatures:
        if sig.name == key.name and sig.key_id == key.key_id:
            return sig
    return None


def verify_note_signature(note: Note, key: NoteKey) -> None:
    """The note carries a valid Ed25519 signature by ``key``, or VerificationError."""
    sig = signature_of(note, key)
    if sig is None:
        raise VerificationError(f"the note has no signature by {key.name} ({key.key_id.hex()})")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(sig.signature, note.text.encode())
    except InvalidSignature:
        raise VerificationError(f"the signature by {key.name} does not verify") from None


def cosignature_message(timestamp: int, text: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(private_key: Ed25519PrivateKey, name: str, text: str, timestamp: int) -> NoteSignature:
    """A cosignature/v1 of a checkpoint's note text at ``timestamp`` (UNIX seconds)."""
    key = cosignature_key(name, raw_public_key(private_key))
    signature = private_key.sign(cosignature_message(timestamp, text))
    return NoteSignature(name, key.key_id, timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(key: NoteKey, text: str, sig: NoteSignature) -> int:
    """Check a cosignature/v1 line by ``key`` over ``text``; returns its UNIX time."""
    if key.alg != ALG_COSIGNATURE_V1 or sig.name != key.name or sig.key_id != key.key_id:
        raise VerificationError(f"the signature by {sig.name} is not a cosignature by {key.name}")
    if len(sig.signature) != 8 + 64:
        raise VerificationError(f"the cosignature by {key.name} is not 72 bytes")
    timestamp = int.from_bytes(sig.signature[:8], "big")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            sig.signature[8:], cosignature_message(timestamp, text)
        )
    except InvalidSignature:
        raise VerificationError(f"the cosignature by {key.name} does not verify") from None
    return timestamp


def cosigners(note: Note, witness_keys: list[NoteKey]) -> list[str]:
    """Names of the distinct configured witnesses whose cosignature on the note verifies."""
    names: list[str] = []
    for key in witness_keys:
        sig = signature_of(note, key)
        if sig is None or key.name in names:
            continue
        try:
            verify_cosignature(key, note.text, sig)
        except VerificationError:
            continue
        names.append(key.name)
    return names


@dataclass(frozen=True)
class CheckpointText:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...]


def parse_checkpoint_text(text: str) -> CheckpointText:
    """Origin, size and root of a checkpoint's note text (tlog-checkpoint.md)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or "" in lines[:-1]:
        raise FormatError("a checkpoint is origin, size, root hash and extension lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _DECIMAL.fullmatch(size):
        raise FormatError(f"the checkpoint's size {size!r} is not a decimal number")
    root_hash = _b64decode(root, "the checkpoint's root hash")
    if len(root_hash) != HASH_SIZE:
        raise FormatError(f"the checkpoint's root hash has {len(root_hash)} bytes, not 32")
    return CheckpointText(origin, int(size), root_hash, tuple(lines[3:-1]))


def add_checkpoint_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The request body of ``POST <witness>/add-checkpoint`` (tlog-witness.md)."""
    lines = "".join(_b64(h) + "\n" for h in proof)
    return f"old {old_size}\n{lines}\n{note}".encode()


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: bytes


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Read an add-checkpoint request; FormatError (400) when malformed."""
    head, sep, note = body.partition(b"\n\n")
    if not sep:
        raise FormatError("the request has no blank line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise FormatError("the request's first lines are not ASCII") from None
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        raise FormatError(f"the first line {first[:40]!r} is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise FormatError(f"the proof has {len(lines) - 1} lines, more than {MAX_PROOF_LINES}")
    proof = [_b64decode(line, "a proof line") for line in lines[1:]]
    if any(len(h) != HASH_SIZE for h in proof):
        raise FormatError("a proof line is not a 32-byte hash")
    return AddCheckpoint(int(first[4:]), proof, note)
