"""``python manage.py verify_audit_log --checkpoint FILE [--public-key KEY]``.

Checks the database against a checkpoint saved earlier (``audit_checkpoint --output`` or
the API's answer): its signature, every leaf hash against its data, the root at its tree
size, and the consistency proof from it to the latest stored checkpoint. Prints one line
per check. Exit status 0 when all pass, 1 on any mismatch, 2 when FILE cannot be read.
The key defaults to the platform's own (``CM_AUDIT_SIGNING_KEY`` or the var dir file).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import audit_log_verify
from apps.audit.signing import public_key_bytes, signing_key


class Command(BaseCommand):
    help = "Verify the audit log in the database against a saved signed checkpoint."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", required=True, help="checkpoint JSON saved earlier")
        parser.add_argument("--public-key", help="Ed25519 public key (base64); default: ours")

    def handle(self, *args, checkpoint: str, public_key: str | None = None, **options):
        try:
            document = json.loads(Path(checkpoint).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {checkpoint}: {exc}", returncode=2) from None
        if public_key:
            try:
                key = base64.b64decode(public_key, validate=True)
            except binascii.Error:
                raise CommandError("--public-key is not base64", returncode=2) from None
        else:
            key = public_key_bytes(signing_key())
        checks = audit_log_verify(document=document, public_key=key)
        for check in checks:
            self.stdout.write(f"[{'ok' if check.ok else 'FAIL'}] {check.text}")
        if not all(check.ok for check in checks):
            raise CommandError("the audit log does NOT match the checkpoint", returncode=1)
        self.stdout.write("the audit log matches the checkpoint and has only grown since")
