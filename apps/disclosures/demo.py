"""This area's part of ``manage.py demo``: the demo exporter discloses one installation's
data in our spreadsheet template and uploads the JRC steel report (an excerpt: its title
page and the page of Tables A3/A4), both through the queue; the spreadsheet's values are
confirmed through the service and the shipments declared with that installation move
from default values to "disclosed actual". Then the Commission's five filled example
templates are loaded as disclosures of the installations they describe (invented by the
Commission, and labelled so): the steel one for the demo exporter to review, the others
confirmed."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from apps.accounts.models import User
from apps.disclosures.extraction import llm_config
from apps.disclosures.models import DisclosureVersion
from apps.disclosures.services import disclosure_submit, disclosure_version_confirm
from apps.evidence.selectors import ingest_run_wait
from apps.evidence.services import evidence_store
from apps.facilities.models import Installation
from apps.shipments.models import Shipment

FIXTURES = settings.BASE_DIR / "fixtures" / "disclosures"
EXAMPLES = settings.BASE_DIR / "fixtures" / "cbam" / "official" / "template_examples"
#: The Commission's five filled examples of its communication template (v2.1, reporting
#: period 2023; fixtures/cbam/README.md gives their source and licence): file, the
#: installation as the example names it, its country, its route. The installations and
#: their figures are the Commission's invented examples, and the demo says so.
COMMISSION_EXAMPLES = [
    (
        "2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace.xlsx",
        "Example Blast Steelworks",
        "CN",
        "bf_bof",
    ),
    ("1_CBAM_SEE_V2.1_Example_Cement.xlsx", "Example Cement Producer", "TR", "cement"),
    (
        "3_CBAM_SEE_V2.1_Example_Steel_2_EAF_alloys.xlsx",
        "Example EAF Steelworks",
        "US",
        "scrap_eaf",
    ),
    ("5_CBAM_SEE_V2.1_Example_Fertilizer.xlsx", "Example Fertiliser Producer", "VN", ""),
    ("6_CBAM_SEE_V2.1_Example_Aluminium.xlsx", "Example Aluminium Producer", "US", "al_primary"),
]
EXAMPLES_YEAR = 2023
TEMPLATE = FIXTURES / "template_example.csv"
REPORT = FIXTURES / "JRC129297_01_excerpt.pdf"
URL = "http://127.0.0.1:8000"


#: The template example describes an integrated steel works (coke, blast furnace, hot-rolled
#: plate and slabs): it is only ever disclosed for iron and steel goods (CN chapters 72 and
#: 73), never relabelled as another sector's product.
TEMPLATE_CHAPTERS = ("72", "73")


def _installation(exporter: User) -> tuple[Installation, int, list[str]] | None:
    """The exporter's most declared installation identifier among its iron and steel
    lines (created as an installation of its organisation), the year and the CN codes of
    those shipments."""
    steel = Q()
    for chapter in TEMPLATE_CHAPTERS:
        steel |= Q(cn_code__startswith=chapter)
    rows = (
        Shipment.objects.filter(steel, is_current=True, exporter_id=exporter.organisation_id)
        .exclude(installation_identifier="")
        .values("installation_identifier", "origin")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    for row in rows[:20]:
        ident = row["installation_identifier"]
        existing = Installation.objects.filter(identifier=ident).first()
        if existing is not None and existing.organisation_id != exporter.organisation_id:
            continue
        installation = existing or Installation.objects.create(
            identifier=ident,
            name=f"{exporter.organisation.name} works {ident.rsplit('-', 1)[-1]}",
            organisation=exporter.organisation,
            country=row["origin"],
        )
        shipments = Shipment.objects.filter(steel, is_current=True, installation_identifier=ident)
        year = shipments.order_by("-date").values_list("date", flat=True).first().year
        codes = Counter(shipments.values_list("cn_code", flat=True))
        return installation, year, [code for code, _ in codes.most_common(2)]
    return None


def _template(installation: Installation, year: int, codes: list[str], work: Path) -> Path:
    """The template example, adapted: this installation, this year, these goods."""
    out = work / f"disclosure_{installation.identifier}_{year}.csv"
    with TEMPLATE.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(sink, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            key = (row["section"], row["item"], row["field"])
            if key == ("installation", "", "id"):
                row["value"] = installation.identifier
            elif key == ("installation", "", "name"):
                row["value"] = installation.name
            elif key == ("installation", "", "country"):
                row["value"] = installation.country
            elif row["section"] == "period":
                row["value"] = f"{year}-01-01" if row["field"] == "start" else f"{year}-12-31"
            elif row["section"] == "goods" and row["field"] == "cn_code":
                index = int(row["item"]) - 1
                row["value"] = codes[min(index, len(codes) - 1)]
            elif row["section"] == "verifier" and row["field"] == "date":
                row["value"] = f"{year + 1}-03-15"
            writer.writerow(row)
    return out


def _submit(exporter: User, installation: Installation, year: int, path: Path, **kw):
    with path.open("rb") as stream, transaction.atomic():
        evidence = evidence_store(stream=stream, name=path.name)
        version = disclosure_submit(
            user=exporter,
            installation=installation,
            period_year=year,
            evidence=evidence,
            original_name=path.name,
            **kw,
        )
    if version.ingest_run_id:
        ingest_run_wait(run=version.ingest_run)
    version.refresh_from_db()
    return version


def _tiers(ident: str) -> dict[str, int]:
    # The best estimate's tier: a disclosure moves it; the CBAM figure moves only when
    # verified (docs/design.md, the two figures of a shipment).
    rows = Shipment.objects.filter(is_current=True, installation_identifier=ident)
    return dict(rows.values_list("best_tier").annotate(n=Count("id")).order_by("best_tier"))


def _commission_examples(command, exporter: User) -> None:
    """The Commission's five example templates as disclosures, through the queue: the
    blast-furnace steelworks for the demo exporter (a steel exporter), left for it to review
    and preview in the portal; the other four for an organisation of their own
    ("Commission template examples"), confirmed, so their recomputed SEE are estimates."""
    from apps.accounts.models import Organisation

    examples, _ = Organisation.objects.get_or_create(
        key="commission template examples",
        defaults={"name": "Commission template examples", "kind": Organisation.Kind.EXPORTER},
    )
    owner, created = User.objects.get_or_create(
        username="examples",
        defaults={"role": User.Role.EXPORTER, "organisation": examples},
    )
    if created:
        owner.set_unusable_password()  # nobody logs in as it; officials read its data
        owner.save(update_fields=["password"])
    command.stdout.write(
        "  the Commission's filled examples of its communication template (v2.1, 2023; "
        "invented installations, labelled as such):"
    )
    for index, (name, installation_name, country, route) in enumerate(COMMISSION_EXAMPLES):
        user = exporter if index == 0 else owner
        ident = f"EXAMPLE-{Path(name).stem.split('_', 1)[0]}-{country}"
        installation, _ = Installation.objects.get_or_create(
            identifier=ident,
            defaults={
                "name": f"{installation_name} (the Commission's example, invented)",
                "organisation": user.organisation,
                "country": country,
                "routes": [route] if route else [],
            },
        )
        version = _submit(user, installation, EXAMPLES_YEAR, EXAMPLES / name)
        products = ((getattr(version, "trace", None) and version.trace.recompute) or {}).get(
            "products", []
        )
        agree = ", ".join(
            f"CN {p['cn_code']} SEE {p['see_direct_t_per_t']:.4f} direct "
            f"({'agrees with' if p['agrees'] else 'differs from'} the template)"
            for p in products
        )
        if index > 0 and version.status == "review":
            disclosure_version_confirm(version=version, user=user)
            version.refresh_from_db()
        command.stdout.write(
            f"  {name}: {installation.identifier}, version {version.number} "
            f"{version.get_status_display()}; {agree or 'no product recomputed'}"
        )


def run(*, command, number: int) -> None:
    """Add this area's sample data through the queue and print what it shows."""
    command._heading(f"{number}. Exporter disclosures")
    exporter = User.objects.filter(username="exporter").select_related("organisation").first()
    if exporter is None or exporter.organisation_id is None:
        command.stdout.write("  no demo exporter with an organisation: skipped")
        return
    found = _installation(exporter)
    if found is None:
        command.stdout.write(
            "  the exporter's iron and steel shipments declare no installation: skipped "
            "(the template example is a steel works)"
        )
        return
    installation, year, codes = found
    work = settings.VAR_DIR / "demo"
    work.mkdir(parents=True, exist_ok=True)
    command.stdout.write(
        f"exporter {exporter.organisation.name}: installation {installation.identifier} "
        f"({installation.country}), {year}, goods {', '.join(codes)}"
    )

    sheet = _submit(exporter, installation, year, _template(installation, year, codes, work))
    command.stdout.write(
        f"  spreadsheet: version {sheet.number}, {sheet.get_status_display()}, "
        f"{sheet.values.count()} values each with its line, extractor {sheet.extractor}"
    )
    before = _tiers(installation.identifier)
    if sheet.status == "review":
        engine = disclosure_version_confirm(version=sheet, user=exporter)
    else:
        engine = sheet.engine or {"estimates": [], "shipments": 0}
    after = _tiers(installation.identifier)
    for e in engine["estimates"]:
        command.stdout.write(
            f"  disclosed estimate #{e['id']} CN {e['cn_code']}: SEE "
            f"{e['see_total_t_per_t']:.4f} tCO2e/t, {e['shipments']} shipments re-pointed"
        )
    command.stdout.write(
        f"  shipments of {installation.identifier} by best-estimate tier: before {before}"
    )
    command.stdout.write(
        f"  {' ' * len(installation.identifier)}                               after  {after}"
    )

    extractor = "an LLM" if llm_config() else "the rule-based extractor (no LLM_BASE_URL set)"
    command.stdout.write(f"  PDF report (JRC129297 excerpt) read by {extractor} …")
    report = _submit(exporter, installation, year - 1, REPORT)
    page_values = report.values.filter(page=2).count()
    command.stdout.write(
        f"  PDF report: version {report.number}, {report.get_status_display()}, extractor "
        f"{report.extractor}: {report.values.count()} values ({page_values} from Tables "
        f"A3/A4), each with page, quote and box; awaiting the exporter's review"
    )
    _commission_examples(command, exporter)
    reviewed = DisclosureVersion.objects.filter(pk=report.pk).first()
    command.stdout.write(
        f"  pages: {URL}/disclosures/  ·  {URL}/disclosures/{sheet.disclosure_id}/  ·  "
        f"{URL}/disclosures/{reviewed.disclosure_id}/versions/{reviewed.number}/review/ "
        f"(log in as exporter)"
    )
