"""``manage.py shipments_partitions [list|create|archive|reattach|check]``.

The partitions of the shipments table by declaration period (PostgreSQL; docs/scaling.md,
"Partitions by declaration period"; :mod:`apps.shipments.partitions`):

- ``list`` (the default): each partition with its period, lines and size, the default
  partition, and the archived periods (``--exact`` counts the lines instead of the
  planner's estimate);
- ``create [--ahead N] [PERIOD …]``: the partitions of today's quarter and the N after it
  (default 4), and of any period named: run it from cron, so that an ingest seldom creates
  one itself (it would, for any quarter a file brings);
- ``archive PERIOD``: detach the quarter (``2024Q1``), write its lines to the evidence
  store, drop it; its lines leave every page, list, total and API answer;
- ``reattach PERIOD``: read an archived quarter back and attach it;
- ``check``: what the database no longer enforces on a partitioned table (line flags
  pointing at a line, ids unique, one current version per declaration line); exit
  status 1 on a problem. Reads the whole table.

On the embedded default (SQLite) the table is a plain table: ``list`` says so, the others
fail with that reason (``check`` runs there too).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.shipments.archive import shipment_period_archive, shipment_period_reattach
from apps.shipments.models import ShipmentArchive
from apps.shipments.partitions import (
    PartitionError,
    partitioned,
    period_parse,
    quarters_ahead,
    shipment_integrity_problems,
    shipment_partitions,
    shipment_partitions_ensure,
)


class Command(BaseCommand):
    help = "List, create, archive and re-attach the shipments' partitions by declaration period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            nargs="?",
            default="list",
            choices=["list", "create", "archive", "reattach", "check"],
        )
        parser.add_argument("periods", nargs="*", help="quarters such as 2024Q1")
        parser.add_argument(
            "--ahead", type=int, default=4, help="create: quarters after today's (default 4)"
        )
        parser.add_argument("--exact", action="store_true", help="list: count the lines")

    def handle(self, *args, **o) -> None:
        action, periods = o["action"], o["periods"]
        try:
            if action == "check":
                return self._check()
            if not partitioned():
                if action == "list":
                    self.stdout.write(
                        "the shipments table is not partitioned here (partitions are a "
                        "PostgreSQL feature; the embedded default keeps one plain table)"
                    )
                    return
                raise CommandError(
                    f"{action}: the shipments table is not partitioned here; "
                    "partitions need PostgreSQL (migration shipments.0013)"
                )
            if action == "list":
                return self._list(o["exact"])
            if action == "create":
                quarters = set(quarters_ahead(o["ahead"])) | {period_parse(p) for p in periods}
                created = shipment_partitions_ensure(quarters=quarters)
                self.stdout.write(f"created {len(created)} partition(s)")
                for name in created:
                    self.stdout.write(f"  {name}")
                return
            if not periods:
                raise CommandError(f"{action}: name the period(s), e.g. 2024Q1")
            for period in periods:
                if action == "archive":
                    record = shipment_period_archive(period=period)
                    self.stdout.write(
                        f"archived {record.period}: {record.rows:,} lines "
                        f"({record.current_rows:,} current, {record.net_mass_t:,.3f} t, "
                        f"{record.embedded_emissions_t:,.3f} tCO2e), {len(record.flags)} "
                        f"flag(s), file sha256 {record.evidence.sha256}"
                    )
                else:
                    attached = shipment_period_reattach(period=period)
                    self.stdout.write(f"re-attached {period.upper()}: {attached:,} lines")
        except PartitionError as exc:
            raise CommandError(str(exc)) from None

    def _list(self, exact: bool) -> None:
        for part in shipment_partitions(exact=exact):
            bounds = f"{part.start} – {part.end}" if part.start else "any other date"
            self.stdout.write(
                f"{part.period:<8} {part.name:<34} {bounds:<25} "
                f"{part.rows:>12,} lines {part.bytes / 1e6:10.1f} MB"
            )
        for record in ShipmentArchive.objects.order_by("start"):
            self.stdout.write(
                f"{record.period:<8} archived {record.archived_at:%Y-%m-%d}: {record.rows:,} "
                f"lines in evidence sha256 {record.evidence.sha256}"
            )

    def _check(self) -> None:
        problems = shipment_integrity_problems()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found")
        self.stdout.write("no problem found")
