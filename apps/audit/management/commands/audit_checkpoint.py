"""``python manage.py audit_checkpoint [--output FILE] [--witness]``: sign the current tree if
it grew, print the latest checkpoint as JSON (the document ``GET /api/v1/audit/checkpoint``
serves), and optionally save it for a later ``verify_audit_log --checkpoint FILE``. With
``--witness``, first ask the witnesses of CM_WITNESSES to cosign it (docs/integrity.md §4):
each witness's outcome goes to stderr, and the printed note carries the cosignatures.
Exit status 1, and nothing signed, when the log no longer extends the last checkpoint;
1 also when ``--witness`` was given and a witness refused or could not be reached."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.cosigning import WitnessUnavailable, checkpoint_cosign
from apps.audit.selectors import checkpoint_document
from apps.audit.services import CheckpointRefused, checkpoint_ensure


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit log and print it as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="also write the checkpoint JSON to this file")
        parser.add_argument(
            "--witness", action="store_true", help="collect the witnesses' cosignatures first"
        )

    def handle(self, *args, output: str | None = None, witness: bool = False, **options):
        try:
            checkpoint = checkpoint_ensure()
        except CheckpointRefused as exc:
            raise CommandError(str(exc), returncode=1) from None
        failed = False
        if witness:
            try:
                outcomes = checkpoint_cosign(checkpoint=checkpoint)
            except WitnessUnavailable as exc:
                outcomes, failed = {"unavailable": str(exc)}, True
            for name, outcome in outcomes.items():
                self.stderr.write(f"{name}: {outcome}")
                failed = failed or outcome.startswith("refused")
        text = json.dumps(checkpoint_document(checkpoint), indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(text, ending="")
        if failed:
            raise CommandError("not every witness cosigned the checkpoint", returncode=1)
