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

The public key is pinned, first found of: ``--public-key`` (base64); the environment
variable ``CM_AUDIT_PUBLIC_KEY``; the entry for ``--url`` in ``verifier/pinned_keys.json``
(published in the repository by the operator, docs/auditors.md; ``CM_VERIFIER_KEYS`` names
another file). Without any, ``check`` trusts the key recorded in the saved checkpoint and
``inclusion`` and ``trace`` the key the server sends (said so in the report). The token
may also come from the environment variable ``CM_API_TOKEN``.
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
from pathlib import Path
from typing import Any

from verifier.checkpoint import Checkpoint, key_id, parse_checkpoint, verify_checkpoint
from verifier.errors import FormatError, VerificationError, VerifierError
from verifier.merkle import leaf_hash, verify_consistency, verify_inclusion


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


def _latest(api: Api, pinned: bytes | None) -> Checkpoint:
    try:
        document = api.get("checkpoint")
    except FetchError as exc:
        if exc.status == 409:  # the platform found its log no longer extends its checkpoint
            raise VerificationError(f"the platform refuses to sign its log: {exc}") from None
        raise
    key = pinned if pinned is not None else parse_checkpoint(document).public_key
    latest = verify_checkpoint(document, key)
    _say(True, f"latest checkpoint: tree size {latest.tree_size}, signed by key {key_id(key)}")
    return latest


PINNED_KEYS = Path(__file__).resolve().parent / "pinned_keys.json"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, the key of pinned_keys.json."""
    parts = urllib.parse.urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _published_key(url: str) -> tuple[str, str] | None:
    """(base64 key, where) from the environment or the pinned-keys file, if any."""
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


def _resolve_key(args: argparse.Namespace) -> bytes | None:
    """The pinned key: --public-key, else CM_AUDIT_PUBLIC_KEY, else pinned_keys.json."""
    if args.public_key is not None:
        return _pinned_key(args.public_key)
    found = _published_key(args.url)
    if found is None:
        return None
    key = _pinned_key(found[0], found[1])
    print(f"note: public key {key_id(key)} pinned by {found[1]}")
    return key


def _pinned_key(value: str | None, where: str = "--public-key") -> bytes | None:
    if value is None:
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise FormatError(f"{where} is not base64") from None
    if len(key) != 32:
        raise FormatError(f"{where} is not a 32-byte Ed25519 key")
    return key


def cmd_check(args: argparse.Namespace, api: Api) -> None:
    saved_doc = json.loads(Path(args.checkpoint).read_text(encoding="utf-8"))
    pinned = _resolve_key(args)
    if pinned is None:
        pinned = parse_checkpoint(saved_doc).public_key
        print(
            f"note: no pinned key (--public-key, CM_AUDIT_PUBLIC_KEY, pinned_keys.json); "
            f"trusting key {key_id(pinned)} from {args.checkpoint}"
        )
    saved = verify_checkpoint(saved_doc, pinned)
    _say(True, f"saved checkpoint: tree size {saved.tree_size}, signature verifies")
    latest = _latest(api, pinned)
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
    pinned = _resolve_key(args)
    if pinned is None:
        print(
            "note: no pinned key (--public-key, CM_AUDIT_PUBLIC_KEY, pinned_keys.json); "
            "trusting the key the server sends"
        )
    latest = _latest(api, pinned)
    _included(api, args.index, _entry_data(api, args.index), latest)


def cmd_trace(args: argparse.Namespace, api: Api) -> None:
    pinned = _resolve_key(args)
    if pinned is None:
        print(
            "note: no pinned key (--public-key, CM_AUDIT_PUBLIC_KEY, pinned_keys.json); "
            "trusting the key the server sends"
        )
    body, headers = api.raw(f"estimates/{args.estimate}/trace")
    digest = hashlib.sha256(body).hexdigest()
    header = {k.lower(): v for k, v in headers.items()}.get("x-trace-sha256")
    if header != digest:
        raise VerificationError(f"the trace hashes to {digest}; X-Trace-SHA256 says {header}")
    _say(True, f"trace of estimate {args.estimate}: {len(body)} bytes, SHA-256 {digest}")
    if args.output:
        Path(args.output).write_bytes(body)
        print(f"saved the trace to {args.output}")
    latest = _latest(api, pinned)
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


COMMANDS = {"check": cmd_check, "inclusion": cmd_inclusion, "trace": cmd_trace}


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
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--url", required=True, help="the platform, e.g. http://127.0.0.1:8000")
        p.add_argument("--token", default=os.environ.get("CM_API_TOKEN"), help="API token")
        p.add_argument("--public-key", help="the pinned Ed25519 public key (base64)")
    sub.choices["check"].add_argument("--checkpoint", required=True, help="saved checkpoint")
    sub.choices["check"].add_argument("--save", help="write the verified latest checkpoint here")
    sub.choices["inclusion"].add_argument("--index", type=int, required=True)
    sub.choices["trace"].add_argument("--estimate", type=int, required=True, help="estimate id")
    sub.choices["trace"].add_argument("--output", help="save the trace bytes here")
    args = parser.parse_args(_attached(sys.argv[1:] if argv is None else argv))
    if not args.token:
        parser.error("--token (or CM_API_TOKEN) is required")
    try:
        COMMANDS[args.command](args, Api(args.url, args.token))
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
