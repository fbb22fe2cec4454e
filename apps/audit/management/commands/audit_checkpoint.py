"""``python manage.py audit_checkpoint [--output FILE]``: sign the current tree if it grew,
print the latest checkpoint as JSON (the document ``GET /api/v1/audit/checkpoint`` serves),
and optionally save it for a later ``verify_audit_log --checkpoint FILE``. Exit status 1,
and nothing signed, when the log no longer extends the last checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import checkpoint_document
from apps.audit.services import CheckpointRefused, checkpoint_ensure


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit log and print it as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="also write the checkpoint JSON to this file")

    def handle(self, *args, output: str | None = None, **options):
        try:
            checkpoint = checkpoint_ensure()
        except CheckpointRefused as exc:
            raise CommandError(str(exc), returncode=1) from None
        text = json.dumps(checkpoint_document(checkpoint), indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(text, ending="")
