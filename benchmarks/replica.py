"""Reads from a streaming replica: page latency from the replica and from the primary, the
replica's lag under a burst of writes, and the first pages after the replica dies.

Starts its own primary and streaming replica on free loopback ports (initdb and
``pg_basebackup -R`` in a temporary folder, as the tests do: tests/replica_pair.py; as
root the server runs as ``postgres``), migrates, seeds ``BENCH_INSTALLATIONS``
installations (default 20,000), then, in this process (Django's test client, no HTTP):

1. ``BENCH_REQUESTS`` (default 100) GETs each of the installations API page (100 rows)
   and the installations list page, by an official reading the replica, then pinned to
   the primary (a write a moment before): p50 and p95, and the alias that served them;
2. ``BENCH_WRITE_BATCHES`` (default 10) UPDATEs of every installation (one transaction
   each) on the primary while the replica's state is sampled every 50 ms (the check the
   router makes): the largest lag in bytes and seconds seen, and how long after the last
   commit the replica had replayed it;
3. the replica stopped hard (``pg_ctl stop -m immediate``): the first page (its replica
   connection fails, it is answered again from the primary) and the next ones.

Run: .venv/bin/python benchmarks/replica.py
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("CM_VAR_DIR", "/tmp/cm_bench_replica_var")  # noqa: S108

INSTALLATIONS = int(os.environ.get("BENCH_INSTALLATIONS", "20000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
WRITE_BATCHES = int(os.environ.get("BENCH_WRITE_BATCHES", "10"))


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    from tests.replica_pair import ReplicaPair

    pair = ReplicaPair()
    started = time.monotonic()
    try:
        pair.start("cm_bench_replica")
        print(
            f"primary :{pair.primary_port}, replica :{pair.replica_port} "
            f"({time.monotonic() - started:.1f} s)"
        )
        os.environ["DATABASE_URL"] = (
            f"postgres://postgres@127.0.0.1:{pair.primary_port}/cm_bench_replica"
        )
        os.environ["DATABASE_REPLICA_URL"] = (
            f"postgres://postgres@127.0.0.1:{pair.replica_port}/cm_bench_replica"
        )
        os.environ.setdefault("CM_REPLICA_PIN_S", "3600")
        run(pair)
    finally:
        pair.stop()


def run(pair) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apps.common.replica import replica_forget, replica_status
    from apps.facilities.models import Installation
    from tests.apps.helpers import make_users

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    t = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    users = make_users()
    Installation.objects.bulk_create(
        [
            Installation(
                identifier=f"BENCH-{i:06d}",
                name=f"Works {i}",
                organisation=users["org_a"],
                country="IN",
            )
            for i in range(INSTALLATIONS)
        ],
        batch_size=5000,
    )
    pair.wait_caught_up()
    print(f"migrated and seeded {INSTALLATIONS:,} installations ({time.monotonic() - t:.1f} s)")

    def timed(client, path) -> tuple[list[float], dict[str, int]]:
        samples, served = [], {"default": 0, "replica": 0}
        for alias in served:
            connections[alias].force_debug_cursor = True
        for _ in range(REQUESTS):
            for alias in served:
                connections[alias].queries_log.clear()
            t0 = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
            for alias in served:
                served[alias] += any(
                    "facilities_installation" in q["sql"] for q in connections[alias].queries_log
                )
        return samples, served

    reader, writer = Client(), Client()
    reader.force_login(users["official"])
    writer.force_login(users["official"])
    # A write (a token asked for): this client is pinned to the primary (CM_REPLICA_PIN_S).
    writer.post("/api/v1/auth/token/", {"username": "official", "password": "pw-official"})
    print(f"\n1. {REQUESTS} GETs each (installations read by: replica / primary)")
    for path in ("/api/v1/installations/", "/installations/"):
        for label, client in (("replica", reader), ("pinned to the primary", writer)):
            samples, served = timed(client, path)
            print(
                f"  {path:<26} {label:<22} {_ms(samples)}  "
                f"({served['replica']} / {served['default']})"
            )

    print(f"\n2. {WRITE_BATCHES} UPDATEs of {INSTALLATIONS:,} rows on the primary, replica sampled")
    samples: list = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            status = replica_status(fresh=True)
            samples.append((time.monotonic(), status.lag_bytes or 0, status.lag_seconds or 0.0))
            time.sleep(0.05)
        connections.close_all()

    sampler = threading.Thread(target=sample)
    sampler.start()
    t = time.monotonic()
    with pair.connect("primary") as conn:
        for batch in range(WRITE_BATCHES):
            conn.execute("UPDATE facilities_installation SET name = %s || id", (f"W{batch} ",))
        last_commit = time.monotonic()
        target = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    writes_s = last_commit - t
    while (
        pair.scalar(
            "replica", "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", (target,)
        )
        > 0
    ):
        time.sleep(0.01)
    caught_up = time.monotonic() - last_commit
    done.set()
    sampler.join()
    print(f"  writes took {writes_s:.2f} s; {len(samples)} samples")
    print(
        f"  largest lag seen: {max(s[1] for s in samples):,} bytes, "
        f"{max(s[2] for s in samples):.3f} s"
    )
    print(f"  replica had replayed the last commit {caught_up * 1000:.0f} ms after it")

    print("\n3. replica stopped hard")
    replica_forget()
    timed(reader, "/installations/")  # an open connection to the replica
    pair.stop_replica()
    t0 = time.perf_counter()
    response = reader.get("/installations/")
    first = time.perf_counter() - t0
    assert response.status_code == 200
    samples, served = timed(reader, "/installations/")
    print(f"  first page after the stop: {response.status_code} in {first * 1000:.1f} ms")
    print(
        f"  next {REQUESTS}: {_ms(samples)} (read by replica / primary: "
        f"{served['replica']} / {served['default']})"
    )
    print(f"  status: {replica_status().reason}")


if __name__ == "__main__":
    main()
