"""Workers on several hosts (issue #21 §3; docs/operations-workers.md, "Several hosts").

Real hosts made on this machine (benchmarks/multihost_ingest.py): network namespaces
``db`` (its own PostgreSQL cluster and redis-server), ``w1`` and ``w2`` (one Celery worker
each, a var directory each, nothing on disk shared). A large customs file is stored in the
database by the ``ingest`` command and split into chunks that both hosts take; ``w2`` is
killed whole (SIGKILL to every process of its namespace) while it stores a chunk. The run
still ends with every line stored exactly once and estimated, and the exact mass.
Before that, the same kind of file is ingested with one worker host, then two, and both
rates are printed.
"""

from __future__ import annotations

import os
import time

import psycopg
import pytest

from benchmarks.multihost_ingest import Hosts, rate, run_of, submit, wait_done, write_customs
from tests.conftest import service_missing

LINES = int(os.environ.get("CM_MULTIHOST_LINES", "200000"))
RATE_LINES = int(os.environ.get("CM_MULTIHOST_RATE_LINES", "60000"))
CHUNK_LINES = 20_000


def _chunks(conn, run_id):
    return conn.execute(
        "SELECT index, status, attempts, worker FROM evidence_ingestchunk "
        "WHERE run_id = %s ORDER BY index",
        [run_id],
    ).fetchall()


def test_ingest_on_two_hosts_survives_losing_one(tmp_path):
    if os.geteuid() != 0:
        service_missing("network namespaces need root")
    started = time.monotonic()
    with Hosts(chunk_lines=CHUNK_LINES) as hosts:
        up = time.monotonic()
        hosts.start_worker("w1")  # it starts while the schema is made: it only consumes
        hosts.prepare()
        prepared = time.monotonic()
        with psycopg.connect(hosts.dsn(), autocommit=True) as conn:
            hosts.wait_workers_ready(["w1"])
            ready = time.monotonic() - prepared
            print(f"\nhosts up in {up - started:.1f} s, schema and default values in "
                  f"{prepared - up:.1f} s, worker w1 ready in {ready:.1f} s")  # fmt: skip
            one = rate(hosts, conn, RATE_LINES, "one-host.csv", "A")
            hosts.start_worker("w2")
            hosts.wait_workers_ready(["w2"])
            two = rate(hosts, conn, RATE_LINES, "two-hosts.csv", "B")
            print(f"{RATE_LINES:,} lines, chunks of {CHUNK_LINES:,}: one worker host "
                  f"{one:,.0f} rows/s, two {two:,.0f} rows/s, ratio {two / one:.2f}")  # fmt: skip

            # The big file, and the loss of a host while it stores a chunk.
            path = hosts.tmp / "big.csv"
            mass = write_customs(path, LINES, "C", seed=11)
            proc = submit(hosts, path)
            run_id = run_of(conn, "big.csv")
            deadline = time.monotonic() + 180
            while True:  # w2 has stored a chunk and started another
                chunks = _chunks(conn, run_id)
                w2_done = [c for c in chunks if c[1] == "done" and c[3].startswith("w2@")]
                running = [c for c in chunks if c[1] == "pending" and c[2] >= 1]
                if w2_done and len(running) >= 2:
                    break
                assert time.monotonic() < deadline, chunks
                time.sleep(0.05)
            killed = hosts.kill_host("w2")
            assert killed, "w2 had no process to kill"
            status, seconds = wait_done(conn, run_id, timeout=240)
            out, err = proc.communicate(timeout=120)
            assert status == "done", (out, err, hosts.worker_log("w1")[-3000:])

            chunks = _chunks(conn, run_id)
            assert len(chunks) == LINES // CHUNK_LINES
            assert all(c[1] == "done" for c in chunks)
            hosts_used = {c[3].split("@")[0] for c in chunks}
            assert hosts_used == {"w1", "w2"}, chunks
            # The chunk w2 was storing when it died was started again, by w1.
            again = [c for c in chunks if c[2] >= 2]
            assert again and all(c[3].startswith("w1@") for c in again), chunks

            accepted, rejected, duplicates = conn.execute(
                "SELECT accepted, rejected, duplicates FROM evidence_ingestrun WHERE id = %s",
                [run_id],
            ).fetchone()
            assert (accepted, rejected, duplicates) == (LINES, 0, 0)
            rows, keys, unestimated, stored_mass = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT (declaration_id, line)), "
                "COUNT(*) FILTER (WHERE estimate_id IS NULL OR embedded_emissions_t IS NULL), "
                "SUM(net_mass_t) FROM shipments_shipment WHERE ingest_run_id = %s",
                [run_id],
            ).fetchone()
            assert (rows, keys, unestimated) == (LINES, LINES, 0)
            assert stored_mass == pytest.approx(mass, rel=1e-9)
            # The totals kept beside the lines hold all three files' lines, once each.
            total_rows, total_mass = conn.execute(
                "SELECT SUM(shipments), SUM(net_mass_t) FROM shipments_shipmenttotal"
            ).fetchone()
            all_mass = conn.execute("SELECT SUM(net_mass_t) FROM shipments_shipment").fetchone()
            assert total_rows == LINES + 2 * RATE_LINES
            assert float(total_mass) == pytest.approx(float(all_mass[0]), rel=1e-9)
            print(
                f"{LINES:,} lines in {len(chunks)} chunks, w2 killed ({len(killed)} processes):"
                f" done in {seconds:.1f} s, chunks started twice: {[c[0] for c in again]}"
            )
    assert time.monotonic() - started < 600
