"""The authorisation matrix: every route × every role gets exactly the access it should.

Routes are enumerated, not listed: the URL patterns by walking the resolver (includes
recursed, namespaces kept), the API operations from the OpenAPI schema drf-spectacular
generates. The expected access is the declarative table below, keyed by URL name (pages)
or operationId (API); a route or operation the table does not name fails the test, so a
new route cannot be added without deciding who may use it.

The world (tests/security/matrix_world.py) gives exporters A and B one of everything that
has an id in a URL. A route with an object is tried twice, filled with A's ids and with
B's: the owning exporter gets the access of the table, the other exporter a 404 (the
object does not exist for it), on detail, update, delete, download and nested routes
alike. List routes are read as each exporter, and the ids in the body must all be its own.
Every request runs in a savepoint that is rolled back, so a write cannot change what the
next request sees.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.admindocs.views import simplify_regex
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from tests.apps.disclosures.conftest import TEMPLATE_CSV
from tests.security.matrix_world import B_MARKERS, ROLES, World

pytestmark = pytest.mark.services

ANONYMOUS = "anonymous"
EXPORTER = "exporter"  # with an object: its owner (the other exporter gets 404); else both
READERS = frozenset({"official", "auditor", "admin"})  # read every organisation's rows
SIGNED_IN = READERS | {EXPORTER}
DECIDERS = frozenset({"official", "admin"})  # confirm or reject entity-resolution matches
EVERYONE = SIGNED_IN | {ANONYMOUS}
NOBODY: frozenset[str] = frozenset()
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
API_PREFIXES = ("/api/", "/pact/")
LOGIN = "login"  # outcome: a redirect to the login page


@dataclass(frozen=True)
class Rule:
    """Who may make one request (a page and method, or an API operation).

    ``allow``: the roles (``EXPORTER`` for exporters) that get ``status``. Anyone else is
    refused: anonymous users are sent to log in (pages) or get 401/403 (API), signed-in
    users get 403, or ``refused`` when the route answers otherwise (``anonymous`` for an
    anonymous user).
    ``obj``: the kind of the world's object whose id fills the URL (``kwargs`` from
    :func:`url_kwargs`); an exporter that does not own it gets 404.
    ``rows``: the kind of the rows a list returns; an exporter must get only its own.
    """

    allow: frozenset[str]
    status: int = 200
    obj: str | None = None
    rows: str | None = None
    refused: int | None = None
    anonymous: int | None = None
    query: dict = field(default_factory=dict)
    body: Callable[[World, str, str], dict] | None = None


def read(obj: str | None = None, rows: str | None = None, **kw) -> Rule:
    """Officials, auditors and admins read everything; an exporter only its own."""
    return Rule(SIGNED_IN, obj=obj, rows=rows, **kw)


def exporter_writes(obj: str | None = None, status: int = 200, **kw) -> Rule:
    return Rule(frozenset({EXPORTER}), obj=obj, status=status, **kw)


# --- request bodies of the writes ------------------------------------------------------


def _role_org(world: World, role: str) -> str:
    return "b" if role == "exporter_b" else "a"


def _upload_file(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = TEMPLATE_CSV.read_text(encoding="utf-8").replace("2025-", "2026-")
    return SimpleUploadedFile(name, text.replace("410,kt", "430,kt").encode())


def upload_form(world: World, role: str, owner: str) -> dict:
    """A disclosure upload for an installation of the role's own organisation."""
    installation = world.ids["installation"][_role_org(world, role)]
    return {"installation": installation, "period": 2026, "file": _upload_file("up.csv")}


def upload_api(world: World, role: str, owner: str) -> dict:
    from apps.facilities.models import Installation

    pk = world.ids["installation"][_role_org(world, role)]
    identifier = Installation.objects.get(pk=pk).identifier
    return {"installation": identifier, "period": 2026, "file": _upload_file("up.csv")}


def review_form(world: World, role: str, owner: str) -> dict:
    return {"value": world.ids["extracted_value"][owner], "action": "confirm"}


def verification_form(world: World, role: str, owner: str) -> dict:
    """A negative-opinion report (stored, no rung changes) covering the disclosure."""
    import datetime as dt

    from apps.disclosures.models import Disclosure

    disclosure = Disclosure.objects.get(pk=world.ids["disclosure"][owner])
    return {
        "report_identifier": f"VR-{role}",
        "period_start": disclosure.period_start.isoformat(),
        "period_end": disclosure.period_end.isoformat(),
        "verifier_name": "Verifier GmbH",
        "accreditation_number": "D-VS-0001",
        "accreditation_body": "DAkkS",
        "opinion": "negative",
        "issued_on": dt.date.today().isoformat(),
    }


def decide_form(world: World, role: str, owner: str) -> dict:
    return {"decision": "reject", "note": "matrix"}


#: Officials and admins decide on a held disclosure version.
DECIDERS = frozenset({"official", "admin"})


def decision_form(world: World, role: str, owner: str) -> dict:
    return {"decision": "confirmed"}


def login_form(world: World, role: str, owner: str) -> dict:
    return {"username": "auditor", "password": "pw-auditor"}


def review_api(world: World, role: str, owner: str) -> dict:
    return {"action": "confirm"}


#: Pages (and the non-API routes of the URLconf), by URL name and method.
PAGES: dict[str, dict[str, Rule]] = {
    "home": {"GET": Rule(SIGNED_IN, status=302)},
    "login": {"GET": Rule(EVERYONE), "POST": Rule(EVERYONE, status=302, body=login_form)},
    "logout": {"GET": Rule(NOBODY, refused=405, anonymous=405), "POST": Rule(EVERYONE, status=302)},
    "dashboard": {"GET": read()},
    "shipment-list": {"GET": read(rows="shipment")},
    # Exports run as jobs: anyone signed in starts one of their own list; a job is its
    # user's alone (another user, an official included, gets 404).
    "shipment-export-create": {
        "GET": Rule(NOBODY, refused=405),
        "POST": Rule(SIGNED_IN, status=302, body=lambda w, r, o: {"format": "csv", "query": ""}),
    },
    "shipment-export-detail": {"GET": Rule(frozenset({EXPORTER}), obj="export_job", refused=404)},
    "shipment-export-download": {"GET": Rule(frozenset({EXPORTER}), obj="export_job", refused=404)},
    "shipment-detail": {"GET": read(obj="shipment")},
    "ingest-run-list": {"GET": read(rows="ingest_run")},
    "ingest-run-detail": {"GET": read(obj="ingest_run")},
    "ingest-run-errors": {"GET": read(obj="ingest_run")},
    # The run's original file and its cited line: as the run itself (issue #19).
    "ingest-run-file": {"GET": read(obj="ingest_run")},
    "ingest-run-excerpt": {"GET": read(obj="ingest_run", query={"line": 1})},
    "glossary": {"GET": read()},
    # The read replica's state and lag: administrators only (docs/operations.md).
    "operations": {"GET": Rule(frozenset({"admin"}))},
    # One's own API tokens: every signed-in user lists and creates; a token that is not
    # the user's own (the world's users have none) is answered 404.
    "token-list": {"GET": read(), "POST": Rule(SIGNED_IN)},
    "token-revoke": {"POST": Rule(NOBODY, refused=404)},
    "exporter-detail": {"GET": read(obj="organisation")},
    "estimate-detail": {"GET": read(obj="estimate")},
    "methodology-list": {"GET": read()},
    "methodology-detail": {"GET": read(obj="methodology")},
    "grid-zone-list": {"GET": read()},
    "grid-zone-detail": {"GET": read(obj="zone")},
    "hydrogen-report": {"GET": read(obj="hydrogen")},
    "installation-list": {"GET": read(rows="installation")},
    "installation-detail": {"GET": read(obj="installation")},
    # The match review queue names every organisation: not for exporters.
    "match-review": {"GET": Rule(READERS)},
    "match-decide": {
        "POST": Rule(DECIDERS, status=302, obj="match_suggestion", body=decision_form)
    },
    "disclosure-list": {"GET": read(rows="disclosure")},
    "disclosure-upload": {
        "GET": exporter_writes(),
        "POST": exporter_writes(status=302, body=upload_form),
    },
    "disclosure-detail": {"GET": read(obj="disclosure")},
    # Exporters (their own disclosures) and officials attach verification reports.
    "disclosure-verification": {
        "GET": Rule(NOBODY, refused=405, obj="disclosure"),
        "POST": Rule(
            frozenset({EXPORTER, "official"}),
            obj="disclosure",
            status=302,
            body=verification_form,
        ),
    },
    "disclosure-review": {
        "GET": read(obj="disclosure_version"),
        "POST": exporter_writes(obj="disclosure_version", status=302, body=review_form),
    },
    # The world's versions are not held: a decider is sent back to the page with the reason.
    "disclosure-decide": {
        "POST": Rule(DECIDERS, obj="disclosure_version", status=302, body=decide_form),
    },
    # The world's version 2 is in review: its template download answers 409 (confirmed only).
    "disclosure-template": {"GET": read(obj="disclosure_version", status=409)},
    # The world's versions are spreadsheets: a page image answers 404 (PDFs only), after
    # the same access check as the review page (another exporter's version: 404 as well).
    "disclosure-page-image": {"GET": read(obj="disclosure_version", status=404)},
    # The blank templates of the upload page: reference files every signed-in user reads.
    "disclosure-template-file": {"GET": read(obj="template_file")},
    # Importers and reconciliations name every organisation's lines: not for exporters.
    "importer-list": {
        "GET": Rule(READERS),
        "POST": Rule(DECIDERS, status=302),
    },
    # An importer's own pages: no role of the matrix is an importer (tests/apps/test_importers.py).
    "importer-home": {"GET": Rule(NOBODY)},
    "importer-report": {"GET": Rule(NOBODY)},
    "reconciliation-list": {"GET": Rule(READERS)},
    # The risk view ranks every organisation's gap: officials, auditors, admins.
    "risk": {"GET": Rule(READERS)},
    # Rankings and the compare view: every signed-in user, over the lines they may see (an
    # exporter its own; the others' names hidden in the compare view).
    "rankings": {"GET": read()},
    "compare": {"GET": read(query={"cn_code": "72081000"})},
    # Flags: each user sees those of the lines and installations they may see; officials
    # and admins move them. The world holds no flag: a reviewer gets 404, others 403.
    "flag-list": {"GET": read()},
    "flag-transition": {
        "POST": Rule(
            DECIDERS, obj="line_flag", status=404, body=lambda w, r, o: {"status": "review"}
        )
    },
    # The world holds no declared report: readers get 404, exporters 403.
    "reconciliation-detail": {"GET": Rule(READERS, obj="declared_report", status=404)},
    # The API's browsable index (DRF's DefaultRouter): not an operation of the schema.
    "api:api-root": {"GET": read()},
    # The schema and its docs are public, like any published API description.
    "schema": {"GET": Rule(EVERYONE)},
    # The language switcher (Django's set_language, docs/languages.md): anyone, signed in
    # or not, chooses the language of the pages; it sets a cookie and redirects.
    "set_language": {"POST": Rule(EVERYONE, status=302)},
    # No icon (204) for a browser that asks while showing a JSON document.
    "favicon": {"GET": Rule(EVERYONE, status=204)},
    "api-docs": {"GET": Rule(EVERYONE)},
    # C2SP tlog-witness: no account; the body must be a checkpoint signed by a followed
    # log's key (docs/integrity.md §4), so an empty POST is a 400 for everyone.
    "witness-add-checkpoint": {"POST": Rule(EVERYONE, status=400)},
    # Methodology versions (docs/adoption.md): officials, auditors and admins read them;
    # officials and admins add a member's signature line (an empty form names no version:
    # 404). The comparison names every organisation's shipments: not for exporters.
    "methodology-versions": {"GET": Rule(READERS), "POST": Rule(DECIDERS, status=404)},
    "methodology-versions-compare": {"GET": Rule(READERS, status=404)},
}

#: API operations, by operationId (the method is the operation's).
API: dict[str, Rule] = {
    # Tokens: anyone may ask for one (with a password); your own records, admins all.
    "api_v1_auth_token_create": Rule(
        EVERYONE, status=201, body=lambda w, r, o: login_form(w, r, o)
    ),
    "api_v1_auth_tokens_list": read(rows="token"),
    # Methodology versions are public method: every signed-in user reads them; officials
    # and admins upload a member's line, admins propose and retire (an empty body: 400).
    "methodology_versions_list": read(),
    "methodology_versions_detail": read(obj="methodology_version"),
    "methodology_versions_record": read(obj="methodology_version"),
    "methodology_versions_sign": Rule(DECIDERS, obj="methodology_version", status=400),
    "methodology_versions_propose": Rule(frozenset({"admin"}), status=400),
    "methodology_versions_retire": Rule(
        frozenset({"admin"}), obj="methodology_version", status=400
    ),
    "api_v1_auth_tokens_retrieve": Rule(frozenset({EXPORTER, "admin"}), obj="token", refused=404),
    "api_v1_auth_tokens_destroy": Rule(frozenset({EXPORTER, "admin"}), obj="token", refused=404),
    # Shipments, estimates and their traces in every form.
    "api_v1_reconciliations_list": Rule(READERS),
    "api_v1_risk_retrieve": Rule(READERS),
    "api_v1_operations_replica_retrieve": Rule(frozenset({"admin"})),
    "api_v1_reconciliations_retrieve": Rule(READERS, obj="declared_report", status=404),
    "api_v1_shipments_list": read(rows="shipment"),
    "api_v1_shipments_retrieve": read(obj="shipment"),
    "api_v1_totals_retrieve": read(rows="exporter_name", query={"group_by": "exporter"}),
    "api_v1_trade_aggregates_list": read(),
    "api_v1_trade_aggregates_retrieve": read(obj="trade_aggregate"),
    "api_v1_default_values_list": read(),
    "api_v1_default_values_retrieve": read(obj="default_value"),
    "api_v1_estimates_list": read(rows="estimate"),
    "api_v1_estimates_retrieve": read(obj="estimate"),
    "api_v1_estimates_trace_retrieve": read(obj="estimate"),
    "api_v1_estimates_trace.csv_retrieve": read(obj="estimate"),
    "api_v1_estimates_trace.xlsx_retrieve": read(obj="estimate"),
    "api_v1_estimates_traces_zip": read(rows="estimate"),
    # Recomputing is a read: it stores nothing; whoever reads the estimate may ask.
    "api_v1_estimates_verify_create": read(obj="estimate"),
    # The audit log: ids, actions and hashes, readable by every signed-in user.
    "api_v1_audit_checkpoint_retrieve": read(),
    "api_v1_audit_entries_list": read(query={"object_type": "estimate", "object_id": "1"}),
    "api_v1_audit_entries_retrieve": read(obj="audit_index"),
    "api_v1_audit_proof_inclusion_retrieve": read(query={"index": 0, "tree_size": 2}),
    "api_v1_audit_proof_consistency_retrieve": read(query={"first": 1, "second": 2}),
    # Grid reference data for all; hydrogen assessments scoped to the installation's owner.
    "api_v1_grid_zones_list": read(),
    "api_v1_grid_zones_retrieve": read(obj="zone"),
    "api_v1_grid_zones_intensity_retrieve": read(
        obj="hourly_zone", query={"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T04:00:00Z"}
    ),
    "api_v1_grid_lookup_retrieve": read(query={"country": "DE", "year": 2024}),
    "api_v1_grid_factors_list": read(),
    "api_v1_grid_factors_retrieve": read(obj="grid_factor"),
    "api_v1_grid_averages_list": read(),
    "api_v1_grid_averages_retrieve": read(obj="grid_average"),
    "api_v1_grid_hydrogen_list": read(rows="hydrogen"),
    "api_v1_grid_hydrogen_retrieve": read(obj="hydrogen"),
    # Installations and their satellite evidence.
    "api_v1_installations_list": read(rows="installation"),
    "api_v1_installations_retrieve": read(obj="installation"),
    # rows of the installations the caller sees (docs/modelled.md)
    "api_v1_installation_emissions_list": read(),
    "api_v1_observations_list": read(rows="observation"),
    "api_v1_observations_retrieve": read(obj="observation"),
    "api_v1_activity_indices_list": read(rows="activity_index"),
    "api_v1_activity_indices_retrieve": read(obj="activity_index"),
    "api_v1_reconciliation_flags_list": read(rows="flag"),
    "api_v1_reconciliation_flags_retrieve": read(obj="flag"),
    "api_v1_reconciliation_flags_trace_retrieve": read(obj="flag"),
    # Entity resolution's review queue: officials, auditors and admins read; officials decide.
    "api_v1_match_suggestions_list": Rule(READERS),
    "api_v1_match_suggestions_retrieve": Rule(READERS, obj="match_suggestion"),
    "api_v1_match_suggestions_decide_create": Rule(
        DECIDERS, obj="match_suggestion", body=decision_form
    ),
    # Disclosures: everyone signed in reads (exporters their own); only exporters write.
    "api_v1_disclosures_list": read(rows="disclosure"),
    "api_v1_disclosures_create": exporter_writes(status=201, body=upload_api),
    "api_v1_disclosures_retrieve": read(obj="disclosure"),
    "api_v1_disclosures_versions_values_list": read(
        obj="disclosure_version", rows="extracted_value"
    ),
    "api_v1_disclosures_versions_confirm_create": exporter_writes(obj="disclosure_version"),
    "api_v1_disclosures_verification_reports_create": Rule(
        frozenset({EXPORTER, "official"}), obj="disclosure", status=201, body=verification_form
    ),
    # The world's versions are not held: a decider passes and is told so (400).
    "api_v1_disclosures_versions_decide_create": Rule(
        DECIDERS, obj="disclosure_version", status=400, body=decide_form
    ),
    "api_v1_disclosure_values_list": read(rows="extracted_value"),
    "api_v1_disclosure_values_retrieve": read(obj="extracted_value"),
    "api_v1_disclosure_values_review_create": exporter_writes(
        obj="extracted_value", body=review_api
    ),
    # PACT: data recipients with client credentials only; a user's session or token is
    # no bearer token, refused the way the PACT specification says (400 BadRequest).
    "pact_auth_token_create": Rule(EVERYONE),
    "pact_list_footprints": Rule(NOBODY, refused=400, anonymous=400),
    "pact_get_footprint": Rule(NOBODY, refused=400, anonymous=400, obj="pf_id"),
    "pact_events": Rule(NOBODY, refused=400, anonymous=400),
}


# --- enumeration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, e.g. "api:shipment-detail"
    path: str  # e.g. /api/v1/shipments/<pk>/
    pattern: URLPattern


def url_routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            found += url_routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        else:
            path = simplify_regex(prefix + str(pattern.pattern))
            found.append(Route(f"{namespace}{pattern.name}", path, pattern))
    return found


def normalised(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def api_operations() -> dict[str, tuple[str, str]]:
    """operationId → (method, path) of the OpenAPI document."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        op["operationId"]: (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }


ROUTES = url_routes()
OPERATIONS = api_operations()
DOCUMENTED = {normalised(path) for _, path in OPERATIONS.values()}


def is_admin(route: Route) -> bool:
    return route.name.startswith("admin:")


def is_format_variant(route: Route) -> bool:
    # DRF's ".json"-style suffixes: the same view and URL name as the route they extend.
    return "<format>" in route.path or "drf_format_suffix" in str(route.pattern.pattern)


def page_routes() -> list[Route]:
    """Routes of the URLconf that are no API operation (the admin is checked apart)."""
    return [
        r
        for r in ROUTES
        if not is_admin(r) and not is_format_variant(r) and normalised(r.path) not in DOCUMENTED
    ]


# --- filling and calling ----------------------------------------------------------------


def url_kwargs(world: World, obj: str | None, owner: str) -> dict[str, object]:
    """Path parameters for a route about ``obj`` owned by ``owner`` (or reference data)."""
    if obj is None:
        return {}
    if obj == "declared_report":
        return {"declarant": "DE0000000000", "year": 2026, "period": "Q1"}
    if obj == "line_flag":
        return {"kind": "line", "pk": 999_999}
    if obj == "methodology_version":
        return {"label": world.refs[obj]}
    if obj == "disclosure_version":
        pk, number = world.versions[owner]
        return {"pk": pk, "id": pk, "number": number, "page": 1}
    if obj == "template_file":
        from apps.disclosures.views import TEMPLATE_FILES

        return {"name": next(iter(TEMPLATE_FILES))}
    if obj in world.ids:
        pk = world.ids[obj][owner]
    else:
        pk = world.refs[obj]
    return {
        "pk": pk,
        "id": pk,
        "key": pk,
        "methodology_id": pk,
        "index": pk,
        "pf_id": pk,
    }


def fill(path: str, kwargs: dict) -> str:
    """/api/v1/estimates/{id}/trace with {"id": 3} → /api/v1/estimates/3/trace."""
    return re.sub(r"\{(\w+)\}", lambda m: str(kwargs[m.group(1)]), path)


_clients: dict[tuple[int, str, bool], Client] = {}


def client_for(world: World, role: str, *, api: bool) -> Client:
    """A client of ``role``: its API token (``api``) or a logged-in session. Sessions are
    made once per test (the test's transaction holds them)."""
    key = (id(world), role, api)
    if key not in _clients:
        if role == ANONYMOUS:
            _clients[key] = Client()
        elif api:
            _clients[key] = Client(HTTP_AUTHORIZATION="Token " + world.tokens[role])
        else:
            _clients[key] = Client()
            _clients[key].force_login(world.users[role])
    return _clients[key]


@pytest.fixture(autouse=True)
def _world_settings(request):
    """The world's folders and password hasher, over tests/conftest.py's per-test ones."""
    from tests.security.conftest import FAST

    if "matrix_world" not in request.fixturenames:
        return  # the policy's own checks need no world
    settings = request.getfixturevalue("settings")
    matrix_world = request.getfixturevalue("matrix_world")
    settings.MEDIA_ROOT = matrix_world.media_root
    settings.EVIDENCE_ROOT = matrix_world.media_root / "evidence"
    settings.VAR_DIR = matrix_world.var_dir
    settings.PASSWORD_HASHERS = FAST


@pytest.fixture(autouse=True)
def _fresh_clients():
    _clients.clear()
    yield
    _clients.clear()


@dataclass
class Answer:
    status: int
    location: str
    content: bytes
    content_type: str


def call(client: Client, method: str, url: str, rule: Rule, world, role, owner, *, api):
    """One request in a savepoint that is rolled back: a write leaves nothing behind."""
    data = rule.body(world, role, owner) if rule.body else None
    kwargs: dict = {}
    if method == "GET":
        kwargs["data"] = rule.query
    elif data is not None:
        kwargs["data"] = data
        if api and not any(hasattr(v, "read") for v in data.values()):
            kwargs["content_type"] = "application/json"
            kwargs["data"] = json.dumps(data)
    if url.startswith("/pact/auth/token"):
        client_id, secret = world.refs["pact_client"]
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        kwargs = {
            "data": "grant_type=client_credentials",
            "content_type": "application/x-www-form-urlencoded",
            "HTTP_AUTHORIZATION": "Basic " + basic,
        }
    with transaction.atomic():
        response = getattr(client, method.lower())(url, **kwargs)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return Answer(
        response.status_code,
        response.get("Location", ""),
        content,
        response.get("Content-Type", ""),
    )


def expected(rule: Rule, role: str, owner: str, *, api: bool):
    """The status (or LOGIN, or a set of statuses) ``role`` must get."""
    if role == ANONYMOUS:
        if ANONYMOUS in rule.allow:
            return rule.status
        if rule.anonymous is not None:
            return rule.anonymous
        return {401, 403} if api else LOGIN
    if role.startswith("exporter_"):
        owns = rule.obj not in OWNED_KINDS or role == f"exporter_{owner}"
        if EXPORTER in rule.allow:
            return rule.status if owns else 404
        if rule.obj in OWNED_KINDS and not owns:
            return 404
        return rule.refused or 403
    return rule.status if role in rule.allow else (rule.refused or 403)


OWNED_KINDS = {
    "export_job",
    "shipment",
    "estimate",
    "installation",
    "disclosure",
    "disclosure_version",
    "extracted_value",
    "ingest_run",
    "observation",
    "activity_index",
    "flag",
    "hydrogen",
    "organisation",
    "token",
}


def check(answer: Answer, want, what: str) -> None:
    if want == LOGIN:
        ok = answer.status == 302 and answer.location.startswith(reverse("login"))
    elif isinstance(want, set):
        ok = answer.status in want
    else:
        ok = answer.status == want
    assert ok, f"{what}: got {answer.status} {answer.location}, want {want}"


def response_ids(answer: Answer, kind: str) -> set:
    """The ids of the rows in a list's body (JSON results, a zip's traces, an HTML page's
    links are checked apart)."""
    if answer.content_type == "application/zip":
        names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
        return {int(m.group(1)) for n in names if (m := re.match(r"traces/estimate-(\d+)", n))}
    body = json.loads(answer.content)
    rows = body["results"] if isinstance(body, dict) else body
    if kind == "exporter_name":
        return {row["exporter"] for row in rows}
    return {row["id"] for row in rows}


def owned(world: World, kind: str, owner: str) -> set:
    if kind == "exporter_name":
        return {world.users[f"org_{owner}"].name}
    return world.all_ids[kind][owner]


def foreign_markers(world: World, owner: str) -> list[str]:
    """Text that names the other exporter's things: its detail pages' URLs and names."""
    other = "b" if owner == "a" else "a"
    if other == "a":
        return ["Exporter A", "IN-MH-0042", "customs-a.csv"]
    urls = []
    for name, kind in (
        ("shipment-detail", "shipment"),
        ("estimate-detail", "estimate"),
        ("installation-detail", "installation"),
        ("disclosure-detail", "disclosure"),
        ("ingest-run-detail", "ingest_run"),
        ("hydrogen-report", "hydrogen"),
        ("exporter-detail", "organisation"),
    ):
        urls += [f'"{reverse(name, args=[pk])}"' for pk in world.all_ids[kind][other]]
    return [*B_MARKERS, *urls]


# --- the tests -------------------------------------------------------------------------

PAGE_KEYS = sorted({r.name for r in page_routes()})
API_KEYS = sorted(OPERATIONS)


def test_the_enumeration_finds_the_routes_we_know():
    names = {r.name for r in ROUTES}
    assert {"shipment-detail", "api:shipment-detail", "disclosure-review", "admin:index"} <= names
    assert {"api_v1_estimates_traces_zip", "pact_get_footprint"} <= set(OPERATIONS)
    assert len(PAGE_KEYS) > 20 and len(API_KEYS) > 40


def test_every_route_and_operation_has_a_policy_and_every_policy_a_route():
    missing = [k for k in PAGE_KEYS if k not in PAGES] + [k for k in API_KEYS if k not in API]
    assert not missing, f"routes without an access policy (add them to PAGES or API): {missing}"
    stale = [k for k in PAGES if k not in PAGE_KEYS] + [k for k in API if k not in OPERATIONS]
    assert not stale, f"policies of routes that no longer exist: {stale}"
    for key, (_, path) in OPERATIONS.items():
        if "{" in path:
            assert API[key].obj, f"{key}: {path} has path parameters but no obj kind"


def _owners(rule: Rule) -> tuple[str, ...]:
    return ("a", "b") if rule.obj in OWNED_KINDS else ("a",)


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_each_page_answers_each_role_as_the_policy_says(key, matrix_world, db):
    world = matrix_world
    route = next(r for r in ROUTES if r.name == key)
    for method, rule in PAGES.get(key, {}).items():
        for owner in _owners(rule):
            kwargs = url_kwargs(world, rule.obj, owner)
            params = {k: kwargs[k] for k in route.pattern.pattern.converters}
            url = reverse(key, kwargs=params)
            for role in ROLES:
                api = url.startswith(API_PREFIXES)
                client = client_for(world, role, api=False)
                answer = call(client, method, url, rule, world, role, owner, api=api)
                check(answer, expected(rule, role, owner, api=api), f"{role} {method} {url}")
    assert PAGES.get(key), f"no access policy for the page {key!r}"


@pytest.mark.parametrize("key", API_KEYS)
def test_each_api_operation_answers_each_role_as_the_policy_says(key, matrix_world, db):
    world = matrix_world
    rule = API.get(key)
    assert rule is not None, f"no access policy for the operation {key!r}"
    method, path = OPERATIONS[key]
    for owner in _owners(rule):
        url = fill(path, url_kwargs(world, rule.obj, owner))
        for role in ROLES:
            client = client_for(world, role, api=True)
            answer = call(client, method, url, rule, world, role, owner, api=True)
            check(answer, expected(rule, role, owner, api=True), f"{role} {method} {url}")


@pytest.mark.parametrize("path", sorted({p for _, p in OPERATIONS.values()}))
def test_no_role_can_use_a_method_the_schema_does_not_offer(path, matrix_world, db):
    """Read-only resources stay read-only for everyone (PUT, PATCH, DELETE, POST where
    the schema names no such operation): officials and auditors never write."""
    world = matrix_world
    offered = {m for m, p in OPERATIONS.values() if p == path}
    rules = [API[k] for k, (_, p) in OPERATIONS.items() if p == path]
    url = fill(path, url_kwargs(world, rules[0].obj, "a"))
    for method in sorted(set(UNSAFE) - offered):
        for role in ROLES:
            client = client_for(world, role, api=True)
            answer = call(client, method, url, Rule(NOBODY), world, role, "a", api=True)
            refusals = {401, 403} if role == ANONYMOUS else {403, 404, 405}
            if any(ANONYMOUS in r.allow for r in rules):
                refusals |= {405}  # a public route: the method is what is refused
            if path.startswith("/pact/"):
                refusals |= {400}  # PACT's own error format for a missing bearer token
            assert answer.status in refusals, f"{role} {method} {url}: {answer.status}"


@pytest.mark.parametrize("owner", ["a", "b"])
def test_an_exporters_lists_hold_none_of_the_other_exporters_rows(owner, matrix_world, db):
    world = matrix_world
    role, other = f"exporter_{owner}", "b" if owner == "a" else "a"
    checked = 0
    for key, rule in API.items():
        if not rule.rows:
            continue
        method, path = OPERATIONS[key]
        url = fill(path, url_kwargs(world, rule.obj, owner))
        client = client_for(world, role, api=True)
        answer = call(client, method, url, rule, world, role, owner, api=True)
        assert answer.status == 200, (key, answer.status)
        ids = response_ids(answer, rule.rows)
        assert not ids & owned(world, rule.rows, other), f"{key} shows {other}'s rows to {role}"
        assert ids & owned(world, rule.rows, owner), f"{key} shows none of {role}'s own rows"
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize("owner", ["a", "b"])
def test_no_page_or_api_answer_names_the_other_exporters_things(owner, matrix_world, db):
    """Every page an exporter may read (its own objects filled in) and every API answer,
    lists and CSV exports included, is free of the other exporter's names and links."""
    world = matrix_world
    role = f"exporter_{owner}"
    markers = foreign_markers(world, owner)
    requests = []
    for key, methods in PAGES.items():
        rule = methods.get("GET")
        if rule is None or EXPORTER not in rule.allow or rule.status != 200:
            continue
        if rule.obj == "template_file":
            continue  # a published example file: world a's disclosure was made from it
        route = next(r for r in ROUTES if r.name == key)
        kwargs = url_kwargs(world, rule.obj, owner)
        url = reverse(key, kwargs={k: kwargs[k] for k in route.pattern.pattern.converters})
        requests.append((url, rule, False))
    requests.append((reverse("shipment-list") + "?export=csv", read(), False))
    for key, rule in API.items():
        method, path = OPERATIONS[key]
        if method == "GET" and EXPORTER in rule.allow:
            requests.append((fill(path, url_kwargs(world, rule.obj, owner)), rule, True))
    for url, rule, api in requests:
        client = client_for(world, role, api=api)
        answer = call(client, "GET", url, rule, world, role, owner, api=api)
        assert answer.status == 200, (url, answer.status)
        if answer.content_type.startswith(("text/", "application/json")):
            text = answer.content.decode()
            leaked = [m for m in markers if m in text]
            assert not leaked, f"{url} shows {role} {leaked}"


@pytest.mark.parametrize("owner", ["a", "b"])
def test_an_exporter_cannot_upload_for_the_other_exporters_installation(owner, matrix_world, db):
    from apps.disclosures.models import DisclosureVersion

    world = matrix_world
    role, other = f"exporter_{owner}", "b" if owner == "a" else "a"
    before = DisclosureVersion.objects.count()
    page = call(
        client_for(world, role, api=False),
        "POST",
        reverse("disclosure-upload"),
        Rule(NOBODY, body=lambda w, r, o: upload_form(w, f"exporter_{other}", o)),
        world,
        role,
        owner,
        api=False,
    )
    assert page.status == 200 and b"Select a valid choice" in page.content
    api = call(
        client_for(world, role, api=True),
        "POST",
        "/api/v1/disclosures/",
        Rule(NOBODY, body=lambda w, r, o: upload_api(w, f"exporter_{other}", o)),
        world,
        role,
        owner,
        api=True,
    )
    assert api.status == 400 and b"not an installation of your organisation" in api.content
    assert DisclosureVersion.objects.count() == before


ADMIN_ROUTES = [r for r in ROUTES if is_admin(r)]


def test_the_admin_refuses_every_role_but_admins(matrix_world, db):
    """Every admin route sends a non-admin to the admin's login (the non-admin roles take
    turns, route by route, to keep this fast: one admin_view check refuses them all);
    the index refuses each of them; admins get the index and every changelist."""
    world = matrix_world
    refused = [r for r in ROLES if r != "admin"]
    checked = 0
    for i, route in enumerate(ADMIN_ROUTES):
        if route.name in ("admin:login", "admin:logout"):
            continue  # the admin's own sign-in and sign-out
        converters = route.pattern.pattern.converters
        names = re.findall(r"\(\?P<(\w+)>", route.pattern.pattern.regex.pattern)
        params = {n: "accounts" if n == "app_label" else "1" for n in [*converters, *names]}
        try:
            url = reverse(route.name, kwargs=params)
        except Exception:  # a catch-all regex: any path under /admin/ will do
            url = "/admin/no-such-page/"
        for role in refused if route.name == "admin:index" else [refused[i % len(refused)]]:
            client = client_for(world, role, api=False)
            answer = call(client, "GET", url, read(), world, role, "a", api=False)
            assert answer.status == 302 and answer.location.startswith(reverse("admin:login")), (
                f"{role} GET {url}: {answer.status} {answer.location}"
            )
            checked += 1
        if route.name == "admin:index" or route.name.endswith("_changelist"):
            client = client_for(world, "admin", api=False)
            answer = call(client, "GET", url, read(), world, "admin", "a", api=False)
            assert answer.status == 200, (url, answer.status)
    assert checked >= len(ADMIN_ROUTES) - 2


@pytest.mark.parametrize("owner", ["a", "b"])
def test_an_exporter_reads_no_audit_entry_the_other_exporter_caused(owner, matrix_world, db):
    """An entry's data carries its payload (file names, disclosed and corrected values):
    the other organisation's entries answer 404 to an exporter, by index and in an
    object's history, while auditors read them all and proofs stay open to everyone."""
    from apps.audit.models import AuditEvent

    world = matrix_world
    role, other = f"exporter_{owner}", "b" if owner == "a" else "a"
    events = AuditEvent.objects.order_by("index")
    theirs = list(events.filter(actor__organisation=world.users[f"org_{other}"]))
    ours = list(events.filter(actor__organisation=world.users[f"org_{owner}"]))
    assert theirs and ours
    exporter = client_for(world, role, api=True)
    auditor = client_for(world, "auditor", api=True)
    for event in theirs:
        url = f"/api/v1/audit/entries/{event.index}"
        assert call(exporter, "GET", url, read(), world, role, owner, api=True).status == 404
        assert call(auditor, "GET", url, read(), world, "auditor", owner, api=True).status == 200
        history = read(query={"object_type": event.object_type, "object_id": event.object_id})
        answer = call(
            exporter, "GET", "/api/v1/audit/entries", history, world, role, owner, api=True
        )
        assert event.index not in {e["index"] for e in json.loads(answer.content)["entries"]}
    for event in ours:
        url = f"/api/v1/audit/entries/{event.index}"
        assert call(exporter, "GET", url, read(), world, role, owner, api=True).status == 200
    proof = read(query={"index": theirs[0].index, "tree_size": events.count()})
    url = "/api/v1/audit/proof/inclusion"
    assert call(exporter, "GET", url, proof, world, role, owner, api=True).status == 200


def test_a_pact_bearer_token_opens_the_pact_routes_and_no_other(matrix_world, db):
    """A data recipient's PACT access token reads footprints, and is no credential for
    the platform's own API (where it is refused as if anonymous)."""
    from apps.pact.models import PactClient
    from apps.pact.services import pact_token_issue

    world = matrix_world
    client_id, _ = world.refs["pact_client"]
    token, _ = pact_token_issue(client=PactClient.objects.get(client_id=client_id))
    bearer = Client(HTTP_AUTHORIZATION="Bearer " + token)
    answer = call(bearer, "GET", "/pact/3/footprints", read(), world, ANONYMOUS, "a", api=True)
    assert answer.status == 200, answer.content
    for key, (method, path) in OPERATIONS.items():
        if not path.startswith("/api/v1/") or API[key].allow == EVERYONE:
            continue
        rule = API[key]
        url = fill(path, url_kwargs(world, rule.obj, "a"))
        answer = call(bearer, method, url, rule, world, ANONYMOUS, "a", api=True)
        assert answer.status in (401, 403), f"PACT bearer {method} {url}: {answer.status}"
