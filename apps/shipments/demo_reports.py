"""This area's part of ``manage.py demo``: the importers the customs ingest made organisations
of (the demo's lines declare each importer's name and an invented EORI); an importer's CBAM
Registry report written from its shipments (valid against v19), read back as declared
evidence and reconciled with the customs lines — no difference; then a copy altered by
hand (filed under a second EORI) whose reconciliation shows exactly the alterations
(docs/official-formats.md)."""

from __future__ import annotations

import io
import json
import re

from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.db.models.functions import ExtractMonth, ExtractYear

from apps.accounts.models import Organisation, User
from apps.shipments.models import Shipment
from apps.shipments.reconciliation import reconcile
from apps.shipments.registry_report import ReportInputError

URL = "http://127.0.0.1:8000"
# The altered copy is filed under an EORI of its own (invented), so both reports are kept.
ALTERED_EORI = "DE000000000DEMO2"
IMPORTER_PASSWORD = "importer-demo-2026"  # noqa: S105 - printed; demo use only


def _candidates():
    """(importer organisation, year, quarter) of the customs lines, the busiest first: the
    organisations the customs ingest made of the lines' importers (with their EORI)."""
    rows = (
        Shipment.objects.filter(is_current=True, importer__isnull=False)
        .exclude(importer__eori="")
        .annotate(y=ExtractYear("date"), m=ExtractMonth("date"))
        .values("importer_id", "y", "m")
        .annotate(n=Count("id"))
        .order_by("-n")[:40]
    )
    seen = set()
    for row in rows:
        key = (row["importer_id"], row["y"], (row["m"] - 1) // 3 + 1)
        if key not in seen:
            seen.add(key)
            yield key


def _ingest(path) -> dict:
    out = io.StringIO()
    call_command("ingest", "cbam_report", str(path), "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def run(*, command, number: int) -> None:
    command._heading(f"{number}. Importers: Registry report written, read back, reconciled")
    work = settings.VAR_DIR / "demo"
    work.mkdir(parents=True, exist_ok=True)
    importers = Organisation.objects.filter(kind=Organisation.Kind.IMPORTER).exclude(eori="")
    command.stdout.write(
        f"importers from the customs lines (synthetic, invented EORIs): {importers.count()} "
        f"organisations — {URL}/importers/"
    )
    for importer_id, year, quarter in _candidates():
        organisation = Organisation.objects.get(pk=importer_id)
        eori = organisation.eori
        out = work / f"registry_report_{year}Q{quarter}.xml"
        try:
            call_command(
                "cbam_report", "--importer", eori, "--year", str(year),
                "--quarter", str(quarter), "--output", str(out), stdout=io.StringIO(),
            )  # fmt: skip
        except (CommandError, ReportInputError):  # not declarable as it is: the next one
            continue
        break
    else:
        command.stdout.write("  no importer's quarter can be declared as it is: skipped")
        return
    command.stdout.write(
        f"importer {organisation.name!r} ({eori}), Q{quarter} {year}: report {out} (valid v19)"
    )
    user, _ = User.objects.get_or_create(
        username="importer", defaults={"role": User.Role.IMPORTER, "organisation": organisation}
    )
    user.role, user.organisation = User.Role.IMPORTER, organisation
    user.set_password(IMPORTER_PASSWORD)
    user.save()
    command.stdout.write(
        f"  importer account: importer / {IMPORTER_PASSWORD} ({organisation.name}, EORI "
        f"{eori}): {URL}/importer/ — its own lines and report.xml only"
    )
    summary = _ingest(out)
    command.stdout.write(
        f"  read back: {summary['accepted']} declared line(s) "
        f"({summary['duplicates']} already held)"
    )
    result = reconcile(declarant_id=eori, year=year, period=f"Q{quarter}")
    command.stdout.write(
        f"  reconciliation: {result['declared_lines']} declared line(s), "
        f"{result['customs_lines']} customs line(s), {len(result['differences'])} difference(s)"
    )
    text = out.read_text(encoding="utf-8").replace(eori, ALTERED_EORI)
    text, _n = re.subn(
        r"(<DirectEmissions>.*?<SpecificEmbeddedEmissions>)([0-9.]+)",
        lambda m: f"{m.group(1)}{float(m.group(2)) + 0.1:.7f}",
        text,
        count=1,
        flags=re.S,
    )
    altered = work / f"registry_report_{year}Q{quarter}_altered.xml"
    altered.write_text(text, encoding="utf-8")
    _ingest(altered)
    changed = reconcile(declarant_id=ALTERED_EORI, year=year, period=f"Q{quarter}")
    command.stdout.write(
        f"  a copy altered by hand (first SEE direct + 0.1, EORI {ALTERED_EORI}): "
        f"{len(changed['differences'])} difference(s), "
        f"{changed['difference_tco2e']:.3f} tCO2e"
    )
    command.stdout.write(
        f"  pages: {URL}/reconciliation/  ·  {URL}/reconciliation/{eori}/{year}/Q{quarter}/  ·  "
        f"{URL}/reconciliation/{ALTERED_EORI}/{year}/Q{quarter}/ (log in as official)"
    )
