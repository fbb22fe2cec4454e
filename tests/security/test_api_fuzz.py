"""API fuzzing: Schemathesis over the OpenAPI schema the app serves, for every role.

The schema is read from ``/api/schema/`` through the WSGI app (no server), and every
operation in it gets generated requests, valid ones (positive) and invalid ones (negative),
as anonymous, an official, exporter A, exporter B, an auditor and an admin (and, for the
PACT footprints, a PACT data recipient's bearer token), against one small world holding
rows of every kind for both exporters, so that generated ids hit real rows, other
organisations' rows and missing ones. Writes are fuzzed too (uploads, reviews,
confirmations, token revocations, PACT tokens).

Every response must pass Schemathesis's checks: no server error; a documented status
code, content type, headers and body; a missing required header refused; and where the
role's credentials were sent and accepted, the same request without them refused
(``ignored_auth``, once per operation and role). Two checks are left out, on purpose:
``positive_data_acceptance`` (a schema-valid request may be refused with 400 for reasons a
schema cannot state, e.g. an audit proof for a tree larger than the log) and
``negative_data_rejection`` (list filters treat an empty value as "no filter", and
``page_size`` falls back to the default on a value it cannot read, as DRF's pagination
does).

Bounded and reproducible: ``CM_FUZZ_EXAMPLES`` examples per operation and mode (default
3; invalid requests half as many, anonymous requests a quarter), derandomized generation
(the same cases on every run), no shrinking, and a time budget for the whole run
(``CM_FUZZ_BUDGET_S``, default 120 s) past which each remaining operation gets one valid
request only (every role still reaches every operation; the summary says how many).
"""

from __future__ import annotations

import base64
import os
import time
from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.apps.audit.helpers import TEST_SEED
from tests.security.fuzz_world import build_world

# A hard bound beside the budget below, for a machine much slower than CI's.
pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]

ROLES = ["anonymous", "official", "exporter_a", "exporter_b", "auditor", "admin"]
EXAMPLES = int(os.environ.get("CM_FUZZ_EXAMPLES", "3"))
BUDGET_S = float(os.environ.get("CM_FUZZ_BUDGET_S", "120"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    missing_required_header,
]


def hypothesis_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def examples_for(role: str, mode: GenerationMode) -> int:
    examples = EXAMPLES if mode == GenerationMode.POSITIVE else max(1, EXAMPLES // 2)
    if role == "anonymous":  # every answer is 401 but the public endpoints'
        examples = max(1, examples // 4)
    return examples


@pytest.fixture
def fuzz_world(postgres_tx, users, tmp_path, settings, monkeypatch):
    from apps.accounts.services import api_token_create

    settings.LLM_BASE_URL = None  # disclosures extracted by the rule-based extractor
    settings.VAR_DIR = tmp_path / "var"  # the hourly-intensity store of the grid zone
    settings.VAR_DIR.mkdir()
    monkeypatch.setenv("CM_AUDIT_SIGNING_KEY", base64.b64encode(TEST_SEED).decode())
    world = build_world(users, tmp_path)
    tokens = {role: api_token_create(user=users[role])[0] for role in ROLES[1:]}
    return {**world, "users": users, "tokens": tokens}


def pact_bearer(world: dict) -> dict[str, str]:
    """A PACT data recipient's bearer token, from the token endpoint itself."""
    from django.test import Client

    client_id, secret = world["pact"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def targeted(world: dict) -> dict[str, list[dict]]:
    """Requests aimed at the world's own rows, beside the generated ones: generated ids
    seldom name a disclosure, a version or an extracted value, so each role also tries
    exporter A's and exporter B's (its own succeed, the other's 404, a reader's 403), and
    uploads a real disclosure file for each exporter's installation."""
    from tests.apps.disclosures.conftest import TEMPLATE_CSV

    aims: dict[str, list[dict]] = {}
    for key in ("a", "b"):
        version = world["disclosures"][key]
        value = version.values.order_by("id").first()
        assert value is not None, "the world's disclosures have extracted values"
        ids = {"id": version.disclosure_id, "number": version.number}
        for label in (
            "POST /api/v1/disclosures/{id}/versions/{number}/confirm/",
            "GET /api/v1/disclosures/{id}/versions/{number}/values/",
        ):
            aims.setdefault(label, []).append({"path_parameters": ids})
        aims.setdefault("POST /api/v1/disclosure-values/{id}/review/", []).append(
            {"path_parameters": {"id": value.pk}}
        )
        aims.setdefault("POST /api/v1/disclosures/", []).append(
            {
                "body": {
                    "installation": world["installations"][key].identifier,
                    "period": 2026,
                    "file": TEMPLATE_CSV.read_bytes(),
                },
                "media_type": "multipart/form-data",
            }
        )
    return aims


class Run:
    """The fuzzing of one role: its credentials, what it found, how long it took."""

    def __init__(self, role: str, world: dict, deadline: float) -> None:
        from apps.accounts.services import token_hash

        self.role = role
        self.deadline = deadline
        token = world["tokens"].get(role)
        self.headers = {"Authorization": f"Token {token}"} if token else {}
        self.token_sha256 = token_hash(token) if token else None
        self.failures: list[str] = []
        self.cases = 0
        self.auth_checked: set[str] = set()
        self.late = 0
        self.aimed: Counter[tuple[str, int]] = Counter()  # (operation, status) of aimed cases

    def keep_token(self) -> None:
        """The fuzzer may revoke the role's own token (``DELETE /api/v1/auth/tokens/{id}/``
        with its id): un-revoke it, so that the following cases still run as the role."""
        from apps.accounts.models import ApiToken

        if self.token_sha256:
            ApiToken.objects.filter(key_sha256=self.token_sha256).update(revoked_at=None)

    def operation(self, operation, mode: GenerationMode, headers: dict[str, str], **fixed) -> None:
        label = operation.label
        # Past the time budget, each remaining operation still gets one valid request.
        late = time.monotonic() > self.deadline
        if late and mode == GenerationMode.NEGATIVE:
            return
        self.late += late

        @hypothesis_settings(1 if late else examples_for(self.role, mode))
        @given(case=operation.as_strategy(generation_mode=mode, **fixed))
        def fuzz(case):
            self.cases += 1
            response = case.call(headers=headers)
            if fixed:
                self.aimed[label, response.status_code] += 1
            self.keep_token()
            checks = list(CHECKS)
            if headers and 200 <= response.status_code < 300 and label not in self.auth_checked:
                self.auth_checked.add(label)
                checks.append(ignored_auth)
            case.validate_response(response, checks=checks, headers=headers)

        try:
            fuzz()
        except Unsatisfiable:
            # Negative mode on an operation with nothing to make invalid (no parameters,
            # no body): there is no such request to send.
            assert mode == GenerationMode.NEGATIVE, label
        except (Exception, BaseExceptionGroup) as exc:  # reported together, at the end
            aimed = f" {fixed}" if fixed else ""
            self.failures.append(f"--- {self.role}: {label} [{mode.value}]{aimed}\n{exc}")


def test_generated_requests_get_documented_answers_and_no_server_error(fuzz_world):
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50  # the schema as served (not vacuous)
    writes = [op.label for op in operations if op.method.upper() in ("POST", "DELETE")]
    assert {"POST /api/v1/disclosures/", "POST /api/v1/disclosure-values/{id}/review/"} <= set(
        writes
    )
    bearer = pact_bearer(fuzz_world)
    # The bearer's runs draw from a schema of their own: Hypothesis replays a strategy's
    # draws, and a second run of the same operation's strategy in one process may not.
    pact_operations = {
        op.label: op
        for op in (
            r.ok() for r in schemathesis.openapi.from_wsgi("/api/schema/", app).get_all_operations()
        )
        if op.path.startswith("/pact/3/")
    }
    aims = targeted(fuzz_world)
    assert set(aims) <= {op.label for op in operations}
    started = time.monotonic()
    runs = []
    for role in ROLES:
        run = Run(role, fuzz_world, deadline=started + BUDGET_S)
        runs.append(run)
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run.operation(operation, mode, run.headers)
                # The PACT footprints take a data recipient's bearer token: once more
                # with it, in the admin's run (it is an identity, not a platform role).
                if role == "admin" and operation.label in pact_operations:
                    run.operation(pact_operations[operation.label], mode, bearer)
            for fixed in aims.get(operation.label, []):
                run.operation(operation, GenerationMode.POSITIVE, run.headers, **fixed)
    elapsed = time.monotonic() - started
    print(f"\nAPI fuzzing: {sum(r.cases for r in runs)} requests in {elapsed:.1f} s")
    for run in runs:
        print(
            f"  {run.role}: {run.cases} requests, {len(run.failures)} failing operations"
            + (f", {run.late} operations past the budget (1 valid request)" if run.late else "")
        )
        # Every operation was tried (the writes too) with this role's credentials.
        assert run.cases >= len(operations), run.role
    # The aimed writes went through: each exporter uploaded to its own installation (201)
    # and was refused the other's (400); readers were refused uploads (403).
    upload = "POST /api/v1/disclosures/"
    for run in runs:
        print(f"  {run.role} aimed: {sorted(run.aimed.items())}")
    by_role = {run.role: run.aimed for run in runs}
    for exporter in ("exporter_a", "exporter_b"):
        assert by_role[exporter][upload, 201] > 0 and by_role[exporter][upload, 400] > 0
    assert by_role["official"][upload, 403] > 0
    failures = [failure for run in runs for failure in run.failures]
    assert not failures, f"{len(failures)} failing operations:\n" + "\n".join(failures)


# --- What the fuzzer found, pinned (each fast, without the fuzzer) ---------------------------


def _client_for(user):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + api_token_create(user=user)[0])
    return client


def test_the_served_schema_documents_the_error_answers():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    detail = paths["/api/v1/estimates/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(detail)
    assert detail["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    listing = paths["/api/v1/estimates/"]["get"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(listing)  # 404: an invalid cursor
    token = paths["/api/v1/auth/token/"]["post"]["responses"]
    assert {"201", "400", "401", "429"} <= set(token)
    assert "403" not in token  # it takes no credentials
    # The PACT exchange keeps the errors of its specification.
    footprint = paths["/pact/3/footprints/{pf_id}"]["get"]["responses"]
    assert "ErrorDetail" not in str(footprint)


@pytest.mark.django_db
def test_a_time_zone_offset_postgresql_cannot_store_is_not_a_server_error(users):
    """``valid_at=…-22:48`` is ISO 8601 that Python reads and PostgreSQL refuses (offsets
    up to ±15:59): it was a 500. The filters now compare in UTC."""
    from django.db import connection

    from tests.conftest import service_missing

    if connection.vendor != "postgresql":
        service_missing(f"needs PostgreSQL, DATABASE_URL gives {connection.vendor}")
    client = _client_for(users["official"])
    odd = "2024-01-01T00:00:00-22:48"
    assert client.get("/api/v1/grid/factors/", {"valid_at": odd}).status_code == 200
    assert client.get("/api/v1/observations/", {"time_from": odd}).status_code == 200
    assert client.get("/api/v1/observations/", {"time_to": odd}).status_code == 200
    # A moment with no year 1…9999 in UTC is a bad parameter, not a crash.
    response = client.get("/api/v1/grid/factors/", {"valid_at": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400 and "valid_at" in response.json()


@pytest.mark.django_db
def test_an_api_path_that_no_route_matches_is_answered_in_json(users):
    client = _client_for(users["official"])
    for path in ("/api/v1/estimates/1.5/", "/api/v1/audit/entries/true", "/api/v1/nothing"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert "detail" in response.json()
    pact = client.get("/pact/3/footprints/a/b")
    assert (pact.status_code, pact.json()["code"]) == (404, "NotFound")
    page = client.get("/no-such-page/")  # the web site keeps its HTML page
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
