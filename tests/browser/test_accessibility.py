"""WCAG 2.2 AA in a real browser (docs/languages.md, "Accessibility"): axe-core (its WCAG
2.0-2.2 A and AA rules) finds no serious or critical violation on any page of the site, in
English, French and Spanish;
and an official goes from the dashboard to a shipment's trace with the keyboard alone.

The pages are the site's URL conf: every route of an app's ``urlpatterns`` is either
visited here (as a role that may see it, on one world built for the module's first test)
or named in :data:`NOT_PAGES` with the reason it is no page (a download, a POST-only
action, a protocol endpoint). A new route fails the first test until it is one or the
other, so no page escapes the check.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.browser.conftest import AXE, WCAG_AA, axe_found, axe_start

pytestmark = [pytest.mark.browser, pytest.mark.services]

LANGUAGES = ("en", "fr", "es")
EORI = "DE1234567890"

#: Routes that serve no page, and why.
NOT_PAGES = {
    "favicon": "an icon",
    "logout": "POST only (the header's log-out button)",
    "token-revoke": "POST only (a token row's button)",
    "match-decide": "POST only (a suggestion's buttons)",
    "flag-transition": "POST only (a flag's buttons)",
    "disclosure-verification": "POST only (the verification form)",
    "disclosure-decide": "POST only (the decision form)",
    "ingest-run-errors": "a CSV download",
    "ingest-run-file": "a file download",
    "importer-report": "an XML download",
    "disclosure-template": "an XLSX download",
    "disclosure-template-file": "a template download",
    "disclosure-page-image": "a PNG of a report's page",
    "shipment-export-create": "POST only (the list's Export buttons)",
    "shipment-export-download": "a CSV or XLSX download",
    "witness-add-checkpoint": "the C2SP tlog-witness protocol (text bodies)",
    "pact-token": "the PACT API (JSON)",
    "pact-footprint-list": "the PACT API (JSON)",
    "pact-footprint": "the PACT API (JSON)",
    "pact-events": "the PACT API (JSON)",
}


def page_routes() -> set[str]:
    """The names of the routes the apps mount at the site root (config/urls.py)."""
    from django.urls import URLPattern

    from config import urls

    names = set()
    for module in urls.APPS:
        for pattern in getattr(module, "urlpatterns", []):
            assert isinstance(pattern, URLPattern), pattern
            names.add(pattern.name)
    return names


#: The coalition of the world's methodology versions (docs/adoption.md): 2 of 3 members.
MEMBERS = ("member-a.example", "member-b.example", "member-c.example")


def build_coalition(settings) -> dict:
    """Three member keys, a threshold of 2 and version 2026.1 proposed before any figure
    is computed (so the world's figures are previews)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from apps.adoption.services import methodology_version_propose
    from verifier.note import ed25519_key, raw_public_key

    keys = {name: Ed25519PrivateKey.generate() for name in MEMBERS}
    settings.COALITION_KEYS = " ".join(
        ed25519_key(n, raw_public_key(k)).vkey for n, k in keys.items()
    )
    settings.ADOPTION_THRESHOLD = 2
    return {"keys": keys, "adopted": methodology_version_propose(label="2026.1")}


def adopt_and_propose(coalition: dict) -> None:
    """Members A and B sign 2026.1 (adopted, a table of signatures; the figures already
    computed stay previews); 2026.2 is proposed beside it (a preview, and the comparison
    form)."""
    from apps.adoption.services import methodology_version_propose, methodology_version_sign
    from verifier.adoption import sign_adoption

    version = coalition["adopted"]
    for name in MEMBERS[:2]:
        line = sign_adoption(coalition["keys"][name], name, version.statement)
        methodology_version_sign(version=version, line=line)
    methodology_version_propose(
        label="2026.2", parameters={"cbam.default": {"without_markup": True}}
    )


def build_world(users: dict, tmp_path, settings) -> dict:
    """One of each thing a page shows: customs lines (one declaring an installation, one
    implausible), a confirmed disclosure, an importer's declared report, a grid zone with a
    hydrogen assessment, an adopted methodology version beside a preview. Built through the
    public commands and services, as the tests of each area do."""
    coalition = build_coalition(settings)
    from apps.accounts.models import Organisation, User
    from apps.disclosures.services import disclosure_version_confirm
    from apps.evidence.models import IngestRun
    from apps.evidence.services import evidence_store_path, ingest_run_create
    from apps.facilities.models import Installation
    from apps.grid.services import hydrogen_assessment_run
    from apps.shipments.models import ExportJob, Shipment
    from apps.shipments.services import shipment_export_run
    from tests.apps.disclosures.conftest import template_2026, upload
    from tests.apps.grid.conftest import PT_WEEK, hourly_csv

    ingest_json("defaults", DEFAULTS_CSV)
    customs = ingest_json(
        "customs",
        write_customs(
            tmp_path / "a11y-customs.csv",
            [
                "A1,1,2026-03-02,72081000,CN,Exporter A,Imp,900000,,4000,",
                "A1,2,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
                "A2,1,2026-04-10,25232900,TR,Exporter B,Importer South,30000,,4000,",
                "A3,1,2026-05-04,72081000,CN,Exporter B,Importer South,900000000,,4000,",
            ],
        ),
    )
    assert customs["accepted"] == 4, customs
    installation = Installation.objects.create(
        identifier="IN-MH-0042",
        name="Example Steel Works Unit 2",
        organisation=users["org_a"],
        country="IN",
    )
    version = upload(users["exporter_a"], installation, template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=version, user=users["exporter_a"])
    # A second version waiting for review: what confirming it changes (?preview=1).
    pending = upload(
        users["exporter_a"], installation, template_2026(tmp_path, **{"410,kt": "500,kt"}), 2026
    )
    assert pending.status == "review", pending.status
    report = tmp_path / "a11y-q1.xml"
    call_command(
        "cbam_report", "--importer", "Imp", "--eori", EORI, "--year", "2026",
        "--quarter", "1", "--output", str(report), stdout=io.StringIO(),
    )  # fmt: skip
    assert ingest_json("cbam_report", report)["accepted"] >= 1
    # The declared report's ingest registered its declarant: the importer's organisation.
    importer_org = Organisation.objects.get(key="imp")
    importer = User.objects.create_user(
        username="importer", password="pw-importer", role=User.Role.IMPORTER
    )
    importer.organisation = importer_org
    importer.save()
    for path in (PT_WEEK, hourly_csv(tmp_path / "h2.csv", "H2-A11Y", [
        (f"2024-01-01 {h:02d}:00", 300.0, 300.0) for h in range(4)
    ])):  # fmt: skip
        run = ingest_run_create(
            source="grid", evidence=evidence_store_path(path=path), original_name=path.name
        )
        run.refresh_from_db()
        assert run.status == IngestRun.Status.DONE, run.failure
    electrolyser = Installation.objects.create(
        identifier="H2-A",
        name="Electrolyser of A",
        organisation=users["org_a"],
        country="PT",
        routes=[Installation.Route.H2_ELECTROLYSIS],
        grid_zone="H2-A11Y",
    )
    assessment = hydrogen_assessment_run(
        installation=electrolyser,
        start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        renewable_mwh=[20.0, 0.0, 20.0, 0.0],
        consumption_mwh=[10.0] * 4,
        electrolyser_efficiency=0.6,
    )
    declared = Shipment.objects.get(declaration_id="A1", line=2, is_current=True)
    assert declared.best_tier == "disclosed"
    assert declared.estimate.preview and declared.best_estimate.preview
    adopt_and_propose(coalition)
    # An official's export of the list, written (as its task does) and ready to download.
    export = ExportJob.objects.create(
        user=users["official"], query="cn_code=72081000", format="csv"
    )
    assert shipment_export_run(job_id=export.pk)
    return {
        **users,
        "importer": importer,
        "shipment": declared,
        "estimate": declared.best_estimate,
        "installation": installation,
        "version": version,
        "pending": pending,
        "export": export,
        "assessment": assessment,
        "customs_run": IngestRun.objects.filter(source="customs").first(),
    }


def pages_of(w: dict) -> dict[str, tuple[str | None, str]]:
    """Route name → (the role that visits it, None for anyone; its URL in the world)."""
    v = w["version"]
    return {
        "home": ("official", "/"),
        "login": (None, "/login/"),
        "dashboard": ("official", "/dashboard/"),
        "exporter-detail": ("exporter_a", f"/exporters/{w['org_a'].pk}/"),
        "estimate-detail": ("auditor", f"/estimates/{w['estimate'].pk}/"),
        "glossary": ("exporter_a", "/glossary/"),
        "flag-list": ("official", "/flags/?show=all"),
        "operations": ("admin", "/operations/"),
        "methodology-list": ("auditor", "/methodologies/"),
        "methodology-detail": ("auditor", "/methodologies/cbam.installation/"),
        "token-list": ("auditor", "/account/tokens/"),
        "ingest-run-list": ("official", "/ingests/"),
        "ingest-run-detail": ("official", f"/ingests/{w['customs_run'].pk}/"),
        "ingest-run-excerpt": ("official", f"/ingests/{w['customs_run'].pk}/excerpt/?line=3"),
        "installation-list": ("official", "/installations/"),
        "installation-detail": ("official", f"/installations/{w['installation'].pk}/"),
        "match-review": ("official", "/matches/"),
        "grid-zone-list": ("official", "/grid/"),
        "grid-zone-detail": ("official", "/grid/zones/PT/?year=2024"),
        "hydrogen-report": ("exporter_a", f"/grid/hydrogen/{w['assessment'].pk}/"),
        "shipment-list": ("official", "/shipments/"),
        "shipment-detail": ("official", f"/shipments/{w['shipment'].pk}/"),
        "risk": ("official", "/risk/"),
        "rankings": ("official", "/rankings/"),
        "compare": ("official", "/compare/?cn_code=72081000"),
        "importer-list": ("official", "/importers/"),
        "importer-home": ("importer", "/importer/"),
        "reconciliation-list": ("official", "/reconciliation/"),
        "reconciliation-detail": ("official", f"/reconciliation/{EORI}/2026/Q1/"),
        "disclosure-list": ("exporter_a", "/disclosures/"),
        "disclosure-upload": ("exporter_a", "/disclosures/upload/"),
        "disclosure-detail": ("official", f"/disclosures/{v.disclosure_id}/"),
        "disclosure-review": (
            "exporter_a",
            f"/disclosures/{v.disclosure_id}/versions/{v.number}/review/",
        ),
        "shipment-export-detail": ("official", f"/shipments/exports/{w['export'].pk}/"),
        "methodology-versions": ("official", "/methodology-versions/"),
        "methodology-versions-compare": (
            "auditor",
            "/methodology-versions/compare/?a=2026.1&b=2026.2",
        ),
    }


#: What the world must put on a page for axe to check it (the markup of adoption:
#: a figure's status, the signature form, the comparison form and the compared figures).
SHOWN = {
    "shipment-detail": ("#cbam-figure .figure-status .tier-preview", "#why-default li"),
    "disclosure-upload": ("#templates li",),
    "disclosure-review": (".review-group table",),
    "disclosure-review (confirm preview)": ("#preview-summary", "#preview form button"),
    "shipment-export-detail": ("#export-download a",),
    "estimate-detail": (".figure-status .tier-preview",),
    "methodology-versions": ("form.sign textarea", "#compare-a", "[data-status=adopted]"),
    "methodology-versions-compare": ("tbody td.num",),
}

#: Pages no route names: the error pages, seen by the roles that meet them.
ERROR_PAGES = {
    "404": ("official", "/estimates/999999999/", 404),
    "403": ("exporter_a", "/operations/", 403),
}


def more_pages_of(w: dict) -> dict[str, tuple[str | None, str, int]]:
    """Other states of a route's page: the error pages, and what confirming a version
    waiting for review changes."""
    p = w["pending"]
    review = f"/disclosures/{p.disclosure_id}/versions/{p.number}/review/?preview=1"
    return {**ERROR_PAGES, "disclosure-review (confirm preview)": ("exporter_a", review, 200)}


def _session_cookie(user, base_url: str) -> dict:
    """A logged-in session for ``user``, as a browser cookie (the test client's login,
    instead of typing into the form for every role)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


def test_every_page_has_no_serious_violation_in_any_language(
    postgres, users, tmp_path, settings, browser, live_server
):
    world = build_world(users, tmp_path, settings)
    pages = pages_of(world)
    routes = page_routes()
    assert routes - pages.keys() - NOT_PAGES.keys() == set(), (
        "routes neither checked nor named as no page: add them to pages_of() or NOT_PAGES"
    )
    assert (pages.keys() | NOT_PAGES.keys()) - routes == set(), "names of routes that are gone"

    visits: dict[str | None, list[tuple[str, str, int]]] = {}
    for name, (role, url) in pages.items():
        visits.setdefault(role, []).append((name, url, 200))
    extra = more_pages_of(world)
    for name, (role, url, status) in extra.items():
        visits.setdefault(role, []).append((name, url, status))

    problems: list[str] = []
    checked = 0
    for role, role_pages in visits.items():
        # One context per language, each with the switcher's cookie (what POST
        # /i18n/setlang/ sets): a page is loaded in the three, then checked in the three at
        # once (each tab is a renderer process of its own).
        contexts = [browser.new_context(base_url=live_server.url) for _ in LANGUAGES]
        try:
            tabs = []
            for context, lang in zip(contexts, LANGUAGES, strict=True):
                context.set_default_timeout(15_000)
                # axe-core in every page the context opens, before the page's own scripts
                # (through the DevTools protocol, as axe_start does: the CSP stays whole).
                context.add_init_script(path=str(AXE))
                cookies = [{"name": "cm_language", "value": lang, "url": live_server.url}]
                if role is not None:
                    cookies.append(_session_cookie(world[role], live_server.url))
                context.add_cookies(cookies)
                tabs.append((lang, context.new_page()))
            for name, url, status in role_pages:
                started = []
                for lang, page in tabs:
                    where = f"{lang} {name} {url} as {role or 'anyone'}"
                    response = page.goto(url)
                    if response is None or response.status != status:
                        problems.append(f"{where}: HTTP {response and response.status}")
                        continue
                    for selector in SHOWN.get(name, ()):
                        if page.locator(selector).count() == 0:
                            problems.append(f"{where}: nothing matches {selector!r}")
                    if page.get_attribute("html", "lang") != lang:
                        problems.append(f"{where}: <html lang> is not {lang}")
                    # A catalog's escaped percent sign or markup shown as text.
                    for shown in ("%%", "&lt;", "%(", "{{"):
                        if page.evaluate("(s) => document.body.innerText.includes(s)", shown):
                            problems.append(f"{where}: the page shows {shown!r}")
                    axe_start(page, WCAG_AA)
                    started.append((where, page))
                for where, page in started:
                    problems += [f"{where}: {v}" for v in axe_found(page)]
                    checked += 1
        finally:
            for context in contexts:
                context.close()
    assert checked == (len(pages) + len(extra)) * len(LANGUAGES)
    assert not problems, "\n".join(problems)


def _tab_to(page: Page, found: Callable[[], bool], what: str, presses: int = 80) -> None:
    """Press Tab until ``found()`` holds for the focused element."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if found():
            return
    raise AssertionError(f"{what}: not reached with {presses} presses of Tab")


def _focused(page: Page, script: str) -> bool:
    return bool(page.evaluate(f"() => {{ const e = document.activeElement; return {script}; }}"))


def test_an_official_walks_to_a_trace_with_the_keyboard_alone(
    postgres, users, tmp_path, browser, live_server
):
    from apps.shipments.models import Shipment

    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "keys.csv",
            [
                "K1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
                "K2,1,2026-03-04,25232900,TR,Exporter B,Imp,30000,,4000,",
            ],
        ),
    )
    steel = Shipment.objects.get(declaration_id="K1", line=1, is_current=True)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login/")
        # The username field takes the focus itself (autofocus): wait for it, so that no
        # keystroke is typed before it has (the page may still be loading under load).
        expect(page.locator("#id_username")).to_be_focused()
        page.keyboard.type("official")
        page.keyboard.press("Tab")
        expect(page.locator("#id_password")).to_be_focused()
        page.keyboard.type("pw-official")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/shipments/")  # LOGIN_REDIRECT_URL
        _tab_to(page, lambda: _focused(page, "e.textContent.trim() === 'Dashboard'"), "nav")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/dashboard/")

        # Dashboard → Shipments, from the main navigation.
        _tab_to(page, lambda: _focused(page, "e.textContent.trim() === 'Shipments'"), "nav")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/shipments/")

        # The list filtered by CN code: type into the field, submit with Enter.
        _tab_to(page, lambda: _focused(page, "e.id === 'id_cn_code'"), "CN code filter")
        page.keyboard.type("72081000")
        page.keyboard.press("Enter")
        expect(page.locator("tbody tr")).to_have_count(1)

        # The shipment's report.
        _tab_to(page, lambda: _focused(page, "e.textContent.startsWith('K1 / 1')"), "the line")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/shipments/{steel.pk}/")

        # Its estimate, then the verification of its trace.
        estimate = f"#{steel.estimate_id}"
        _tab_to(page, lambda: _focused(page, f"e.textContent.trim() === '{estimate}'"), "estimate")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}/estimates/{steel.estimate_id}/")
        expect(page.locator("#trace-heading")).to_be_visible()
        verify = "e.tagName === 'BUTTON' && e.form && e.form.action.includes('/estimates/')"
        _tab_to(page, lambda: _focused(page, verify), "the verify button")
        # The focused control shows it (WCAG 2.4.7): the stylesheet's outline.
        assert _focused(page, "getComputedStyle(e).outlineStyle !== 'none'")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text(
            "Match: the trace recomputes to the same bytes."
        )
    finally:
        context.close()
