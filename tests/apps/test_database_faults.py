"""PostgreSQL stopped hard (``pg_ctl stop -m immediate``, as a crash or power loss) in the
middle of a multi-batch customs ingest: after the restart the committed batches are intact,
nothing partial exists, and executing the run again completes it to the exact total.

The test runs its own PostgreSQL cluster (initdb in a temporary folder, a free port picked
at start, so parallel sessions and xdist workers do not collide), so the server other tests
use is never stopped. It needs the PostgreSQL server binaries, which
CI installs; without them it fails unless services are not required.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from fixtures.trade.generate_declarations import EXTRACT, generate_declarations
from tests.apps.helpers import DEFAULTS_CSV, ROOT
from tests.conftest import migrated_into
from tests.conftest import postgres_binary as _bin

# Minutes of ingest, bounded by the waits below: more than the global 300 s timeout when
# the suite runs in parallel (xdist) on a small machine.
pytestmark = [pytest.mark.services, pytest.mark.timeout(1200)]

# Lines per batch (CM_CUSTOMS_BATCH_ROWS): small, so that a file of a few batches is quick
# to generate and load while the stop still falls between whole batches.
BATCH = 10_000


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: run its tools as the postgres user when root."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()  # kept across the restart: the URLs stay valid
        self.data = folder / "data"
        self.socket = folder / "socket"
        self.log = folder / "server.log"

    def init(self) -> Cluster:
        self.socket.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")
        _as_postgres([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"])
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1 -c fsync=on"
        _as_postgres(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "start",
            ]
        )

    def stop(self, mode: str) -> None:
        _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture
def cluster():
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as
    # the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="cm-pgfault-"))
    os.chmod(folder, 0o755)  # noqa: S103 (the server's user must enter it)
    made = Cluster(folder).init()
    made.start()
    try:
        yield made
    finally:
        try:
            made.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


def _manage(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _scalar(url: str, sql: str, params=()):
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_postgres_stopped_mid_ingest_keeps_whole_batches_and_a_rerun_is_exact(cluster, tmp_path):
    with psycopg.connect(cluster.url("postgres").replace("postgres://", "postgresql://")) as c:
        c.autocommit = True
        c.execute("CREATE DATABASE cm_fault")
    url = cluster.url("cm_fault")
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(
        DATABASE_URL=url,
        CM_VAR_DIR=str(tmp_path / "var"),
        CM_MEDIA_ROOT=str(tmp_path / "media"),
        CM_CUSTOMS_WRITERS="1",  # one batch after the other: the stop falls between batches
        CM_CUSTOMS_CHUNK_LINES="0",  # read whole, in batches (chunks: test_multihost.py)
        CM_CUSTOMS_BATCH_ROWS=str(BATCH),
    )
    # The schema: the session's migrated template copied in (else every migration run).
    steps = [("ingest", "defaults", str(DEFAULTS_CSV))]
    if not migrated_into(url):
        steps.insert(0, ("migrate", "-v0"))
    for args in steps:
        done = _manage(env, *args)
        assert done.wait(timeout=600) == 0, done.stdout.read()
    made = generate_declarations(EXTRACT, tmp_path / "big.csv", scale=5.0, seed=5)
    assert made["lines"] > 3 * BATCH

    ingest = _manage(env, "ingest", "customs", str(tmp_path / "big.csv"))
    deadline = time.monotonic() + 300
    run_id = accepted = None
    while time.monotonic() < deadline and ingest.poll() is None:
        row = None
        try:
            with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
                row = conn.execute(
                    "SELECT id, accepted FROM evidence_ingestrun WHERE source = 'customs' "
                    "ORDER BY id DESC LIMIT 1"
                ).fetchone()
        except psycopg.OperationalError:
            pass
        if row and row[1] > 0:
            run_id, accepted = row
            break
        time.sleep(0.05)
    assert run_id is not None, f"no batch committed in time: {ingest.stdout.read()[-2000:]}"

    cluster.stop("immediate")  # no shutdown checkpoint: recovery replays the WAL
    assert ingest.wait(timeout=120) != 0, "the ingest must fail when its database goes away"
    cluster.start()

    stored = _scalar(
        url, "SELECT COUNT(*) FROM shipments_shipment WHERE ingest_run_id = %s", [run_id]
    )
    counted = _scalar(url, "SELECT accepted FROM evidence_ingestrun WHERE id = %s", [run_id])
    assert stored == counted >= accepted, "progress counts commit with their batch"
    assert stored % BATCH == 0 and 0 < stored < made["valid_lines"], "whole batches only"
    totals = _scalar(url, "SELECT COALESCE(SUM(shipments), 0) FROM shipments_shipmenttotal")
    assert totals == stored, "the totals hold exactly the committed batches"

    # The redelivered task: the same run executed again completes to the exact total.
    rerun = _manage(
        env,
        "shell",
        "-c",
        "from apps.evidence.services import ingest_run_execute; "
        f"ingest_run_execute(run_id={run_id})",
    )
    assert rerun.wait(timeout=600) == 0, rerun.stdout.read()
    assert (
        _scalar(url, "SELECT status FROM evidence_ingestrun WHERE id = %s", [run_id]) == "done"
    ), _scalar(url, "SELECT failure FROM evidence_ingestrun WHERE id = %s", [run_id])
    assert (
        _scalar(url, "SELECT COUNT(*) FROM shipments_shipment WHERE ingest_run_id = %s", [run_id])
        == made["valid_lines"]
    )
    duplicated = _scalar(
        url,
        "SELECT COUNT(*) FROM (SELECT declaration_id, line FROM shipments_shipment "
        "GROUP BY 1, 2 HAVING COUNT(*) > 1) d",
    )
    assert duplicated == 0
    totals = _scalar(url, "SELECT SUM(shipments) FROM shipments_shipmenttotal")
    assert totals == made["valid_lines"]
