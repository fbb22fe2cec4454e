"""``python manage.py model_installations [--year YYYY ...] [--json]``: the modelled rung for
every operating installation of the registry (docs/modelled.md).  Without ``--year`` it
models the years the registry covers (its production figures)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.estimates.modelling import installations_model, registry_years


class Command(BaseCommand):
    help = "Model production, emissions and SEE of every operating installation and year."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, action="append", dest="years", default=None)
        parser.add_argument("--json", action="store_true", help="print one JSON summary")

    def handle(self, *args, **options) -> None:
        years = options["years"] or sorted(
            set(registry_years(source="gem_steel")) | set(registry_years(source="gem_cement"))
        )
        if not years:
            raise CommandError("no year given and the registry has none: pass --year YYYY")
        for year in years:
            if not 1990 <= year <= 2100:
                raise CommandError(f"--year {year}: expected a calendar year 1990–2100")
        summary = installations_model(years=years)
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), sort_keys=True))
            return
        self.stdout.write(
            f"modelled {summary.plant_years:,} plant-years ({', '.join(map(str, years))}): "
            f"rows {summary.rows_created} new, {summary.rows_updated} updated, "
            f"{summary.rows_unchanged} unchanged; estimates {summary.estimates_created} new, "
            f"{summary.estimates_existing} already stored; production "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_source.items()))
            + f"; {summary.seconds_total:.1f} s ({summary.seconds_model:.1f} s in the engine)"
        )
