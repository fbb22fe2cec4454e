"""This area's part of ``manage.py demo``: an importer's CBAM Registry report written from
its shipments (valid against v19), read back as declared evidence and reconciled with the
customs lines — no difference; then a copy altered by hand (filed under a second EORI)
whose reconciliation shows exactly the alterations (docs/official-formats.md)."""

from __future__ import annotations

import io
import json
import re

from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.db.models.functions import ExtractMonth, ExtractYear

from apps.accounts.models import Organisation, User
from apps.accounts.services import organisation_key
from apps.shipments.importer_views import importers_ensure
from apps.shipments.models import Shipment
from apps.shipments.reconciliation import reconcile
from apps.shipments.registry_report import ReportInputError

URL = "http://127.0.0.1:8000"
EORI = "DE000000000DEMO1"
ALTERED_EORI = "DE000000000DEMO2"
IMPORTER_PASSWORD = "importer-demo-2026"  # noqa: S105 - printed; demo use only


def _candidates():
    """(importer, year, quarter), the busiest first."""
    rows = (
        Shipment.objects.filter(is_current=True)
        .exclude(importer_name="")
        .annotate(y=ExtractYear("date"), m=ExtractMonth("date"))
        .values("importer_name", "y", "m")
        .annotate(n=Count("id"))
        .order_by("-n")[:40]
    )
    seen = set()
    for row in rows:
        key = (row["importer_name"], row["y"], (row["m"] - 1) // 3 + 1)
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
    for importer, year, quarter in _candidates():
        out = work / f"registry_report_{year}Q{quarter}.xml"
        try:
            call_command(
                "cbam_report", "--importer", importer, "--eori", EORI, "--year", str(year),
                "--quarter", str(quarter), "--output", str(out), stdout=io.StringIO(),
            )  # fmt: skip
        except (CommandError, ReportInputError):  # not declarable as it is: the next one
            continue
        break
    else:
        command.stdout.write("  no importer's quarter can be declared as it is: skipped")
        return
    command.stdout.write(f"importer {importer!r}, Q{quarter} {year}: report {out} (valid v19)")
    importers_ensure()
    organisation = Organisation.objects.get(key=organisation_key(importer))
    organisation.eori = EORI
    organisation.save(update_fields=["eori"])
    user, _ = User.objects.get_or_create(
        username="importer", defaults={"role": User.Role.IMPORTER, "organisation": organisation}
    )
    user.role, user.organisation = User.Role.IMPORTER, organisation
    user.set_password(IMPORTER_PASSWORD)
    user.save()
    command.stdout.write(
        f"  importer account: importer / {IMPORTER_PASSWORD} ({organisation.name}, EORI "
        f"{EORI}): {URL}/importer/ — its own lines and report.xml only"
    )
    summary = _ingest(out)
    command.stdout.write(
        f"  read back: {summary['accepted']} declared line(s) "
        f"({summary['duplicates']} already held)"
    )
    result = reconcile(declarant_id=EORI, year=year, period=f"Q{quarter}")
    command.stdout.write(
        f"  reconciliation: {result['declared_lines']} declared line(s), "
        f"{result['customs_lines']} customs line(s), {len(result['differences'])} difference(s)"
    )
    text = out.read_text(encoding="utf-8").replace(EORI, ALTERED_EORI)
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
        f"  pages: {URL}/reconciliation/  ·  {URL}/reconciliation/{EORI}/{year}/Q{quarter}/  ·  "
        f"{URL}/reconciliation/{ALTERED_EORI}/{year}/Q{quarter}/ (log in as official)"
    )
