"""The partitioning migration on a populated table (issue #21 §1): how long
``shipments.0014_partition_shipments`` takes, in place, forwards and back.

On the database ``cm_bench_partition`` (dropped and created anew): migrate to 0013 (the
plain table with its keys and list indexes), fill it with ``--rows`` lines over five
quarters (one ``INSERT … SELECT FROM generate_series``, the shape of
tests/apps/shipments/test_query_plans.py), ``VACUUM ANALYZE``; then time the migration
forwards, check every line is there, time it backwards and forwards again. The peer is
PostgreSQL's own ``CREATE TABLE … AS SELECT`` copy of the same rows (no index): what any
in-place rewrite of the table must at least spend.

Run: .venv/bin/python benchmarks/partition_migration.py [--rows 500K]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cm_bench_partition"
)
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("CM_VAR_DIR", "/tmp/cm_bench_partition_var")  # noqa: S108

from benchmarks.scale import fresh_database, parse_rows  # noqa: E402

BEFORE = ("shipments", "0013_figures_hot_rechoose")
AFTER = ("shipments", "0014_partition_shipments")
SEED = """
INSERT INTO shipments_shipment (declaration_id, line, version, is_current, date, cn_code,
    origin, exporter_id, importer_name, net_mass_t, mass_unit, procedure,
    installation_identifier, ingest_run_id, source_line, tier, embedded_emissions_t,
    best_tier, created_at)
SELECT 'D' || lpad((i / 4)::text, 9, '0'), i %% 4 + 1, 1, true,
    DATE '2025-10-01' + (i * 456 / %(n)s), (ARRAY['72081000', '76011010', '25232900'])[1 + i %% 3],
    (ARRAY['CN', 'IN', 'TR', 'UA'])[1 + i %% 4], %(exporter)s, 'Importer ' || i %% 30,
    round((random() * 900 + 1)::numeric, 3), 'kg', '4000', '', %(run)s, i + 2, 'default',
    random() * 2000, 'default', now()
FROM generate_series(0, %(n)s - 1) AS i
"""


def migrate(target) -> float:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    started = time.perf_counter()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="500K")
    rows = parse_rows(parser.parse_args().rows)
    fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.models import Organisation
    from apps.evidence.models import EvidenceFile, IngestRun

    call_command("migrate", interactive=False, verbosity=0)
    migrate(BEFORE)
    exporter = Organisation.objects.create(name="Exporter", key="exporter", kind="exporter")
    evidence = EvidenceFile.objects.create(sha256="2" * 64, size=0)
    run = IngestRun.objects.create(source="customs", evidence=evidence, status="done")
    with connection.cursor() as c:
        c.execute(SEED, {"n": rows, "exporter": exporter.pk, "run": run.pk})
        c.execute("VACUUM ANALYZE shipments_shipment")
        c.execute("SELECT md5(string_agg(md5(s::text), '' ORDER BY id)) FROM shipments_shipment s")
        digest = c.fetchone()[0]
        started = time.perf_counter()
        c.execute("CREATE TABLE bench_copy AS SELECT * FROM shipments_shipment")
        peer = time.perf_counter() - started
        c.execute("DROP TABLE bench_copy")
        c.execute("CHECKPOINT")
    forward = migrate(AFTER)
    with connection.cursor() as c:
        c.execute("SELECT md5(string_agg(md5(s::text), '' ORDER BY id)) FROM shipments_shipment s")
        assert c.fetchone()[0] == digest, "the lines changed"
        c.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'shipments_shipment'::regclass"
        )
        partitions = c.fetchone()[0]
        c.execute("CHECKPOINT")
    backward = migrate(BEFORE)
    with connection.cursor() as c:
        c.execute("SELECT md5(string_agg(md5(s::text), '' ORDER BY id)) FROM shipments_shipment s")
        assert c.fetchone()[0] == digest, "the lines changed"
    again = migrate(AFTER)
    print(f"{rows:,} lines; {partitions} partitions (incl. default and the quarters ahead)")
    print(f"peer: CREATE TABLE AS SELECT (no index): {peer:.1f} s = {rows / peer:,.0f} rows/s")
    for name, seconds in (
        ("forwards", forward),
        ("backwards", backward),
        ("forwards again", again),
    ):
        print(
            f"migration {name}: {seconds:.1f} s = {rows / seconds:,.0f} rows/s, "
            f"{seconds / peer:.1f} × the peer"
        )
    print(f"every line identical after each direction (md5 of all rows); load average "
          f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")  # fmt: skip


if __name__ == "__main__":
    main()
