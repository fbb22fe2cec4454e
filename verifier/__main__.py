"""Command line of the auditor's verifier; talks to the REST API with the standard library.

    python -m verifier check --url URL --token T --checkpoint saved.json [--public-key K]
        verify the saved checkpoint's signature, fetch the latest checkpoint and the
        consistency proof between them, and verify both (RFC 9162 §2.1.4.2);
        ``--save FILE`` then writes the verified latest checkpoint for next time.
    python -m verifier inclusion --url URL --token T --index I [--public-key K]
        fetch entry I, hash its data (RFC 6962 §2.1), and verify its inclusion in the
        latest checkpoint (RFC 9162 §2.1.3.2).
    python -m verifier trace --url URL --token T --estimate N [--output FILE] [--public-key K]
        fetch estimate N's trace, hash its bytes (SHA-256), find the log's estimate.create
        entry that recorded that digest, and verify the entry's inclusion in the latest
        checkpoint: the trace is the one logged when the estimate was made. ``--output``
        saves the bytes; recompute them with ``python -m methodologies verify FILE``.

    python -m verifier note FILE [keys]
        verify a saved signed note (the ``note`` of a checkpoint document) offline.
    python -m verifier adoption FILE (--coalition C.json | --member-key VKEY... [--threshold K])
        verify a methodology version's adoption record (a signed note, as
        ``GET /api/v1/methodology-versions/LABEL/record`` serves it) offline: at least K
        valid signatures of distinct member keys from YOUR configuration (docs/adoption.md).

Keys come from the auditor's own configuration, never from the server checked
(docs/integrity.md §4): ``--config FILE`` (JSON ``{"log_key", "witness_keys",
"cosignatures"}``), or ``--log-key VKEY`` (or ``--public-key`` base64), ``--witness-key
VKEY`` (repeatable) and ``--cosignatures K``. A checkpoint is accepted only with at least
K valid cosignatures from distinct configured witnesses (K defaults to every configured
witness). ``--trust-server-key`` takes the log key the server sends (or the saved
checkpoint records) instead: an explicit opt-in, said so in the report.
Without a log key given, the key pinned for ``--url`` is used: the environment variable
``CM_AUDIT_PUBLIC_KEY``, else the entry for the URL's origin in ``verifier/pinned_keys.json``
(published in the repository by the operator with ``manage.py audit_public_key --pin``;
``CM_VERIFIER_KEYS`` names another file).
The token may also come from the environment variable ``CM_API_TOKEN``.
Exit status: 0 all verified; 1 a verification failed; 2 usage, input or network error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.checkpoint import (
    Checkpoint,
    checkpoint_body,
    key_id,
    parse_checkpoint,
    verify_checkpoint,
)
from verifier.errors import FormatError, VerificationError, VerifierError
from verifier.merkle import leaf_hash, verify_consistency, verify_inclusion
from verifier.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    NoteKey,
    cosigners,
    ed25519_key,
    parse_checkpoint_text,
    parse_note,
    parse_vkey,
    verify_note_signature,
)


class FetchError(VerifierError):
    """The API could not be reached or answered with an error (``status``, when HTTP)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, url: str, token: str) -> None:
        if urllib.parse.urlparse(url).scheme not in ("http", "https"):
            raise FormatError(f"--url {url!r} is not an http(s) URL")
        self.base = url.rstrip("/") + "/api/v1/audit/"
        self.token = token

    def get(self, path: str, **params: int | str) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, headers={"Authorization": f"Token {self.token}", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise FetchError(f"GET {url}: HTTP {exc.code} {detail}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"GET {url}: {exc}") from None
        except ValueError:
            raise FetchError(f"GET {url}: the answer is not JSON") from None

    def raw(self, path: str) -> tuple[bytes, dict[str, str]]:
        """GET a path under /api/v1/ as bytes, with the response headers."""
        url = self.base.removesuffix("audit/") + path
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, headers={"Authorization": f"Token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.read(), dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise FetchError(f"GET {url}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"GET {url}: {exc}") from None

    def hashes(self, path: str, **params: int) -> list[bytes]:
        answer = self.get(path, **params)
        try:
            return [bytes.fromhex(h) for h in answer["hashes"]]
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"{path}: expected {{'hashes': [hex, ...]}}") from None


def _say(ok: bool, text: str) -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {text}")


@dataclass
class Trust:
    """What the auditor trusts, from its own configuration: the log's key (raw, and its
    name when given as a verifier key), the witness keys and how many must cosign."""

    log_key: bytes | None = None
    log_name: str | None = None
    witnesses: list[NoteKey] = field(default_factory=list)
    required: int = 0
    trust_server: bool = False

    def key_for(self, offered: bytes, where: str) -> bytes:
        if self.log_key is not None:
            return self.log_key
        print(f"note: --trust-server-key: trusting key {key_id(offered)} from {where}")
        return offered


def _log_key(value: str) -> tuple[bytes, str | None]:
    """The raw key's base64, or a verifier key ``name+id+base64(0x01 || key)``."""
    if _is_base64_key(value):
        return base64.b64decode(value), None
    key = parse_vkey(value, alg=ALG_ED25519)
    return key.public_key, key.name


def _is_base64_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except binascii.Error:
        return False


PINNED_KEYS = Path(__file__).resolve().parent / "pinned_keys.json"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, the key of pinned_keys.json."""
    parts = urllib.parse.urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _published_key(url: str) -> tuple[str, str] | None:
    """(base64 key, where) from the environment or the pinned-keys file, if any: the log
    key an operator published in the repository (docs/auditors.md), never the server's."""
    env = os.environ.get("CM_AUDIT_PUBLIC_KEY")
    if env:
        return env, "CM_AUDIT_PUBLIC_KEY"
    path = Path(os.environ.get("CM_VERIFIER_KEYS") or PINNED_KEYS)
    try:
        keys = json.loads(path.read_text(encoding="utf-8")).get("keys", {})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        raise FormatError(f"{path}: not a pinned-keys file ({exc})") from None
    value = keys.get(origin_of(url))
    return (value, f"{path.name} entry {origin_of(url)}") if value else None


def _trust(args: argparse.Namespace) -> Trust:
    config: dict[str, Any] = {}
    if args.config:
        try:
            config = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise FormatError(f"{args.config}: not JSON ({exc})") from None
        if not isinstance(config, dict):
            raise FormatError(f"{args.config}: expected a JSON object")
    trust = Trust(trust_server=args.trust_server_key)
    log_value = args.log_key or args.public_key or config.get("log_key")
    if not log_value and getattr(args, "url", None):
        published = _published_key(args.url)
        if published is not None:
            log_value = published[0]
            print(f"note: public key pinned by {published[1]}")
    if log_value:
        trust.log_key, trust.log_name = _log_key(log_value)
    elif not trust.trust_server:
        raise FormatError(
            "no log key: pass --log-key (or --public-key, or log_key in --config, or pin "
            "the server's key in CM_AUDIT_PUBLIC_KEY or verifier/pinned_keys.json); "
            "--trust-server-key takes the server's word for it instead"
        )
    for value in [*config.get("witness_keys", []), *(args.witness_key or [])]:
        key = parse_vkey(value, alg=ALG_COSIGNATURE_V1)
        if all(k.vkey != key.vkey for k in trust.witnesses):
            trust.witnesses.append(key)
    required = args.cosignatures if args.cosignatures is not None else config.get("cosignatures")
    trust.required = len(trust.witnesses) if required is None else required
    if not isinstance(trust.required, int) or not 0 <= trust.required <= len(trust.witnesses):
        raise FormatError(
            f"cosignatures {trust.required!r}: must be between 0 and the "
            f"{len(trust.witnesses)} witness keys configured"
        )
    return trust


def _check_note(note_text: str, key: bytes, trust: Trust, expected_text: str | None) -> str:
    """Verify a signed note: the log's signature, then at least ``trust.required``
    cosignatures from distinct configured witnesses. Returns the note's text."""
    note = parse_note(note_text)
    if expected_text is not None and note.text != expected_text:
        raise VerificationError("the note's text is not the checkpoint the document signs")
    checkpoint = parse_checkpoint_text(note.text)
    if trust.log_name is not None and checkpoint.origin != trust.log_name:
        raise VerificationError(
            f"the note is of log {checkpoint.origin!r}, the log key is {trust.log_name!r}"
        )
    verify_note_signature(note, ed25519_key(checkpoint.origin, key))
    names = cosigners(note, trust.witnesses)
    text = (
        f"{len(names)} of {len(trust.witnesses)} configured witnesses cosigned tree size "
        f"{checkpoint.tree_size} ({', '.join(names) or 'none'}); {trust.required} required"
    )
    if len(names) < trust.required:
        raise VerificationError(text)
    if trust.witnesses:
        _say(True, text)
    return note.text


def _latest(api: Api, trust: Trust) -> Checkpoint:
    try:
        document = api.get("checkpoint")
    except FetchError as exc:
        if exc.status == 409:  # the platform found its log no longer extends its checkpoint
            raise VerificationError(f"the platform refuses to sign its log: {exc}") from None
        raise
    key = trust.key_for(parse_checkpoint(document).public_key, "the server")
    latest = verify_checkpoint(document, key)
    if trust.log_name is not None and latest.origin != trust.log_name:
        raise VerificationError(f"the server's log is {latest.origin!r}, not {trust.log_name!r}")
    _say(True, f"latest checkpoint: tree size {latest.tree_size}, signed by key {key_id(key)}")
    if trust.witnesses:
        if not isinstance(document.get("note"), str):
            raise VerificationError("the checkpoint document carries no signed note")
        expected = checkpoint_body(
            latest.tree_size, latest.root_hash, latest.timestamp, latest.origin
        ).decode()
        _check_note(document["note"], key, trust, expected)
    return latest


def cmd_check(args: argparse.Namespace, api: Api) -> None:
    saved_doc = json.loads(Path(args.checkpoint).read_text(encoding="utf-8"))
    trust = _trust(args)
    trust.log_key = trust.key_for(parse_checkpoint(saved_doc).public_key, args.checkpoint)
    saved = verify_checkpoint(saved_doc, trust.log_key)
    _say(True, f"saved checkpoint: tree size {saved.tree_size}, signature verifies")
    latest = _latest(api, trust)
    if latest.tree_size < saved.tree_size:
        raise VerificationError(
            f"the latest checkpoint's tree size {latest.tree_size} is below the saved "
            f"{saved.tree_size}: the log shrank"
        )
    proof = api.hashes("proof/consistency", first=saved.tree_size, second=latest.tree_size)
    verify_consistency(saved.tree_size, latest.tree_size, saved.root_hash, latest.root_hash, proof)
    _say(True, f"consistency {saved.tree_size} → {latest.tree_size}: {len(proof)} hashes verify")
    if args.save:
        Path(args.save).write_text(json.dumps(_document(latest), indent=2) + "\n", "utf-8")
        print(f"saved the latest checkpoint to {args.save}")


def _document(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "timestamp": checkpoint.timestamp,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        "public_key": base64.b64encode(checkpoint.public_key).decode("ascii"),
    }


def _entry_data(api: Api, index: int) -> bytes:
    """Entry ``index``'s data, after checking that its leaf hash is SHA-256(0x00 || data)."""
    entry = api.get(f"entries/{index}")
    try:
        data = base64.b64decode(entry["data"], validate=True)
        claimed = bytes.fromhex(entry["leaf_hash"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise FormatError(f"entries/{index}: expected data (base64), leaf_hash (hex)") from None
    computed = leaf_hash(data)
    if computed != claimed:
        raise VerificationError(
            f"entry {index}: SHA-256(0x00 || data) = {computed.hex()}, "
            f"the server says {claimed.hex()}"
        )
    _say(True, f"entry {index}: leaf hash {computed.hex()} matches its data")
    return data


def _included(api: Api, index: int, data: bytes, latest: Checkpoint) -> None:
    proof = api.hashes("proof/inclusion", index=index, tree_size=latest.tree_size)
    verify_inclusion(leaf_hash(data), index, latest.tree_size, proof, latest.root_hash)
    _say(True, f"entry {index} is included in tree size {latest.tree_size}")


def cmd_inclusion(args: argparse.Namespace, api: Api) -> None:
    latest = _latest(api, _trust(args))
    _included(api, args.index, _entry_data(api, args.index), latest)


def cmd_trace(args: argparse.Namespace, api: Api) -> None:
    trust = _trust(args)
    body, headers = api.raw(f"estimates/{args.estimate}/trace")
    digest = hashlib.sha256(body).hexdigest()
    header = {k.lower(): v for k, v in headers.items()}.get("x-trace-sha256")
    if header != digest:
        raise VerificationError(f"the trace hashes to {digest}; X-Trace-SHA256 says {header}")
    _say(True, f"trace of estimate {args.estimate}: {len(body)} bytes, SHA-256 {digest}")
    if args.output:
        Path(args.output).write_bytes(body)
        print(f"saved the trace to {args.output}")
    latest = _latest(api, trust)
    history = api.get("entries", object_type="estimate", object_id=args.estimate)
    for item in history.get("entries", []):
        if item.get("action") != "estimate.create" or item["index"] >= latest.tree_size:
            continue
        data = _entry_data(api, item["index"])
        try:
            event = json.loads(data)
        except ValueError:
            raise FormatError(f"entry {item['index']}: the data is not JSON") from None
        recorded = (event.get("payload") or {}).get("trace_sha256")
        if event.get("object") != {"type": "estimate", "id": str(args.estimate)}:
            raise VerificationError(f"entry {item['index']} is not about estimate {args.estimate}")
        if recorded == digest:
            _say(True, f"entry {item['index']} (estimate.create) recorded this trace's SHA-256")
            _included(api, item["index"], data, latest)
            return
        _say(False, f"entry {item['index']} recorded trace SHA-256 {recorded}")
    raise VerificationError(
        f"no estimate.create entry in tree size {latest.tree_size} records SHA-256 {digest}"
    )


def cmd_note(args: argparse.Namespace, api: Api | None) -> None:
    trust = _trust(args)
    if trust.log_key is None:
        raise FormatError("the note command needs the log key (--log-key or --config)")
    text = _check_note(Path(args.file).read_text(encoding="utf-8"), trust.log_key, trust, None)
    checkpoint = parse_checkpoint_text(text)
    _say(True, f"note of {checkpoint.origin} at tree size {checkpoint.tree_size} is signed")


def cmd_adoption(args: argparse.Namespace, api: Api | None) -> None:
    from verifier.adoption import (
        check_adoption,
        parse_member_keys,
        parse_record,
        read_coalition,
        require_adoption,
    )

    if args.coalition:
        keys, threshold = read_coalition(args.coalition)
    elif args.member_key:
        keys = parse_member_keys(args.member_key)
        threshold = args.threshold or len(keys) // 2 + 1
    else:
        raise FormatError("give your member keys: --coalition FILE or --member-key VKEY")
    text, lines = parse_record(Path(args.file).read_text(encoding="utf-8"))
    check = check_adoption(text, lines, keys, threshold)
    for name in check.signers:
        _say(True, f"signature by member {name}")
    require_adoption(check)
    _say(True, f"version {check.label} ({check.digest}) adopted: {len(check.signers)} of "
               f"{len(keys)} member keys, {threshold} required")  # fmt: skip


COMMANDS = {
    "check": cmd_check,
    "inclusion": cmd_inclusion,
    "trace": cmd_trace,
    "note": cmd_note,
    "adoption": cmd_adoption,
}
OFFLINE = ("note", "adoption")


def _attached(argv: list[str]) -> list[str]:
    """``--token VALUE`` as ``--token=VALUE``: a token may begin with ``-`` (URL-safe
    base64), which argparse would otherwise take for an option."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        value = next(args, None) if arg == "--token" else None
        out.append(arg if value is None else f"{arg}={value}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verifier", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("check", "verify a saved checkpoint and its consistency with the latest"),
        ("inclusion", "verify that one entry is included in the latest checkpoint"),
        ("trace", "verify that an estimate's trace is the one its log entry recorded"),
        ("note", "verify a saved signed note and its cosignatures, offline"),
    ):
        p = sub.add_parser(name, help=help_text)
        if name != "note":
            p.add_argument("--url", required=True, help="the platform, e.g. http://127.0.0.1:8000")
            p.add_argument("--token", default=os.environ.get("CM_API_TOKEN"), help="API token")
        p.add_argument("--config", help="JSON: log_key, witness_keys, cosignatures")
        p.add_argument("--log-key", help="the log's verifier key, name+id+base64")
        p.add_argument("--public-key", help="the pinned Ed25519 public key (base64)")
        p.add_argument(
            "--witness-key", action="append", help="a witness's cosignature/v1 verifier key"
        )
        p.add_argument("--cosignatures", type=int, help="cosignatures required (default: all)")
        p.add_argument(
            "--trust-server-key",
            action="store_true",
            help="take the log key the server sends (or the saved checkpoint records)",
        )
    sub.choices["check"].add_argument("--checkpoint", required=True, help="saved checkpoint")
    sub.choices["check"].add_argument("--save", help="write the verified latest checkpoint here")
    sub.choices["inclusion"].add_argument("--index", type=int, required=True)
    sub.choices["trace"].add_argument("--estimate", type=int, required=True, help="estimate id")
    sub.choices["trace"].add_argument("--output", help="save the trace bytes here")
    sub.choices["note"].add_argument("file", help="a signed note, as text")
    p = sub.add_parser("adoption", help="verify a methodology version's adoption record, offline")
    p.add_argument("file", help="the adoption record, a signed note")
    p.add_argument("--coalition", help='JSON: {"member_keys": [vkey, …], "threshold": k}')
    p.add_argument("--member-key", action="append", help="a member's verifier key")
    p.add_argument("--threshold", type=int, help="member signatures required (default majority)")
    args = parser.parse_args(_attached(sys.argv[1:] if argv is None else argv))
    if args.command not in OFFLINE and not args.token:
        parser.error("--token (or CM_API_TOKEN) is required")
    try:
        api = Api(args.url, args.token) if args.command not in OFFLINE else None
        COMMANDS[args.command](args, api)
    except VerificationError as exc:
        _say(False, str(exc))
        return 1
    except (VerifierError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
