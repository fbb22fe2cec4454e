"""Web app at scale: page and API latency with 1,000,000 shipments in PostgreSQL.

Seeds the database ``cm_bench_web`` (dropped and created anew) with 1,000,000 current
shipments, copied in with ``COPY`` (2,000 exporters, each shipping from one origin one to
three of 30 CBAM CN codes over 2026; estimates made by the engine's default-value
methodology for every (origin, CN code), the pre-aggregated totals built by one
``INSERT … SELECT``), serves the app with gunicorn (``BENCH_WORKERS`` sync workers,
default 3) on 127.0.0.1, and
measures, in one run, the latency of

- the shipments list page (first page, 50 rows),
- the list API (``/api/v1/shipments/``, a page of 100, token auth),
- a filtered list page (origin and CN prefix),
- a shipment report (a random shipment each request),
- the dashboard,

with a bounded background load from a second process on loopback (``BENCH_LOAD_RPS``
requests per second over the same pages, at most ``BENCH_LOAD_MAX`` requests and for as
long as the measurement lasts). Beside each it prints the latency of the bare SQL query
behind it, run through the same Django connection settings. Targets (issue 8): p95 under
100 ms for the pages, under 30 ms for a list API page.

Run: .venv/bin/python benchmarks/web.py   (BENCH_SHIPMENTS, BENCH_REQUESTS change the size;
BENCH_REUSE=1 measures again on the database an earlier run of the same size seeded)
"""

from __future__ import annotations

import http.client
import io
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = "postgres://postgres@127.0.0.1:5432/cm_bench_web"
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("CM_VAR_DIR", "/tmp/cm_bench_web_var")  # noqa: S108

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

SHIPMENTS = int(os.environ.get("BENCH_SHIPMENTS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
LOAD_RPS = float(os.environ.get("BENCH_LOAD_RPS", "10"))
LOAD_MAX = int(os.environ.get("BENCH_LOAD_MAX", "3000"))
EXPORTERS = 2000
CN_CODES = [
    "72081000", "72082500", "72083700", "72083900", "72085120", "72089080", "72091690",
    "72101220", "72104900", "72111300", "72131000", "72142000", "72163100", "72193100",
    "72253010", "73041100", "73063077", "73089098", "73181558", "76011010", "76012040",
    "76041010", "76061130", "76069200", "25231000", "25232900", "25239000", "31021010",
    "28080000", "28141000",
]  # fmt: skip
ORIGINS = ["CN", "IN", "TR", "US", "UA", "BR", "ZA", "EG", "KR", "VN", "RU", "GB", "NO",
           "CH", "JP", "TW", "ID", "MY", "TH", "SA"]  # fmt: skip
SHIPMENT_COLUMNS = [
    "declaration_id", "line", "version", "is_current", "date", "cn_code", "origin",
    "exporter_id", "importer_name", "net_mass_t", "mass_unit", "statistical_value_eur",
    "procedure", "installation_identifier", "ingest_run_id", "source_line", "estimate_id",
    "tier", "embedded_emissions_t", "created_at",
]  # fmt: skip


WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))


def fresh_database() -> None:
    """Drop and create the benchmark's own database (never point this at real data)."""
    name = BENCH_URL.rsplit("/", 1)[1]
    assert name == "cm_bench_web"
    with psycopg.connect(BENCH_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed() -> dict:
    """Migrate, load the real default values, then COPY the shipments in."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.accounts.models import Organisation, User
    from apps.accounts.services import api_token_create
    from apps.estimates.services import estimates_choose
    from apps.evidence.models import EvidenceFile, IngestRun
    from tests.apps.helpers import DEFAULTS_CSV, ingest_json

    call_command("migrate", interactive=False, verbosity=0)
    ingest_json("defaults", DEFAULTS_CSV)
    t0 = time.perf_counter()
    rng = np.random.default_rng(8)
    Organisation.objects.bulk_create(
        Organisation(name=f"Exporter {i:04d}", key=f"exporter {i:04d}", kind="exporter")
        for i in range(EXPORTERS)
    )
    exporter_ids = np.array(
        Organisation.objects.filter(kind="exporter").order_by("id").values_list("id", flat=True)
    )
    # Estimates: the engine's default value for every (origin, CN code) of 2026.
    pairs = [(o, c) for o in ORIGINS for c in CN_CODES]
    chosen = estimates_choose(
        origin=np.array([o for o, _ in pairs], dtype=object),
        cn_code=np.array([c for _, c in pairs], dtype=object),
        year=np.full(len(pairs), 2026),
        net_mass_t=np.ones(len(pairs)),
    )
    see = chosen.embedded_emissions_t  # per tonne (mass 1)
    evidence = EvidenceFile.objects.create(sha256="0" * 64, size=0)
    run = IngestRun.objects.create(
        source="customs", evidence=evidence, original_name="benchmark-seed.csv", status="done"
    )

    # Each exporter ships from one origin one to three CN codes; lines ordered by date,
    # as successive ingests would store them.
    n = SHIPMENTS
    home = rng.integers(0, len(ORIGINS), EXPORTERS)
    goods = rng.integers(0, len(CN_CODES), (EXPORTERS, 3))
    span = rng.integers(1, 4, EXPORTERS)
    exporter = rng.integers(0, EXPORTERS, n)
    code = goods[exporter, rng.integers(0, 3, n) % span[exporter]]
    origin = home[exporter]
    pair = origin * len(CN_CODES) + code
    days = np.sort(rng.integers(0, 365, n))
    dates = (np.datetime64("2026-01-01") + days).astype(str)
    mass = rng.lognormal(3.0, 1.5, n).round(3)
    estimate_id = chosen.estimate_id[pair]
    embedded = mass * see[pair]
    importer = rng.integers(0, 500, n)
    buf = io.StringIO()
    for i in range(n):
        has = estimate_id[i] > 0
        buf.write(
            f"D{i // 4:09d}\t{i % 4 + 1}\t1\tt\t{dates[i]}\t{CN_CODES[code[i]]}\t"
            f"{ORIGINS[origin[i]]}\t{exporter_ids[exporter[i]]}\tImporter {importer[i]:03d}\t"
            f"{mass[i]}\tkg\t{mass[i] * 900:.2f}\t4000\t\t{run.pk}\t{i + 2}\t"
            f"{estimate_id[i] if has else chr(92) + 'N'}\t{'default' if has else ''}\t"
            f"{embedded[i] if has else chr(92) + 'N'}\t2026-11-29 12:00:00+00\n"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = f"COPY shipments_shipment ({', '.join(SHIPMENT_COLUMNS)}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            copy.write(buf.getvalue())
        cursor.execute(
            """
            INSERT INTO shipments_shipmenttotal (origin, cn_code, exporter_id, month, shipments,
                net_mass_t, embedded_emissions_t, estimated_mass_t, default_mass_t)
            SELECT origin, cn_code, exporter_id, date_trunc('month', date)::date, count(*),
                sum(net_mass_t), coalesce(sum(embedded_emissions_t), 0),
                coalesce(sum(net_mass_t) FILTER (WHERE estimate_id IS NOT NULL), 0),
                coalesce(sum(net_mass_t) FILTER (WHERE tier = 'default'), 0)
            FROM shipments_shipment WHERE is_current
            GROUP BY origin, cn_code, exporter_id, date_trunc('month', date)
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE shipments_shipment")
        cursor.execute("VACUUM ANALYZE shipments_shipmenttotal")
        cursor.execute("SELECT count(*) FROM shipments_shipmenttotal")
        totals_rows = cursor.fetchone()[0]
    official = User.objects.create_user("bench-official", role="official")
    token, _ = api_token_create(user=official)
    ids = list(range(1, n + 1, max(1, n // 5000)))
    busy = ORIGINS[int(np.bincount(origin).argmax())]
    return {
        "seconds": time.perf_counter() - t0,
        "totals_rows": totals_rows,
        "estimates": chosen.estimates,
        "token": token,
        "session": _session_for(official),
        "sample_ids": ids,
        "filter": f"origin={busy}&cn_code=72",
        "filter_origin": busy,
    }


def _session_for(user) -> str:
    """A logged-in session cookie value (as the login form would make)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, float, float]:
    """One GET on a new loopback connection: (status, seconds, server CPU seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - t
    conn.close()
    cpu = float(response.getheader("X-Server-CPU-ms") or "nan") / 1000
    return response.status, elapsed, cpu


def background_load(port: int, paths: list[str], headers: dict, stop_at: float) -> None:
    """The second process: LOAD_RPS requests per second, at most LOAD_MAX, until stop_at."""
    sent = 0
    next_at = time.monotonic()
    while sent < LOAD_MAX and time.time() < stop_at:
        next_at += 1.0 / LOAD_RPS
        try:
            get(port, random.choice(paths), headers)
        except OSError:
            pass
        sent += 1
        time.sleep(max(0.0, next_at - time.monotonic()))


def percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1000, qs[94] * 1000


def bare_sql(info: dict) -> dict[str, tuple[float, float]]:
    """The SQL behind each page, taken from the same querysets, run bare."""
    import django

    django.setup()
    from django.db import connection

    from apps.accounts.models import User
    from apps.shipments.filters import ShipmentFilter
    from apps.shipments.selectors import shipment_list

    user = User.objects.get(username="bench-official")
    base = shipment_list(user=user)
    filtered = ShipmentFilter({"origin": info["filter_origin"], "cn_code": "72"}, queryset=base).qs
    rng = random.Random(2)

    def report_qs():
        pk = rng.choice(info["sample_ids"])
        return base.select_related("ingest_run__evidence", "installation").filter(pk=pk)

    queries = {
        "list page": lambda: base.order_by("-id")[:51],
        "list API (100)": lambda: base.order_by("-id")[:101],
        "filtered list": lambda: filtered.order_by("-id")[:51],
        "report": report_qs,
    }
    out = {}
    with connection.cursor() as cursor:
        for name, make in queries.items():
            samples = []
            for _ in range(REQUESTS):
                sql, params = make().query.sql_with_params()
                t = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                samples.append(time.perf_counter() - t)
            out[name] = percentiles(samples)
    return out


def main() -> None:
    saved = Path(os.environ["CM_VAR_DIR"]) / f"bench-web-{SHIPMENTS}.json"
    if os.environ.get("BENCH_REUSE") == "1" and saved.exists():
        info = json.loads(saved.read_text())  # the database seeded by an earlier run
        print(f"reusing cm_bench_web as seeded earlier ({SHIPMENTS:,} shipments)", flush=True)
    else:
        print(f"seeding {SHIPMENTS:,} shipments into cm_bench_web …", flush=True)
        fresh_database()
        info = seed()
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(info))
    print(
        f"seeded in {info['seconds']:.1f} s: {SHIPMENTS:,} shipments, {EXPORTERS:,} exporters, "
        f"{info['estimates']} estimates, {info['totals_rows']:,} total rows",
        flush=True,
    )
    port = free_port()
    env = dict(os.environ, DEBUG="0", DATABASE_URL=BENCH_URL, ALLOWED_HOSTS="127.0.0.1")
    log_path = Path(os.environ["CM_VAR_DIR"]) / "bench-web-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Served as in production: gunicorn's sync workers, each keeping its database
    # connection between requests (CONN_MAX_AGE).
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "benchmarks.timed_wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "sync",
            "--log-level", "warning", "--error-logfile", "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),
    )  # fmt: skip
    page_headers = {"Cookie": f"sessionid={info['session']}", "Host": "127.0.0.1"}
    api_headers = {"Authorization": f"Token {info['token']}", "Host": "127.0.0.1"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/login/", {"Host": "127.0.0.1"})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        rng = random.Random(1)
        endpoints = {
            "list page": (lambda: "/shipments/", page_headers, 100),
            "list API (100)": (lambda: "/api/v1/shipments/?page_size=100", api_headers, 30),
            "filtered list": (lambda: f"/shipments/?{info['filter']}", page_headers, 100),
            "report": (
                lambda: f"/shipments/{rng.choice(info['sample_ids'])}/",
                page_headers,
                100,
            ),
            "dashboard": (lambda: "/dashboard/", page_headers, 100),
        }
        load_paths = ["/shipments/", f"/shipments/?{info['filter']}", "/dashboard/"]
        load_paths += [f"/shipments/{i}/" for i in info["sample_ids"][:50]]
        stop_at = time.time() + 600
        load = multiprocessing.get_context("spawn").Process(
            target=background_load, args=(port, load_paths, page_headers, stop_at), daemon=True
        )
        load.start()
        results = {}
        for name, (path, headers, target) in endpoints.items():
            for _ in range(5):
                get(port, path(), headers)  # warm-up
            samples, cpus, errors = [], [], 0
            for _ in range(REQUESTS):
                status, seconds, cpu = get(port, path(), headers)
                if status != 200:
                    errors += 1  # counted and reported; the server's log says why
                    continue
                samples.append(seconds)
                cpus.append(cpu)
            results[name] = (*percentiles(samples), target, errors, *percentiles(cpus))
        load.terminate()
        load.join(5)
    finally:
        server.terminate()
        server.wait(20)
    sql = bare_sql(info)
    print(
        f"\n{REQUESTS} requests each, sequential, over loopback, with a background load of "
        f"{LOAD_RPS:g} req/s (≤ {LOAD_MAX}) from a second process\n"
    )
    print("wall: client-measured latency; CPU: the server thread's CPU time per request;")
    print("SQL: the bare query behind the page, from the same queryset (ms)\n")
    print(
        f"{'endpoint':<16}{'p50':>7}{'p95':>7}{'target':>8} {'CPU p50':>8}{'CPU p95':>8}"
        f"{'SQL p50':>8}{'SQL p95':>8}{'errors':>7}"
    )
    for name, (p50, p95, target, errors, c50, c95) in results.items():
        s50, s95 = sql.get(name, (float("nan"), float("nan")))
        verdict = "ok" if p95 < target else "MISSED"
        print(
            f"{name:<16}{p50:>7.1f}{p95:>7.1f}{'<' + str(target):>8} {c50:>8.1f}{c95:>8.1f}"
            f"{s50:>8.2f}{s95:>8.2f}{errors:>7}  {verdict}"
        )
    if any(r[3] for r in results.values()):
        print(f"\nnon-200 answers: see {log_path}")
    load_avg = os.getloadavg()
    print(f"machine load average during the run: {load_avg[0]:.1f} ({os.cpu_count()} CPUs)")
    print(json.dumps({k: [round(v[0], 1), round(v[1], 1)] for k, v in results.items()}))


if __name__ == "__main__":
    main()
