"""Adoption records of methodology versions: a C2SP signed note signed by coalition members.

A methodology version (engine code, parameter set and bundled tables, each by SHA-256;
:mod:`methodologies.versions`) computes official figures only once at least k of the n
member keys configured for the coalition have signed its adoption record
(docs/adoption.md). The record is a signed note (https://github.com/C2SP/C2SP/blob/main/
signed-note.md, the same format as the audit log's checkpoints, :mod:`verifier.note`)
whose text is::

    carbon-manifest/methodology-adoption/v1
    <label>                      e.g. 2026.1
    <version digest>             64 lowercase hex: SHA-256 of the version's manifest

and whose signature lines are the members' Ed25519 note signatures (algorithm 0x01) of
that text. A member signs offline, with its own private key, and hands over the line.

What counts (:func:`adoption_signers`): a signature by a key in the verifier's OWN set of
member keys (never a key the server sends), that verifies over this very text (a signature
made over another version's digest does not), each member once however many lines it has.

Pure Python (``cryptography`` for Ed25519), shared by the platform, the stand-alone
verifier and ``python -m methodologies verify``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from verifier.errors import FormatError, VerificationError
from verifier.note import (
    ALG_ED25519,
    Note,
    NoteKey,
    NoteSignature,
    check_key_name,
    parse_note,
    parse_signature_line,
    parse_vkey,
    sign_note_text,
)

ADOPTION_HEADER = "carbon-manifest/methodology-adoption/v1"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")


def adoption_text(label: str, digest: str) -> str:
    """The text the members sign for version ``label`` with manifest SHA-256 ``digest``."""
    if not _LABEL.fullmatch(label):
        raise FormatError(f"version label {label!r}: letters, digits, '.', '_', '-' (max 64)")
    if not _DIGEST.fullmatch(digest):
        raise FormatError(f"version digest {digest!r} is not 64 lowercase hex digits")
    return f"{ADOPTION_HEADER}\n{label}\n{digest}\n"


@dataclass(frozen=True)
class AdoptionStatement:
    label: str
    digest: str

    @property
    def text(self) -> str:
        return adoption_text(self.label, self.digest)


def parse_adoption_text(text: str) -> AdoptionStatement:
    """Label and digest of an adoption record's text; FormatError when it is not one."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[0] != ADOPTION_HEADER or lines[3] != "":
        raise FormatError(
            f"an adoption record's text is '{ADOPTION_HEADER}', a label and a digest, one per line"
        )
    statement = AdoptionStatement(lines[1], lines[2])
    adoption_text(statement.label, statement.digest)  # validates both
    return statement


def parse_member_keys(text: str | list[str]) -> list[NoteKey]:
    """Member keys as verifier keys ``name+<key id>+<base64(0x01 || key)>``, separated by
    commas or whitespace (or given as a list). Each must be an Ed25519 note key."""
    items = text if isinstance(text, list) else re.split(r"[,\s]+", text)
    keys = [parse_vkey(item, alg=ALG_ED25519) for item in items if item.strip()]
    seen: set[bytes] = set()
    for key in keys:
        if key.key_id in seen:
            raise FormatError(f"member key {key.name} ({key.key_id.hex()}) is listed twice")
        seen.add(key.key_id)
    return keys


def sign_adoption(private_key: Ed25519PrivateKey, name: str, text: str) -> str:
    """A member's signature line (without newline) over an adoption record's text."""
    parse_adoption_text(text)
    return sign_note_text(private_key, check_key_name(name), text).line.rstrip("\n")


def _verifies(key: NoteKey, sig: NoteSignature, text: str) -> bool:
    if sig.name != key.name or sig.key_id != key.key_id:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(sig.signature, text.encode())
    except InvalidSignature:
        return False
    return True


def signature_valid(line: str, text: str, member_keys: list[NoteKey]) -> NoteKey | None:
    """The configured member key whose valid signature ``line`` is over ``text``, if any."""
    sig = parse_signature_line(line.rstrip("\n"))
    for key in member_keys:
        if _verifies(key, sig, text):
            return key
    return None


def adoption_signers(text: str, lines: list[str], member_keys: list[NoteKey]) -> list[str]:
    """Names of the distinct configured members with a valid signature line over ``text``,
    in the order of ``member_keys``. Lines by other keys, lines that do not verify over
    this text, and repeated lines of one member add nothing."""
    sigs = [parse_signature_line(line.rstrip("\n")) for line in lines]
    return [key.name for key in member_keys if any(_verifies(key, s, text) for s in sigs)]


def parse_record(record: str) -> tuple[str, list[str]]:
    """A record as rendered by :func:`render_record` (a signed note, possibly with no
    signature yet): its text and its signature lines."""
    if record.endswith("\n\n") and record.count("\n\n") == 1:
        return record[:-1], []
    note: Note = parse_note(record)
    return note.text, [s.line.rstrip("\n") for s in note.signatures]


@dataclass(frozen=True)
class AdoptionCheck:
    """The answer of :func:`check_adoption`."""

    label: str
    digest: str
    signers: list[str]
    threshold: int
    members: int

    @property
    def adopted(self) -> bool:
        return len(self.signers) >= self.threshold

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "digest": self.digest,
            "signers": self.signers,
            "threshold": self.threshold,
            "members": self.members,
            "adopted": self.adopted,
        }


def check_threshold(threshold: int, members: int) -> None:
    if members < 1:
        raise FormatError("no member keys configured: adoption needs the coalition's keys")
    if not 1 <= threshold <= members:
        raise FormatError(f"the threshold {threshold} must be between 1 and {members} members")


def check_adoption(
    text: str,
    lines: list[str],
    member_keys: list[NoteKey],
    threshold: int,
    *,
    digest: str | None = None,
) -> AdoptionCheck:
    """Count the valid member signatures (``lines``) on an adoption record's ``text``.

    ``digest``, when given, is the version digest the record must be about (the one a
    trace was computed under): a record of another version raises VerificationError.
    Raises FormatError for a malformed record or threshold. Whether k is reached is
    :attr:`AdoptionCheck.adopted`; :func:`require_adoption` raises when it is not.
    """
    check_threshold(threshold, len(member_keys))
    statement = parse_adoption_text(text)
    if digest is not None and statement.digest != digest:
        raise VerificationError(
            f"the adoption record is of version {statement.label} ({statement.digest[:12]}…), "
            f"not of the version digest {digest[:12]}…"
        )
    return AdoptionCheck(
        statement.label,
        statement.digest,
        adoption_signers(text, lines, member_keys),
        threshold,
        len(member_keys),
    )


def require_adoption(check: AdoptionCheck) -> AdoptionCheck:
    """``check`` when it reaches the threshold, else VerificationError naming the count."""
    if not check.adopted:
        raise VerificationError(
            f"version {check.label} carries {len(check.signers)} valid member signature(s) "
            f"({', '.join(check.signers) or 'none'}), fewer than the {check.threshold} of "
            f"{check.members} required"
        )
    return check


def render_record(text: str, lines: list[str]) -> str:
    """The record as a signed note: its text, a blank line, the signature lines."""
    return text + "\n" + "".join(line.rstrip("\n") + "\n" for line in lines)


@dataclass(frozen=True)
class TraceAdoption:
    """What a trace's ``adoption`` object says, checked with the verifier's own keys:
    ``status`` as the trace claims it, ``check`` the count (None without a record), and
    ``problems``: each way the claim does not hold (empty when it does)."""

    status: str
    version: str | None
    check: AdoptionCheck | None
    problems: list[str]

    @property
    def official(self) -> bool:
        return self.status == "adopted" and not self.problems


def check_trace_adoption(
    block: object, member_keys: list[NoteKey], threshold: int
) -> TraceAdoption:
    """Check a trace's ``adoption`` object (docs/adoption.md) against ``member_keys`` and
    ``threshold`` from the verifier's own configuration: a trace that says ``adopted``
    must carry a record of its version digest with at least ``threshold`` valid member
    signatures; one that says ``preview`` is reported as such (not an official figure)."""
    if not isinstance(block, dict):
        raise FormatError("the trace's adoption is not an object ($.adoption)")
    status = block.get("status")
    if status not in ("adopted", "preview"):
        raise FormatError(f"$.adoption.status is {status!r}, not 'adopted' or 'preview'")
    record, digest = block.get("record"), block.get("digest")
    if record is None:
        problems = ["$.adoption: says adopted but names no record"] if status == "adopted" else []
        return TraceAdoption(status, None, None, problems)
    if not isinstance(record, str):
        raise FormatError("$.adoption.record is not a signed note")
    text, lines = parse_record(record)
    problems: list[str] = []
    try:
        check = check_adoption(text, lines, member_keys, threshold, digest=digest)
    except VerificationError as exc:
        return TraceAdoption(status, block.get("version"), None, [f"$.adoption.record: {exc}"])
    if check.label != block.get("version"):
        problems.append(
            f"$.adoption.version {block.get('version')!r} is not the record's {check.label!r}"
        )
    if status == "adopted" and not check.adopted:
        problems.append(
            f"$.adoption: says adopted, but the record carries {len(check.signers)} valid "
            f"signature(s) of your {check.members} member keys "
            f"({', '.join(check.signers) or 'none'}), fewer than {threshold}"
        )
    return TraceAdoption(status, check.label, check, problems)


def read_coalition(path: str) -> tuple[list[NoteKey], int]:
    """The verifier's own coalition file: JSON ``{"member_keys": [vkey, …], "threshold": k}``."""
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read the coalition file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("member_keys"), list):
        raise FormatError(f'{path}: expected {{"member_keys": [...], "threshold": k}}')
    keys = parse_member_keys([str(k) for k in data["member_keys"]])
    threshold = data.get("threshold") or len(keys) // 2 + 1
    if not isinstance(threshold, int):
        raise FormatError(f"{path}: threshold {threshold!r} is not an integer")
    check_threshold(threshold, len(keys))
    return keys, threshold
