"""Storage that stays fast (issue #21 §1): 10M shipments (100M with ``--rows 100M``) in
PostgreSQL, loaded and read.

In one run, on the database ``cm_bench_scale_big`` (dropped and created anew):

1. ingest: ``BENCH_INGEST_LINES`` declaration lines (default 1M) from CSV through the real
   ``ingest customs`` into the empty table, rows/s without the estimate pass (as
   benchmarks/customs_ingest.py counts it), beside the storage floor: PostgreSQL's own
   ``COPY`` of the stored rows into an empty twin of the indexed table (target: >= 0.8×);
2. the bulk: shipments ``COPY``-ed in until the table holds ``--rows`` (fast path, not the
   ingest; skewed as customs data are: an exporter ships from one country one to three
   codes, a few origins and codes carry most lines, and ten "rare" lines carry a rare
   value in every filtered column), the totals rebuilt, ``VACUUM ANALYZE``;
3. ingest again: as many new lines into the full table (target: the rate within 20 % of
   the rate into the empty one);
4. reads, in process through Django's test client (the view, its queries and the
   template; no HTTP): p50/p95 of the list page and the list API, unfiltered and for every
   filter with a common and a rare value (ten lines), the usual pairs, the exporter-scoped
   list, the dashboard and a shipment's report (target: p95 < 100 ms);
5. the table's and each index's size on disk.

Each figure is printed beside its target and the ratio to it.

Run: .venv/bin/python benchmarks/scale.py [--rows 10M|100M|250000]
(``BENCH_ROWS`` sets the size when ``--rows`` is not given; ``BENCH_INGEST_LINES`` the
lines of each timed ingest; ``BENCH_REQUESTS`` the requests per figure, default 30.)
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cm_bench_scale_big"
)
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("CM_VAR_DIR", "/tmp/cm_bench_scale_var")  # noqa: S108

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

from benchmarks.floors import storage_floor  # noqa: E402

CN_CODES = [
    "72081000", "72082500", "72083700", "72083900", "72085120", "72089080", "72091690",
    "72101220", "72104900", "72111300", "72131000", "72142000", "72163100", "72193100",
    "72253010", "73041100", "73063077", "73089098", "73181558", "76011010", "76012040",
    "76041010", "76061130", "76069200", "25231000", "25232900", "25239000", "31021010",
]  # fmt: skip
ORIGINS = ["CN", "IN", "TR", "US", "UA", "BR", "ZA", "EG", "KR", "VN", "RU", "GB", "NO",
           "CH", "JP", "TW", "ID", "MY", "TH", "SA"]  # fmt: skip
EXPORTERS = 2000
RARE = {  # ten lines carry each of these
    "origin": "IS",
    "cn_code": "28141000",
    "exporter": "Rare Exporter",
    "importer": "Rare Importer Ltd",
    "tier": "verified",
    "best_tier": "disclosed",
    "date": "2025-07-15",
    "installation": "RARE-PLANT-1",
}
COLUMNS = [
    "declaration_id", "line", "version", "is_current", "date", "cn_code", "origin",
    "exporter_id", "importer_name", "net_mass_t", "mass_unit", "statistical_value_eur",
    "procedure", "installation_identifier", "ingest_run_id", "source_line", "estimate_id",
    "tier", "embedded_emissions_t", "best_tier", "best_embedded_emissions_t", "created_at",
]  # fmt: skip
TARGET_MS = 100.0


def parse_rows(text: str) -> int:
    text = text.strip().upper().replace("_", "").replace(",", "")
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def fresh_database() -> None:
    """Drop and create the benchmark's own database (never point this at real data)."""
    name = BENCH_URL.rsplit("/", 1)[1]
    assert name.startswith("cm_bench"), "the benchmark drops its database: name it cm_bench*"
    with psycopg.connect(BENCH_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def write_customs(path: Path, n: int, *, prefix: str, seed: int) -> None:
    """n declaration lines (the customs CSV the ingest reads), 400 exporters each shipping
    from one origin two of six CN codes (as benchmarks/customs_ingest.py writes them)."""
    rng = np.random.default_rng(seed)
    cn = np.array(["72081000", "72085120", "72104900", "76011010", "73089098", "25232900"])
    origins = np.array(["CN", "IN", "TR", "US", "UA", "BR", "ZA", "EG"])
    dates = (np.datetime64("2026-01-01") + rng.integers(0, 365, n)).astype(str)
    mass = rng.uniform(100, 2_000_000, n).round(1)
    value = (mass * rng.uniform(0.3, 2.0, n)).round(2)
    exporter = rng.integers(0, 400, n)
    importer = rng.integers(0, 200, n)
    home = np.random.default_rng(3).integers(0, len(origins), 400)
    goods = np.random.default_rng(4).integers(0, len(cn), (400, 2))
    ci = goods[exporter, rng.integers(0, 2, n)]
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,"
            "net_mass_kg,statistical_value_eur,procedure,installation_id,supplementary_units\n"
        )
        f.writelines(
            f"{prefix}{i // 4:09d},{i % 4 + 1},{dates[i]},{cn[ci[i]]},{origins[home[e]]},"
            f"Exporter {e},Importer {importer[i]},{mass[i]},{value[i]},4000,,\n"
            for i, e in enumerate(exporter)
        )


def timed_ingest(path: Path) -> tuple[int, float, float, int]:
    """The real ingest of ``path``: (accepted lines, seconds without the estimate pass,
    seconds of the estimate pass, the run's id)."""
    import apps.shipments.services as shipment_services
    from apps.estimates import services as estimate_services
    from apps.evidence.services import evidence_store_path, ingest_run_create

    spent = {}
    original = estimate_services.estimates_choose

    def timed_choose(**kwargs):
        t0 = time.perf_counter()
        out = original(**kwargs)
        spent["s"] = spent.get("s", 0.0) + time.perf_counter() - t0
        return out

    shipment_services.estimates_choose = timed_choose
    checkpoint()
    started = time.perf_counter()
    run = ingest_run_create(
        source="customs", evidence=evidence_store_path(path=path), original_name=path.name
    )
    total = time.perf_counter() - started
    shipment_services.estimates_choose = original
    run.refresh_from_db()
    assert run.status == "done", run.failure
    return run.accepted, total - spent.get("s", 0.0), spent.get("s", 0.0), run.pk


def checkpoint() -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("CHECKPOINT")


def bulk_load(target: int) -> dict:
    """COPY shipments in until the table holds ``target`` rows (the fast path), with ten
    rare lines spread through them; then the totals, VACUUM ANALYZE."""
    from django.db import connection, transaction

    from apps.accounts.models import Organisation
    from apps.estimates.services import estimates_choose
    from apps.evidence.models import EvidenceFile, IngestRun
    from apps.facilities.models import Installation
    from apps.shipments.partitions import quarters_of, shipment_partitions_ensure
    from apps.shipments.services import shipment_totals_rebuild

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM shipments_shipment")
        have = c.fetchone()[0]
    n = max(0, target - have)
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Bulk Exporter {i:04d}", key=f"bulk exporter {i:04d}", kind="exporter"
            )
            for i in range(EXPORTERS)
        ]
        + [Organisation(name=RARE["exporter"], key=RARE["exporter"].lower(), kind="exporter")]
    )
    exporter_ids = np.array(
        Organisation.objects.filter(name__startswith="Bulk Exporter")
        .order_by("id")
        .values_list("id", flat=True)
    )
    rare_exporter = Organisation.objects.get(name=RARE["exporter"]).pk
    Installation.objects.get_or_create(
        identifier=RARE["installation"], defaults={"name": "Rare plant", "country": "IS"}
    )
    pairs = [(o, c) for o in ORIGINS for c in CN_CODES]
    chosen = estimates_choose(
        origin=np.array([o for o, _ in pairs], dtype=object),
        cn_code=np.array([c for _, c in pairs], dtype=object),
        year=np.full(len(pairs), 2026),
        net_mass_t=np.ones(len(pairs)),
    )
    see = chosen.embedded_emissions_t
    evidence = EvidenceFile.objects.create(sha256="1" * 64, size=0)
    run = IngestRun.objects.create(
        source="customs", evidence=evidence, original_name="bulk.csv", status="done"
    )
    rng = np.random.default_rng(21)
    # Skew: exporters' sizes and origins' and codes' shares follow a power law.
    home = np.minimum((len(ORIGINS) * rng.random(EXPORTERS) ** 3).astype(int), len(ORIGINS) - 1)
    goods = np.minimum(
        (len(CN_CODES) * rng.random((EXPORTERS, 3)) ** 2).astype(int), len(CN_CODES) - 1
    )
    span = rng.integers(1, 4, EXPORTERS)
    rare_at = set(np.linspace(0, n - 1, 10).astype(int).tolist()) if n >= 10 else set()
    # The partitions of the quarters loaded (the ingest creates its own the same way).
    shipment_partitions_ensure(
        quarters=quarters_of([np.datetime64("2026-01-01") + d for d in range(0, 365, 28)])
        | quarters_of([np.datetime64(RARE["date"]), np.datetime64("2026-12-31")])
    )
    started = time.perf_counter()
    chunk = 1_000_000
    for begin in range(0, n, chunk):
        size = min(chunk, n - begin)
        exporter = np.minimum((EXPORTERS * rng.random(size) ** 2).astype(int), EXPORTERS - 1)
        code = goods[exporter, rng.integers(0, 3, size) % span[exporter]]
        origin = home[exporter]
        pair = origin * len(CN_CODES) + code
        days = (np.arange(begin, begin + size) * 365) // n  # stored in date order
        dates = (np.datetime64("2026-01-01") + days).astype(str)
        mass = rng.lognormal(3.0, 1.5, size).round(3)
        estimate_id = chosen.estimate_id[pair]
        embedded = mass * see[pair]
        importer = rng.integers(0, 500, size)
        buf = io.StringIO()
        for j in range(size):
            i = begin + j
            has = estimate_id[j] > 0
            est = estimate_id[j] if has else "\\N"
            emb = embedded[j] if has else "\\N"
            if i in rare_at:
                buf.write(
                    f"B{i // 4:09d}\t{i % 4 + 1}\t1\tt\t{RARE['date']}\t{RARE['cn_code']}\t"
                    f"{RARE['origin']}\t{rare_exporter}\t{RARE['importer']}\t{mass[j]}\tkg\t\\N\t"
                    f"4000\t{RARE['installation']}\t{run.pk}\t{i + 2}\t\\N\t{RARE['tier']}\t\\N\t"
                    f"{RARE['best_tier']}\t\\N\t2026-12-01 12:00:00+00\n"
                )
                continue
            tier = "default" if has else ""
            buf.write(
                f"B{i // 4:09d}\t{i % 4 + 1}\t1\tt\t{dates[j]}\t{CN_CODES[code[j]]}\t"
                f"{ORIGINS[origin[j]]}\t{exporter_ids[exporter[j]]}\tImporter {importer[j]:03d}\t"
                f"{mass[j]}\tkg\t{mass[j] * 900:.2f}\t4000\t\t{run.pk}\t{i + 2}\t{est}\t{tier}\t"
                f"{emb}\t{tier}\t{emb}\t2026-12-01 12:00:00+00\n"
            )
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY shipments_shipment ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        print(f"  bulk: {begin + size:,} of {n:,} rows", flush=True)
    seconds = time.perf_counter() - started
    shipment_totals_rebuild()  # the totals, as the platform rebuilds them
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE shipments_shipment")
        cursor.execute("VACUUM ANALYZE shipments_shipmenttotal")
    return {"rows": n, "seconds": seconds, "exporter": int(exporter_ids[0])}


def percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1000, qs[94] * 1000


def measure_reads(requests: int, busy_exporter: int) -> list[tuple[str, float, float]]:
    from django.db import connection
    from django.test import Client

    from apps.accounts.models import Organisation, User

    official = User.objects.create_user("bench-official", role="official")
    exporter = User.objects.create_user(
        "bench-exporter", role="exporter", organisation=Organisation.objects.get(pk=busy_exporter)
    )
    with connection.cursor() as c:
        c.execute("SELECT origin FROM shipments_shipment GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        busy_origin = c.fetchone()[0]
        c.execute("SELECT min(id), max(id) FROM shipments_shipment")
        low, high = c.fetchone()
    rng = random.Random(5)
    filters = {
        "origin, common": f"origin={busy_origin}",
        "origin, rare": f"origin={RARE['origin']}",
        "CN code, common": "cn_code=72081000",
        "CN code, rare": f"cn_code={RARE['cn_code']}",
        "CN prefix, common": "cn_code=72",
        "CN prefix, rare": "cn_code=2814",
        "exporter, common": "exporter=Bulk+Exporter+0000",
        "exporter, rare": "exporter=Rare+Exporter",
        "importer, common": "importer=Importer+001",
        "importer, rare": "importer=Rare+Importer",
        "tier, common": "tier=default",
        "tier, rare": f"tier={RARE['tier']}",
        "best tier, rare": f"best_tier={RARE['best_tier']}",
        "period, common": "period_from=2026-03-01&period_to=2026-03-31",
        "period, rare": "period_from=2025-07-01&period_to=2025-07-31",
        "installation, rare": f"installation={RARE['installation']}",
        "origin + CN prefix": f"origin={busy_origin}&cn_code=7208",
        "origin + period": f"origin={busy_origin}&period_from=2026-06-01&period_to=2026-06-30",
        "CN + period": "cn_code=7601&period_from=2026-10-01&period_to=2026-10-31",
    }
    official_client, exporter_client = Client(), Client()
    official_client.force_login(official)
    exporter_client.force_login(exporter)
    cases: list[tuple[str, Client, callable]] = [
        ("list page", official_client, lambda: "/shipments/"),
        ("list API (100)", official_client, lambda: "/api/v1/shipments/"),
        ("exporter's list page", exporter_client, lambda: "/shipments/"),
        ("exporter's list API", exporter_client, lambda: "/api/v1/shipments/"),
    ]
    for name, query in filters.items():
        cases.append((f"page: {name}", official_client, lambda q=query: f"/shipments/?{q}"))
        cases.append((f"API: {name}", official_client, lambda q=query: f"/api/v1/shipments/?{q}"))
    for name in ("origin, rare", "CN code, rare", "period, common", "tier, rare"):
        query = filters[name]
        cases.append(
            (f"exporter page: {name}", exporter_client, lambda q=query: f"/shipments/?{q}")
        )
    cases.append(("dashboard", official_client, lambda: "/dashboard/"))
    cases.append(("report", official_client, lambda: f"/shipments/{rng.randint(low, high)}/"))
    out = []
    for name, client, path in cases:
        for _ in range(3):
            client.get(path())  # warm-up
        samples = []
        for _ in range(requests):
            url = path()
            t = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t)
            if response.status_code not in (200, 404):  # (a report of a superseded id: 404)
                raise SystemExit(f"{url}: {response.status_code}")
        p50, p95 = percentiles(samples)
        out.append((name, p50, p95))
        print(f"  {name:<34}{p50:8.1f}{p95:8.1f}  p95/target {p95 / TARGET_MS:5.2f}", flush=True)
    return out


def sizes() -> list[tuple[str, int]]:
    from django.db import connection

    with connection.cursor() as c:
        # Summed over the partitions (pg_partition_tree: the table itself when it is not
        # partitioned, as on a database migrated back).
        c.execute(
            "WITH parts AS (SELECT relid FROM pg_partition_tree('shipments_shipment') "
            "WHERE isleaf) "
            "SELECT 'table (heap + TOAST)', sum(pg_table_size(relid))::bigint FROM parts "
            "UNION ALL SELECT 'partitions', count(*) FROM parts UNION ALL "
            "SELECT i.indexrelid::regclass::text, (SELECT sum(pg_relation_size(t.relid)) "
            "FROM pg_partition_tree(i.indexrelid) t WHERE t.isleaf)::bigint FROM pg_index i "
            "WHERE i.indrelid = 'shipments_shipment'::regclass UNION ALL "
            "SELECT 'all indexes', sum(pg_indexes_size(relid))::bigint FROM parts UNION ALL "
            "SELECT 'totals table (ShipmentTotal)', "
            "pg_total_relation_size('shipments_shipmenttotal')"
        )
        return c.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default=os.environ.get("BENCH_ROWS", "10M"))
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="measure the reads and sizes again on the database an earlier run left "
        "(no ingest, no bulk load): the reads of a big table measured on a quiet machine",
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="ingest BENCH_INGEST_LINES new lines into the table an earlier run left, beside "
        "the storage floor of the same rows (step 3 alone, on a quiet machine)",
    )
    args = parser.parse_args()
    if args.ingest_only:
        ingest_only(parse_rows(os.environ.get("BENCH_INGEST_LINES", "1M")))
        return
    if args.reads_only:
        reads_only(int(os.environ.get("BENCH_REQUESTS", "30")))
        return
    rows = parse_rows(args.rows)
    lines = parse_rows(os.environ.get("BENCH_INGEST_LINES", "1M"))
    requests = int(os.environ.get("BENCH_REQUESTS", "30"))
    print(
        f"{rows:,} shipments; ingests of {lines:,} lines; {requests} requests a figure", flush=True
    )
    fresh_database()
    import django

    django.setup()
    from django.core.management import call_command

    from tests.apps.helpers import DEFAULTS_CSV, ingest_json

    call_command("migrate", interactive=False, verbosity=0)
    ingest_json("defaults", DEFAULTS_CSV)
    tmp = Path(tempfile.mkdtemp())

    print("1. ingest into the empty table …", flush=True)
    first = tmp / "first.csv"
    write_customs(first, lines, prefix="E", seed=1)
    n1, s1, est1, run1 = timed_ingest(first)
    floor_rows, floor_s = storage_floor(run1, tmp)
    first.unlink()

    print(f"2. bulk COPY up to {rows:,} rows …", flush=True)
    bulk = bulk_load(rows)

    print("3. ingest into the full table …", flush=True)
    second = tmp / "second.csv"
    write_customs(second, lines, prefix="F", seed=2)
    n2, s2, est2, _ = timed_ingest(second)
    second.unlink()
    from django.db import connection

    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE shipments_shipment")
        c.execute("SELECT count(*) FROM shipments_shipment")
        held = c.fetchone()[0]

    print(f"4. reads on {held:,} shipments (ms)   {'p50':>8}{'p95':>8}", flush=True)
    reads = measure_reads(requests, bulk["exporter"])

    r_empty, r_full, r_floor = n1 / s1, n2 / s2, floor_rows / floor_s
    print("\n== ingest ==")
    print(f"into the empty table: {n1:,} lines in {s1:.1f} s = {r_empty:,.0f} rows/s "
          f"(estimate pass {est1:.1f} s, not counted)")  # fmt: skip
    print(f"storage floor (COPY of the stored rows into the indexed table): "
          f"{r_floor:,.0f} rows/s")  # fmt: skip
    print(f"ratio to the storage floor: {r_empty / r_floor:.2f}  (target >= 0.80)")
    bulk_rate = bulk["rows"] / max(bulk["seconds"], 1e-9)
    print(f"bulk COPY (fast path, not the ingest): {bulk['rows']:,} rows in "
          f"{bulk['seconds']:.1f} s = {bulk_rate:,.0f} rows/s")  # fmt: skip
    print(f"into the table holding {held - n2:,}: {n2:,} lines in {s2:.1f} s = "
          f"{r_full:,.0f} rows/s (estimate pass {est2:.1f} s)")  # fmt: skip
    print(f"ratio full / empty: {r_full / r_empty:.2f}  (target >= 0.80)")
    print_reads_and_sizes(reads, held)


def print_reads_and_sizes(reads: list[tuple[str, float, float]], held: int) -> None:
    print("\n== reads (p95 target < 100 ms) ==")
    worst = max(reads, key=lambda r: r[2])
    missed = [r[0] for r in reads if r[2] >= TARGET_MS]
    print(f"{len(reads)} figures; worst p95 {worst[2]:.1f} ms ({worst[0]}), ratio to "
          f"target {worst[2] / TARGET_MS:.2f}; missed: {', '.join(missed) or 'none'}")  # fmt: skip
    print("\n== sizes ==")
    for name, size in sizes():
        if name == "partitions":
            print(f"{'partitions (incl. default)':<40}{size:10d}")
            continue
        print(f"{name:<40}{size / 1e6:10.1f} MB  {size / held:8.1f} B/row")
    load = os.getloadavg()
    print(f"\nmachine load average: {load[0]:.1f} ({os.cpu_count()} CPUs)")


def ingest_only(lines: int) -> None:
    """Step 3 on the table an earlier run built: new lines (their own prefix) through the
    real ingest, and the storage floor of the same rows in the same run."""
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM shipments_shipment")
        held = c.fetchone()[0]
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "more.csv"
    prefix = f"G{int(time.time()) % 100_000:05d}"
    write_customs(path, lines, prefix=prefix, seed=3)
    print(f"3. ingest of {lines:,} new lines into the table holding {held:,} …", flush=True)
    n, seconds, estimate_s, run_id = timed_ingest(path)
    floor_rows, floor_s = storage_floor(run_id, tmp)
    path.unlink()
    rate, floor = n / seconds, floor_rows / floor_s
    print(f"into the table holding {held:,}: {n:,} lines in {seconds:.1f} s = {rate:,.0f} rows/s "
          f"(estimate pass {estimate_s:.1f} s, not counted)")  # fmt: skip
    print(f"storage floor (COPY of the stored rows into the indexed table): {floor:,.0f} rows/s")
    print(f"ratio to the storage floor: {rate / floor:.2f}  (target >= 0.80)")
    load = os.getloadavg()
    print(f"machine load average: {load[0]:.1f} ({os.cpu_count()} CPUs)")


def reads_only(requests: int) -> None:
    """Steps 4 and 5 on the table an earlier run built."""
    import django

    django.setup()
    from django.db import connection

    from apps.accounts.models import Organisation

    busy = Organisation.objects.filter(name__startswith="Bulk Exporter").order_by("id").first()
    assert busy is not None, "no earlier run's table: run without --reads-only first"
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM shipments_shipment")
        held = c.fetchone()[0]
    print(f"4. reads on {held:,} shipments (ms)   {'p50':>8}{'p95':>8}", flush=True)
    reads = measure_reads(requests, busy.pk)
    print_reads_and_sizes(reads, held)


if __name__ == "__main__":
    main()
