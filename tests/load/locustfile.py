"""The load test's users (run by tests/load/test_load.py; ``locust -f`` this file).

The world to use (sessions, tokens, ids, filters, the disclosure template) is read from the
JSON file named by ``CM_LOAD_WORLD``; every request's time is written, by group, to the
JSON file named by ``CM_LOAD_RESULTS`` when locust quits.

| user | share | what it does, 1-3 s apart |
|---|---|---|
| :class:`Official` | 4 | pages: shipment lists (filtered), reports, dashboard, estimates |
| :class:`ApiReader` | 3 | API lists with filters, details, totals, default values |
| :class:`Auditor` | 2 | traces as JSON (checks ``X-Trace-SHA256``), CSV and XLSX |
| :class:`ExporterReader` | 1 | its own shipments and disclosures through the API |
| :class:`Uploader` | exactly 1 | uploads a new disclosure file once a second (API, token) |
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import threading
import uuid
from collections import defaultdict

import gevent.pool
from locust import HttpUser, between, constant_pacing, events, task

WORLD: dict = {}
if os.environ.get("CM_LOAD_WORLD"):
    with open(os.environ["CM_LOAD_WORLD"], encoding="utf-8") as _f:
        WORLD = json.load(_f)

# Request name → group. Reads are "page", "api" and "trace"; the upload is a write.
GROUPS: dict[str, str] = {}
SAMPLES: dict[str, list[float]] = defaultdict(list)
FAILURES: list[dict] = []
UPLOADS: list[int] = []  # ids of the disclosure versions the uploads created
_lock = threading.Lock()
_counter = itertools.count(1)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **kwargs):
    group = GROUPS.get(name, "other")
    with _lock:
        SAMPLES[f"{group}\t{request_type} {name}"].append(response_time)
        if exception is not None:
            FAILURES.append({"name": f"{request_type} {name}", "error": repr(exception)[:500]})


@events.quitting.add_listener
def _write_results(environment, **kwargs):
    path = os.environ.get("CM_LOAD_RESULTS")
    if not path:
        return
    with _lock:
        document = {"samples": SAMPLES, "failures": FAILURES, "uploads": UPLOADS}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(document, f)


def _get(user: HttpUser, group: str, name: str, url: str, check=None, **kwargs) -> None:
    """GET ``url`` as ``name``: a failure unless 200 (no redirect) and ``check`` passes."""
    GROUPS[name] = group
    with user.client.get(
        url, name=name, allow_redirects=False, catch_response=True, **kwargs
    ) as response:
        if response.status_code != 200:
            response.failure(f"{response.status_code} {response.text[:200]!r}")
            return
        problem = check(response) if check else None
        if problem:
            response.failure(problem)


def _html(response) -> str | None:
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        return f"not HTML: {response.headers.get('Content-Type')}"
    if 'name="password"' in response.text:
        return "the login form, not the page"
    return None


def _results(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if not isinstance(body, dict) or "results" not in body:
        return f"no results: {response.text[:200]!r}"
    return None


def _one_of(key: str):
    return random.choice(WORLD[key])


class _Session(HttpUser):
    """A browser user already logged in (a session made by the test, as after login)."""

    abstract = True
    sessions_key = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", _one_of(self.sessions_key))


class _Token(HttpUser):
    abstract = True
    tokens_key = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {_one_of(self.tokens_key)}"


class Official(_Session):
    weight = 4
    sessions_key = "official_sessions"

    @task(3)
    def shipment_list(self) -> None:
        _get(self, "page", "/shipments/", "/shipments/", _html)

    @task(4)
    def shipment_list_filtered(self) -> None:
        query = dict(_one_of("shipment_filters"))
        if random.random() < 0.3:
            query["sort"] = random.choice(["emissions", "mass", "date"])
        _get(self, "page", "/shipments/?[filters]", "/shipments/", _html, params=query)

    @task(3)
    def shipment_report(self) -> None:
        pk = _one_of("shipment_ids")
        _get(self, "page", "/shipments/[id]/", f"/shipments/{pk}/", _html)

    @task(2)
    def dashboard(self) -> None:
        _get(self, "page", "/dashboard/", "/dashboard/", _html)

    @task(1)
    def estimate_page(self) -> None:
        pk = _one_of("estimate_ids")
        _get(self, "page", "/estimates/[id]/", f"/estimates/{pk}/", _html)

    @task(1)
    def exporter_page(self) -> None:
        pk = _one_of("exporter_ids")
        _get(self, "page", "/exporters/[id]/", f"/exporters/{pk}/", _html)


class ApiReader(_Token):
    weight = 3
    tokens_key = "reader_tokens"

    @task(3)
    def shipments(self) -> None:
        _get(self, "api", "/api/v1/shipments/", "/api/v1/shipments/", _results)

    @task(4)
    def shipments_filtered(self) -> None:
        query = _one_of("shipment_filters")
        _get(
            self,
            "api",
            "/api/v1/shipments/?[filters]",
            "/api/v1/shipments/",
            _results,
            params=query,
        )

    @task(3)
    def shipment(self) -> None:
        pk = _one_of("shipment_ids")
        _get(self, "api", "/api/v1/shipments/[id]/", f"/api/v1/shipments/{pk}/")

    @task(2)
    def estimates(self) -> None:
        query = {"cn_code": _one_of("shipment_filters").get("cn_code", "72")}
        _get(
            self, "api", "/api/v1/estimates/?cn_code", "/api/v1/estimates/", _results, params=query
        )

    @task(2)
    def estimate(self) -> None:
        pk = _one_of("estimate_ids")
        _get(self, "api", "/api/v1/estimates/[id]/", f"/api/v1/estimates/{pk}/")

    @task(1)
    def totals(self) -> None:
        query = {"group_by": random.choice(["origin,cn_code", "origin,month", "exporter"])}
        _get(self, "api", "/api/v1/totals/?group_by", "/api/v1/totals/", params=query)

    @task(1)
    def default_values(self) -> None:
        query = {"cn_code": random.choice(["72", "7208", "76", "2523", "3102"])}
        _get(
            self,
            "api",
            "/api/v1/default-values/?cn_code",
            "/api/v1/default-values/",
            _results,
            params=query,
        )


def _trace_digest(response) -> str | None:
    digest = hashlib.sha256(response.content).hexdigest()
    if digest != response.headers.get("X-Trace-SHA256"):
        return f"X-Trace-SHA256 {response.headers.get('X-Trace-SHA256')} != body {digest}"
    return None


class Auditor(_Token):
    weight = 2
    tokens_key = "auditor_tokens"

    @task(4)
    def trace(self) -> None:
        pk = _one_of("estimate_ids")
        name = "/api/v1/estimates/[id]/trace"
        _get(self, "trace", name, f"/api/v1/estimates/{pk}/trace", _trace_digest)

    @task(2)
    def trace_csv(self) -> None:
        pk = _one_of("estimate_ids")
        _get(self, "trace", "/api/v1/estimates/[id]/trace.csv", f"/api/v1/estimates/{pk}/trace.csv")

    @task(1)
    def trace_xlsx(self) -> None:
        pk = _one_of("estimate_ids")
        name = "/api/v1/estimates/[id]/trace.xlsx"
        _get(self, "trace", name, f"/api/v1/estimates/{pk}/trace.xlsx")


class ExporterReader(_Token):
    weight = 1
    tokens_key = "exporter_tokens"

    @task(3)
    def own_shipments(self) -> None:
        _get(self, "api", "/api/v1/shipments/ (exporter)", "/api/v1/shipments/", _results)

    @task(1)
    def own_disclosures(self) -> None:
        _get(self, "api", "/api/v1/disclosures/ (exporter)", "/api/v1/disclosures/", _results)


class Uploader(HttpUser):
    """An exporter's system that submits a disclosure file every second through the API,
    whatever the answers' latency (each upload in its own greenlet: a fixed arrival rate);
    each file differs (a fresh note), so each is a new version and a new queued task."""

    fixed_count = 1
    wait_time = constant_pacing(1)

    def on_start(self) -> None:
        upload = WORLD["upload"]
        self.client.headers["Authorization"] = f"Token {upload['token']}"
        self.targets = itertools.cycle(upload["targets"])
        self.in_flight = gevent.pool.Group()

    def on_stop(self) -> None:
        self.in_flight.join(timeout=30)

    @task
    def upload(self) -> None:
        self.in_flight.spawn(self._upload, next(self.targets), next(_counter))

    def _upload(self, target: dict, n: int) -> None:
        body = target["template"].replace("__NOTE__", f"load test upload {n} {uuid.uuid4()}")
        name = "/api/v1/disclosures/ (upload)"
        GROUPS[name] = "upload"
        with self.client.post(
            "/api/v1/disclosures/",
            name=name,
            data={"installation": target["installation"], "period": str(target["period"])},
            files={"file": (f"disclosure-{n}.csv", body.encode(), "text/csv")},
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {response.text[:300]!r}")
                return
            version = response.json()
            if not version.get("ingest_run"):
                response.failure(f"no ingest run queued: {version}")
                return
            with _lock:
                UPLOADS.append(version["id"])
