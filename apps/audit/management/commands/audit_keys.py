"""``python manage.py audit_keys [--json]``: this instance's public keys as C2SP verifier
keys, to hand to the other members of the coalition (docs/integrity.md §4):

- ``log``: ``<origin>+<key ID>+<base64(0x01 || key)>``, for the witnesses' CM_WITNESS_LOGS
  and the auditors' ``python -m verifier --log-key``;
- ``witness``: ``<name>+<key ID>+<base64(0x04 || key)>``, for the members' CM_WITNESSES
  and the auditors' ``--witness-key``.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.audit.signing import public_key_bytes, signing_key
from apps.audit.witness import witness_key
from verifier.note import ed25519_key


class Command(BaseCommand):
    help = "Print this instance's log key and witness key as verifier keys."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object")

    def handle(self, *args, **options):
        keys = {
            "log": ed25519_key(settings.AUDIT_LOG_ORIGIN, public_key_bytes(signing_key())).vkey,
            "witness": witness_key().vkey,
        }
        if options.get("json"):
            self.stdout.write(json.dumps(keys))
            return
        for role, vkey in keys.items():
            self.stdout.write(f"{role}: {vkey}")
