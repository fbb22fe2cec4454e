"""``python manage.py demo [--no-serve]``: build the sample world and show it (docs/interfaces.md).

Creates one demo user per role, loads the real CBAM default values, generates customs
declaration lines from the real Eurostat Comext flows (with a sprinkle of realistic
errors), runs the pipeline through the task queue, prints a summary, and serves the web
app on 127.0.0.1:8000.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.module_loading import import_string

from apps.accounts.models import Organisation, User
from apps.accounts.services import api_token_create
from apps.adoption import demo as adoption_demo
from apps.audit.selectors import checkpoint_document
from apps.audit.services import checkpoint_ensure
from apps.evidence.models import IngestRun
from apps.evidence.selectors import ingest_run_report, ingest_run_wait
from apps.evidence.services import evidence_store_path, ingest_run_create
from apps.shipments import demo_implausible
from apps.shipments.models import Shipment
from apps.shipments.partitions import shipment_partitions
from fixtures.trade.generate_declarations import generate_declarations

FIXTURES = settings.BASE_DIR / "fixtures"
# The default values regenerated from the Commission's workbook of IR 2025/2621 Annex I
# (methodologies/data/README.md); the reader ignores its extra ``iso2`` column.
DEFAULTS_FILE = settings.BASE_DIR / "methodologies" / "data" / "cbam_default_values_IR2025-2621.csv"
COMEXT_EXTRACT = FIXTURES / "trade" / "eurostat_comext_ds045409_us_eu27_monthly.csv"

# The areas' demo steps, in order: each is ``run(*, command, number)`` and prints its section.
DEMO_STEPS = [
    "apps.facilities.demo.run",
    "apps.estimates.demo.run",
    "apps.grid.demo.run",
    "apps.satellite.demo.run",
    "apps.disclosures.demo.run",
    "apps.shipments.demo.run",
    "apps.shipments.demo_reports.run",
    "apps.pact.demo.run",
    "apps.audit.demo.run",
    "apps.adoption.demo.run",
]

# Demo users: (username, password, role). The passwords are printed; demo use only.
DEMO_USERS = [
    ("official", "official-demo-2026", User.Role.OFFICIAL),
    ("exporter", "exporter-demo-2026", User.Role.EXPORTER),
    ("auditor", "auditor-demo-2026", User.Role.AUDITOR),
    ("admin", "admin-demo-2026", User.Role.ADMIN),
]


class Command(BaseCommand):
    help = "Build the sample world, run the pipeline through the queue, serve on :8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="stop after the summary")
        parser.add_argument(
            "--scale",
            type=float,
            default=20.0,
            help="multiple of the real 2025 flows (20 gives about 187,000 declaration lines)",
        )
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self._users_ensure()
        # Before any figure: the coalition's members adopt the methodology version 2 of 3.
        adoption_demo.setup(command=self)
        work = settings.VAR_DIR / "demo"
        work.mkdir(parents=True, exist_ok=True)

        self._heading("1. CBAM default values (IR 2025/2621, Annex I)")
        self._ingest("defaults", DEFAULTS_FILE)

        self._heading("2. Customs declarations generated from Eurostat Comext flows")
        declarations = work / "declarations_2026.csv"
        made = generate_declarations(
            COMEXT_EXTRACT, declarations, year=2026, scale=options["scale"]
        )
        self.stdout.write(
            f"generated {made['lines']:,} lines in {made['declarations']:,} declarations "
            f"({made['comext_lines']:,} from Comext US flows of {made['source_year']}, "
            f"{made['synthetic_lines']:,} of other origins; {made['rejected_lines']} planted "
            f"errors)"
        )
        run = self._ingest("customs", declarations)
        demo_implausible.run(command=self, declarations=declarations, work=work)

        self._heading("3. Aggregate statistics: Eurostat Comext monthly flows (kept apart)")
        self._ingest("customs", COMEXT_EXTRACT)

        exporter_user = User.objects.get(username="exporter")
        if exporter_user.organisation_id is None:
            # The busiest iron and steel exporter: the demo disclosure is a steel works'
            # (apps/disclosures/demo.py), and what it discloses is what it ships.
            steel = Q(cn_code__startswith="72") | Q(cn_code__startswith="73")
            top = (
                Shipment.objects.filter(steel)
                .values("exporter")
                .annotate(n=Count("id"))
                .order_by("-n")
                .first()
            )
            if top:
                exporter_user.organisation_id = top["exporter"]
                exporter_user.save(update_fields=["organisation"])

        # Each evidence area adds its part of the sample world (grid, satellite, disclosures).
        for number, step in enumerate(DEMO_STEPS, start=4):
            import_string(step)(command=self, number=number)

        self._heading(f"{4 + len(DEMO_STEPS)}. Summary")
        self._summary(run)
        if options["no_serve"]:
            return
        self._heading(f"Serving on http://{options['addr']}/  (Ctrl-C to stop)")
        call_command("runserver", options["addr"], use_reloader=False)

    def _heading(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n{text}"))

    def _users_ensure(self) -> None:
        authority, _ = Organisation.objects.get_or_create(
            key="demo customs authority",
            defaults={"name": "Demo customs authority", "kind": Organisation.Kind.AUTHORITY},
        )
        for username, password, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = User(username=username, role=role)
            user.set_password(password)
            if role == User.Role.ADMIN:
                user.is_staff = user.is_superuser = True
            if role == User.Role.OFFICIAL:
                user.organisation = authority
            user.save()

    def _ingest(self, source: str, path: Path) -> IngestRun:
        with transaction.atomic():
            evidence = evidence_store_path(path=path)
            run = ingest_run_create(source=source, evidence=evidence, original_name=path.name)
        run = ingest_run_wait(
            run=run,
            on_change=lambda r: self.stdout.write(
                f"  … {r.status}: read {r.rows_read:,}, accepted {r.accepted:,}"
            ),
        )
        lines = ingest_run_report(run, max_errors=8)
        if run.status == IngestRun.Status.FAILED:
            self.stderr.write(self.style.ERROR(lines[0]))
        else:
            self.stdout.write("\n".join(lines))
            self.stdout.write(f"  error report: http://127.0.0.1:8000/ingests/{run.pk}/")
        return run

    def _pages(self, *, first_shipment: Shipment | None) -> None:
        """The web app's pages worth opening, with the sample world's ids."""
        base = "http://127.0.0.1:8000"
        self.stdout.write("\nPages to look at (log in as official):")
        lines = [
            ("dashboard", "/dashboard/"),
            ("shipments (filters, sorting, CSV/XLSX export)", "/shipments/?cn_code=72"),
            ("methodologies (generated from the engine)", "/methodologies/"),
            ("rankings by CN code, origin, exporter (sortable)", "/rankings/"),
            ("lines flagged implausible at ingest", "/shipments/?implausible=only"),
            ("operations: read replica and its lag (as admin)", "/operations/"),
        ]
        if first_shipment is not None:
            lines += [
                (
                    "a shipment report (trace, certificates, history)",
                    f"/shipments/{first_shipment.pk}/",
                ),
                ("its exporter", f"/exporters/{first_shipment.exporter_id}/"),
                (
                    "exporters of its product side by side",
                    f"/compare/?cn_code={first_shipment.cn_code}&origin={first_shipment.origin}",
                ),
            ]
            if first_shipment.estimate_id:
                lines.append(("its estimate", f"/estimates/{first_shipment.estimate_id}/"))
        for label, path in lines:
            self.stdout.write(f"  {label:<50} {base}{path}")
        self.stdout.write(
            "  Every page in English, French or Spanish: the Language selector in the header "
            "(docs/languages.md)"
        )

    def _summary(self, run: IngestRun) -> None:
        # Headline figures: current lines, without those flagged implausible at ingest.
        headline = Shipment.objects.filter(is_current=True, implausible=False)
        totals = headline.aggregate(
            n=Count("id"), mass=Sum("net_mass_t"), emb=Sum("embedded_emissions_t")
        )
        self.stdout.write(
            f"shipments {totals['n']:,}; net mass {totals['mass'] or 0:,.0f} t; "
            f"embedded emissions {totals['emb'] or 0:,.0f} tCO2e"
        )
        flagged = Shipment.objects.filter(is_current=True, implausible=True).aggregate(
            n=Count("id"), mass=Sum("net_mass_t")
        )
        self.stdout.write(
            f"  left out: {flagged['n']:,} line(s) flagged implausible at ingest, "
            f"{flagged['mass'] or 0:,.0f} t (/shipments/?implausible=only)"
        )
        parts = [p for p in shipment_partitions() if p.start is not None]
        self.stdout.write(
            f"  stored in {len(parts)} partitions by declaration quarter ({parts[0].period} to "
            f"{parts[-1].period}) and a default one: manage.py shipments_partitions"
            if parts
            else "  stored in one plain table (the embedded default); on PostgreSQL by "
            "declaration quarter: manage.py shipments_partitions"
        )
        for row in (
            headline.values("origin")
            .annotate(mass=Sum("net_mass_t"), emb=Sum("embedded_emissions_t"))
            .order_by("-emb")[:10]
        ):
            self.stdout.write(
                f"  {row['origin']}: {row['mass']:,.0f} t, {row['emb'] or 0:,.0f} tCO2e"
            )
        self._pages(first_shipment=Shipment.objects.order_by("id").first())
        self.stdout.write("\nDemo users (demo passwords, change them for anything real):")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role.label:<16} {username} / {password}")
        token, expires = api_token_create(user=User.objects.get(username="auditor"))
        first = Shipment.objects.exclude(estimate=None).order_by("id").first()
        self.stdout.write(f"\nAuditor API token (expires {expires:%Y-%m-%d %H:%M} UTC): {token}")
        if first is not None:
            self.stdout.write(
                f"  curl -s -H 'Authorization: Token {token}' "
                f"http://127.0.0.1:8000/api/v1/estimates/{first.estimate_id}/trace"
            )
        checkpoint = checkpoint_ensure()
        saved = settings.VAR_DIR / "demo" / "checkpoint.json"
        saved.write_text(json.dumps(checkpoint_document(checkpoint), indent=2))
        self.stdout.write(
            f"\nAudit log: {checkpoint.tree_size:,} events, root {checkpoint.root_hash[:16]}…, "
            f"signed checkpoint saved to {saved}\n"
            f"  python manage.py verify_audit_log --checkpoint {saved}\n"
            f"  python -m verifier check --url http://127.0.0.1:8000 --token {token} "
            f"--checkpoint {saved} --public-key {checkpoint.public_key}"
        )
