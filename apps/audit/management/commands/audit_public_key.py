"""``python manage.py audit_public_key [--pin URL] [--file PATH]``: the audit log's
public key, read from the signing key on this machine (not over HTTP), to publish.

Prints the base64 Ed25519 public key and its key id. ``--pin URL`` also writes it into
the verifier's pinned keys (``verifier/pinned_keys.json``, or ``--file``) under the
platform's address, for the operator to commit: auditors then check checkpoints against
the key in the repository, not the one the server sends (docs/auditors.md).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.signing import public_key_bytes, signing_key
from verifier.__main__ import PINNED_KEYS, origin_of
from verifier.checkpoint import key_id


class Command(BaseCommand):
    help = "Print the audit log's public key (base64) and optionally pin it for the verifier."

    def add_arguments(self, parser):
        parser.add_argument("--pin", metavar="URL", help="write the key for this platform URL")
        parser.add_argument("--file", default=str(PINNED_KEYS), help="the pinned-keys file")

    def handle(self, *args, pin=None, file=None, **options):
        public = public_key_bytes(signing_key())
        encoded = base64.b64encode(public).decode("ascii")
        self.stdout.write(f"{encoded}\tkey id {key_id(public)}")
        if not pin:
            return
        if not pin.startswith(("http://", "https://")):
            raise CommandError(f"--pin {pin!r}: give the platform's address, http(s)://host")
        path = Path(file)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            document = {"keys": {}}
        except ValueError as exc:
            raise CommandError(f"{path}: not JSON ({exc})") from None
        document.setdefault("keys", {})[origin_of(pin)] = encoded
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self.stdout.write(f"pinned for {origin_of(pin)} in {path}: commit it to publish")
