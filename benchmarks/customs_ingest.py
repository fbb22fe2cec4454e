"""Customs ingest at scale: 1,000,000 declaration lines (12 columns) from CSV to stored
shipments with estimates, on PostgreSQL.

Prints, measured in the same run on the same file:
- ours: `ingest customs` end to end (read + validate + COPY + merge), excluding the
  estimate pass, in rows/s; and the estimate pass for all shipments, in seconds;
- the floor: PostgreSQL's own `COPY FROM` of the same file into a bare table;
- the storage floor: PostgreSQL's own `COPY FROM` of the rows as stored (the table's
  columns, already formatted) into an empty table with the shipments table's indexes
  (primary key, natural key, exporter) — what the server needs to store them keyed,
  whatever the client does;
- Django `bulk_create` of the same rows (ORM objects, batch 5,000).
Targets (issue 4): ours >= half the floor; estimate pass < 5 s for 1M shipments.

Run: .venv/bin/python benchmarks/customs_ingest.py (DATABASE_URL defaults to the
database cm_bench on 127.0.0.1, which is dropped and created anew; BENCH_LINES sets the
lines, BENCH_PEER=0 leaves out the bulk_create peer).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cm_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)
# One process reads the file whole (chunks for several workers: multihost_ingest.py).
os.environ.setdefault("CM_CUSTOMS_CHUNK_LINES", "0")

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

from benchmarks import floors  # noqa: E402

LINES = int(os.environ.get("BENCH_LINES", "1000000"))


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's own database (never point this at real data)."""
    name = url.rsplit("/", 1)[1]
    assert name.startswith("cm_bench"), "the benchmark drops its database: name it cm_bench*"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def write_file(path: Path, n: int) -> None:
    """n lines, 12 columns, realistic values (kg masses, ISO dates, CBAM CN codes).

    As in real customs data, an exporter ships from one country and a few products:
    400 exporters, each with its origin and two of the six CN codes."""
    rng = np.random.default_rng(3)
    cn = np.array(["72081000", "72085120", "72104900", "76011010", "73089098", "25232900"])
    origins = np.array(["CN", "IN", "TR", "US", "UA", "BR", "ZA", "EG"])
    days = rng.integers(0, 365, n)
    dates = (np.datetime64("2026-01-01") + days).astype(str)
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,"
            "net_mass_kg,statistical_value_eur,procedure,installation_id,supplementary_units\n"
        )
        decl = np.arange(n) // 4
        line = np.arange(n) % 4 + 1
        mass = rng.uniform(100, 2_000_000, n).round(1)
        value = (mass * rng.uniform(0.3, 2.0, n)).round(2)
        exporter = rng.integers(0, 400, n)
        importer = rng.integers(0, 200, n)
        exporter_origin = rng.integers(0, len(origins), 400)
        exporter_goods = rng.integers(0, len(cn), (400, 2))
        oi = exporter_origin[exporter]
        ci = exporter_goods[exporter, rng.integers(0, 2, n)]
        rows = (
            f"D{d:09d},{ln},{dt},{cn[c]},{origins[o]},Exporter {e},Importer {i},{m},{v},4000,,\n"
            for d, ln, dt, c, o, e, i, m, v in zip(
                decl, line, dates, ci, oi, exporter, importer, mass, value, strict=True
            )
        )
        f.writelines(rows)


def main() -> None:
    url = os.environ["DATABASE_URL"]
    fresh_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("CHECKPOINT")  # each timed COPY starts from a clean checkpoint
    from apps.catalogue.models import DefaultValue
    from apps.evidence.services import evidence_store_path, ingest_run_create
    from apps.shipments.models import Shipment

    if not DefaultValue.objects.exists():
        call_command(
            "ingest",
            "defaults",
            str(ROOT / "fixtures/cbam/cbam_default_values_IR2025-2621_by_country.csv"),
            stdout=open(os.devnull, "w"),
        )
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "declarations.csv"
    write_file(path, LINES)
    print(f"{LINES:,} lines, {path.stat().st_size / 1e6:.0f} MB")

    # Floor: PostgreSQL's own COPY of the same file into a bare table.
    with connection.cursor() as c:
        c.execute(
            "DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (a text, b int, "
            "c date, d text, e text, f text, g text, h float8, i float8, j text, k text, l text)"
        )
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
    started = time.perf_counter()
    with connection.cursor() as c, open(path, "rb") as f:
        with c.cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
    floor = time.perf_counter() - started

    # Ours: the platform's ingest, timed by phase from the run itself.
    from apps.estimates import services as estimate_services

    estimate_time = {}
    original = estimate_services.estimates_choose

    def timed_choose(**kwargs):
        t0 = time.perf_counter()
        out = original(**kwargs)
        estimate_time["s"] = time.perf_counter() - t0
        return out

    import apps.shipments.services as shipment_services

    shipment_services.estimates_choose = timed_choose
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
    started = time.perf_counter()
    run = ingest_run_create(
        source="customs", evidence=evidence_store_path(path=path), original_name=path.name
    )
    total = time.perf_counter() - started
    run.refresh_from_db()
    assert run.status == "done", run.failure
    ours = total - estimate_time["s"]

    # Storage floor: the stored rows, dumped as CSV, copied into an empty twin of the table.
    _, storage_floor = floors.storage_floor(run.pk, tmp)

    n = run.accepted
    print(f"accepted {n:,}, rejected {run.rejected}")
    print(f"ours  ingest (read+validate+COPY+merge): {ours:6.2f} s  {n / ours:10,.0f} rows/s")
    print(f"ours  estimate pass ({n:,} shipments):  {estimate_time['s']:6.2f} s  (target < 5 s)")
    print(
        f"floor PostgreSQL COPY FROM of the file:   {floor:6.2f} s  {LINES / floor:10,.0f} rows/s"
    )
    print(
        f"floor PostgreSQL COPY FROM, stored rows into the indexed table: {storage_floor:6.2f} s  "
        f"{n / storage_floor:10,.0f} rows/s"
    )
    print(f"ratio ours / floor: {(n / ours) / (LINES / floor):.2f}  (target >= 0.5)")
    print(f"ratio ours / storage floor: {(n / ours) / (n / storage_floor):.2f}", flush=True)
    if os.environ.get("BENCH_PEER", "1") == "0":
        return  # the bulk_create peer is the slowest part; BENCH_PEER=0 leaves it out

    # Peer: Django bulk_create of the same rows (already parsed objects, batch 5,000).
    from apps.accounts.models import Organisation
    from apps.evidence.models import IngestRun

    rows = list(
        Shipment.objects.filter(ingest_run=run).values(
            "date",
            "cn_code",
            "origin",
            "exporter_id",
            "importer_name",
            "net_mass_t",
            "mass_unit",
            "statistical_value_eur",
            "procedure",
            "source_line",
        )
    )
    peer_run = IngestRun.objects.create(source="customs", evidence=run.evidence)
    objs = [
        Shipment(declaration_id=f"P{i}", line=1, ingest_run=peer_run, **r)
        for i, r in enumerate(rows)
    ]
    started = time.perf_counter()
    Shipment.objects.bulk_create(objs, batch_size=5000)
    bulk = time.perf_counter() - started
    del Organisation

    print(f"peer  Django bulk_create:                 {bulk:6.2f} s  {n / bulk:10,.0f} rows/s")
    print(f"ratio ours / bulk_create: {(n / ours) / (n / bulk):.1f}x")


if __name__ == "__main__":
    main()
