"""``manage.py figures_rechoose [--installation ID …] [--exporter ID …]``.

Re-chooses both figures of the current shipments (the CBAM figure and the best estimate,
docs/design.md, "The two figures of a shipment") with
:func:`apps.shipments.services.shipment_figures_rechoose`, and the monthly totals with
them. Without options it covers every current shipment: what a database migrated from
before ``best_*`` existed needs once (migration ``shipments.0007_best_estimate`` adds the
columns empty), and what a registry release triggers. Idempotent: a second run changes
nothing (docs/operations.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from apps.shipments.services import shipment_figures_rechoose


class Command(BaseCommand):
    help = "Re-choose both figures (CBAM figure and best estimate) of the current shipments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--installation", type=int, action="append", default=None, help="installation id"
        )
        parser.add_argument(
            "--exporter", type=int, action="append", default=None, help="exporter id"
        )

    def handle(self, *args, **o) -> None:
        out = shipment_figures_rechoose(installations=o["installation"], exporters=o["exporter"])
        tiers = ", ".join(f"{t} {n:,}" for t, n in sorted(out.tiers_before.items()))
        self.stdout.write(
            f"{out.shipments:,} shipment(s) changed in {len(out.months)} month(s), "
            f"{out.groups} group(s), {out.mixtures} mixture(s)"
            + (f"; best tiers before: {tiers}" if tiers else "")
        )
