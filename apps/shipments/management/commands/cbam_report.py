"""``manage.py cbam_report --importer NAME_OR_EORI --year YYYY [--quarter Q] --output FILE.xml``.

Writes the CBAM Registry report (``QReport`` v19) of one importer for one period from its
current shipments: see :mod:`apps.shipments.registry_report` and :mod:`ingest.cbam_report`.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.shipments.registry_report import ReportInputError, importer_report
from ingest.cbam_report import ReportError, write_cbam_report


class Command(BaseCommand):
    help = "Write an importer's CBAM Registry report (XML, QReport v19) for a year or quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--importer", required=True, help="importer name or EORI")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--quarter", type=int, default=None, help="1-4; the whole year if left out"
        )
        parser.add_argument("--output", type=Path, required=True, help="the XML file to write")
        parser.add_argument(
            "--eori", default="", help="the declarant's EORI (if --importer is a name)"
        )
        parser.add_argument(
            "--country", default="", help="declarant's country (default: EORI prefix)"
        )
        parser.add_argument("--city", default="", help="declarant's city")

    def handle(self, *args, **o) -> None:
        try:
            report = importer_report(
                importer=o["importer"],
                year=o["year"],
                quarter=o["quarter"],
                eori=o["eori"],
                country=o["country"],
                city=o["city"],
            )
            xml = write_cbam_report(report)
        except (ReportInputError, ReportError) as exc:
            raise CommandError(str(exc)) from exc
        tmp = o["output"].with_name(o["output"].name + ".part")
        tmp.write_bytes(xml)
        tmp.replace(o["output"])  # never a half-written report
        lines = sum(len(g["emissions"]) for g in report["goods"])
        self.stdout.write(
            f"wrote {o['output']}: {len(report['goods'])} good(s), {lines} emissions line(s), "
            f"period {report['period']} {report['year']}"
        )
