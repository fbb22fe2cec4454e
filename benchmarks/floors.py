"""Floors shared by the benchmarks: what PostgreSQL itself needs for the work measured.

No import-time side effects (each benchmark sets its own database and settings first)."""

from __future__ import annotations

import time
from pathlib import Path


def storage_floor(run_id: int, tmp: Path) -> tuple[int, float]:
    """PostgreSQL's own COPY of the rows ``run_id`` stored into an empty twin of the
    indexed table (LIKE … INCLUDING ALL: every index of shipments_shipment)."""
    from django.db import connection

    with connection.cursor() as c:
        names = [
            col.name
            for col in connection.introspection.get_table_description(c, "shipments_shipment")
            if col.name != "id"
        ]
        listed = ", ".join(names)
        dump = tmp / "stored.csv"
        with (
            open(dump, "wb") as f,
            c.cursor.copy(
                f"COPY (SELECT {listed} FROM shipments_shipment WHERE ingest_run_id = %s) "  # noqa: S608
                "TO STDOUT (FORMAT csv)",
                [run_id],
            ) as copy,
        ):
            for chunk in copy:
                f.write(chunk)
        c.execute(
            "DROP TABLE IF EXISTS bench_stored; "
            "CREATE TABLE bench_stored (LIKE shipments_shipment INCLUDING ALL); CHECKPOINT"
        )
        started = time.perf_counter()
        with (
            open(dump, "rb") as f,
            c.cursor.copy(f"COPY bench_stored ({listed}) FROM STDIN (FORMAT csv)") as copy,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        c.execute("SELECT count(*) FROM bench_stored")
        rows = c.fetchone()[0]
        c.execute("DROP TABLE bench_stored")
    dump.unlink()
    return rows, seconds
