"""``manage.py eu_ets_load INSTALLATIONS_CSV COMPLIANCE_CSV``.

Stores the EU ETS verified emissions of the registry's plants by plant and year
(:func:`apps.facilities.services.reported_emissions_load`): what an installation's page
and the API show beside the modelled estimate as "reported" (docs/modelled.md).
Idempotent; rows the compliance file gets wrong are named with their line and skipped.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.facilities.services import reported_emissions_load
from ingest.base import IngestError


class Command(BaseCommand):
    help = "Load EU ETS verified emissions (euets.info installation.csv and compliance.csv)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("installations", type=Path, help="installation.csv of the EUTL")
        parser.add_argument("compliance", type=Path, help="compliance.csv of the EUTL")

    def handle(self, *args, installations: Path, compliance: Path, **o) -> None:
        for path in (installations, compliance):
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        try:
            out = reported_emissions_load(
                installations_csv=installations, compliance_csv=compliance
            )
        except IngestError as exc:
            raise CommandError(str(exc)) from exc
        for line in out["errors"][:20]:
            self.stderr.write(line)
        self.stdout.write(
            f"{out['plants']} plant(s) matched to {out['eutl_installations']} EU ETS "
            f"installation(s); {out['created']} year(s) stored, {out['updated']} updated, "
            f"{out['rows_rejected']} compliance row(s) rejected"
        )
