"""Ingest of one large customs file by workers on several hosts (issue #21 §3).

The hosts are Linux network namespaces made on this machine (needs root): ``db`` runs a
PostgreSQL cluster of its own and ``redis-server``; ``w1`` and ``w2`` each run one Celery
worker of the project's virtualenv, reaching the database and the broker only over their
own virtual Ethernet link, with a var directory of their own (nothing on disk is shared).
The test process reaches ``db`` over a third link. Everything is removed on exit.

Prints the ingest rate of one file with one worker host, then with two, and the ratio:

    sudo .venv/bin/python benchmarks/multihost_ingest.py       # BENCH_LINES=200000

The same machinery drives tests/apps/evidence/test_multihost.py, which also kills one
host mid-ingest (docs/operations-workers.md, "Several hosts").
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULTS_CSV = ROOT / "fixtures" / "cbam" / "cbam_default_values_IR2025-2621_by_country.csv"
HEADER = (
    "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,"
    "net_mass_kg,statistical_value_eur,procedure,installation_id\n"
)


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1].parent


def _run(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True, **kwargs)


def write_customs(path: Path, n: int, prefix: str, seed: int = 5) -> float:
    """``n`` declaration lines (4 per declaration) of CBAM goods from countries with
    default values; returns the total net mass in tonnes (as the reader computes it)."""
    rng = np.random.default_rng(seed)
    cn = np.array(["72081000", "72085120", "72104900", "76011010", "73089098", "25232900"])
    origins = np.array(["CN", "IN", "TR", "UA", "BR", "ZA", "EG"])
    decl = np.arange(n) // 4
    line = np.arange(n) % 4 + 1
    dates = (np.datetime64("2026-01-01") + rng.integers(0, 365, n)).astype(str)
    mass_kg = rng.integers(100, 2_000_000, n)
    ci = rng.integers(0, len(cn), n)
    oi = rng.integers(0, len(origins), n)
    exporter = rng.integers(0, 300, n)
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.writelines(
            f"{prefix}{d:08d},{ln},{dt},{cn[c]},{origins[o]},Exporter {e},Importer,{m},,4000,\n"
            for d, ln, dt, c, o, e, m in zip(
                decl, line, dates, ci, oi, exporter, mass_kg, strict=True
            )
        )
    return float(mass_kg.sum()) / 1000.0


class Hosts:
    """Three namespaces (``db``, ``w1``, ``w2``), PostgreSQL and Redis on ``db``; workers
    started and killed on demand. Use as a context manager: everything is removed on exit,
    whatever happened."""

    def __init__(self, *, chunk_lines: int, visibility_timeout_s: int = 6) -> None:
        tag = os.getpid() % 10_000
        self.subnet = 100 + os.getpid() % 100  # 10.<subnet>.<link>.<host>
        self.ns = {h: f"cm{tag}{h}" for h in ("db", "w1", "w2")}
        self.links = {"root": 0, "w1": 1, "w2": 2}
        self.tmp = Path(tempfile.mkdtemp(prefix="cm-multihost-"))
        self.chunk_lines = chunk_lines
        self.visibility_timeout_s = visibility_timeout_s
        self.workers: dict[str, subprocess.Popen] = {}
        self.redis: subprocess.Popen | None = None
        self.pgdata = self.tmp / "pgdata"
        self.tag = tag

    # addresses ---------------------------------------------------------------------
    def db_address(self, host: str) -> str:
        return f"10.{self.subnet}.{self.links[host]}.1"

    def env(self, host: str) -> dict[str, str]:
        """The environment of a process on ``host``: the database and the broker at the
        db host's address on that host's own link, and a var directory of its own."""
        address = self.db_address(host)
        var = self.tmp / f"var-{host}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CM_", "DATABASE_URL", "CELERY_", "PYTEST", "DJANGO_"))
        }
        env.update(
            DATABASE_URL=f"postgres://postgres@{address}:5432/cm",
            CELERY_BROKER_URL=f"redis://{address}:6379/0",
            CM_VAR_DIR=str(var),
            CM_MEDIA_ROOT=str(var / "media"),
            CM_EVIDENCE_STORE="postgres",
            CM_CUSTOMS_CHUNK_LINES=str(self.chunk_lines),
            CM_VISIBILITY_TIMEOUT_S=str(self.visibility_timeout_s),
            CM_UNACKED_RESTORE_INTERVAL_S="1",
            CM_AUDIT_SIGNING_KEY="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            PYTHONPATH=str(ROOT),
        )
        return env

    def dsn(self) -> str:
        return f"postgresql://postgres@{self.db_address('root')}:5432/cm"

    # set-up ------------------------------------------------------------------------
    def __enter__(self) -> Hosts:
        try:
            self._network()
            self._postgres()
            self._redis()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _netns(self, host: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[host], *args]

    def _network(self) -> None:
        for name in self.ns.values():
            _run("ip", "netns", "add", name)
            _run("ip", "-n", name, "link", "set", "lo", "up")
        for host, link in self.links.items():
            a, b = f"cm{self.tag}d{link}", f"cm{self.tag}h{link}"
            _run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            _run("ip", "link", "set", a, "netns", self.ns["db"])
            if host != "root":
                _run("ip", "link", "set", b, "netns", self.ns[host])
            _run(
                "ip", "-n", self.ns["db"], "addr", "add", f"10.{self.subnet}.{link}.1/24", "dev", a
            )
            _run("ip", "-n", self.ns["db"], "link", "set", a, "up")
            prefix = [] if host == "root" else ["-n", self.ns[host]]
            _run("ip", *prefix, "addr", "add", f"10.{self.subnet}.{link}.2/24", "dev", b)
            _run("ip", *prefix, "link", "set", b, "up")

    def _postgres(self) -> None:
        pg = _pg_bin()
        self.pgdata.mkdir()
        shutil.chown(self.tmp, "postgres")
        shutil.chown(self.pgdata, "postgres")
        _run(
            "runuser", "-u", "postgres", "--", str(pg / "initdb"), "-D", str(self.pgdata),
            "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        with open(self.pgdata / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all 10.{self.subnet}.0.0/16 trust\n")
        listen = ",".join(self.db_address(h) for h in self.links)
        options = (
            f"-c listen_addresses={listen} -c port=5432 -c unix_socket_directories={self.pgdata} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100 -c shared_buffers=128MB"
        )
        _run(
            *self._netns(
                "db", "runuser", "-u", "postgres", "--", str(pg / "pg_ctl"), "-D",
                str(self.pgdata), "-o", options, "-l", str(self.pgdata / "log"), "-w", "start",
            )
        )  # fmt: skip
        with psycopg.connect(self.dsn().rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE cm")

    def _redis(self) -> None:
        binds = [self.db_address(h) for h in self.links]
        self.redis = subprocess.Popen(
            self._netns(
                "db", "redis-server", "--bind", *binds, "--port", "6379", "--save", "",
                "--appendonly", "no", "--protected-mode", "no",
            ),
            stdout=open(self.tmp / "redis.log", "w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            probe = _run("redis-cli", "-h", self.db_address("root"), "ping", check=False, timeout=5)
            if probe.stdout.strip() == "PONG":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {probe.stderr}")
            time.sleep(0.1)

    def prepare(self) -> None:
        """The schema, and the CBAM default values every line's estimate needs (one
        process, in-process tasks: the defaults are small)."""
        env = self.env("root")
        env.pop("CELERY_BROKER_URL")
        script = (
            "from django.core.management import call_command; "
            "call_command('migrate', verbosity=0); "
            f"call_command('ingest', 'defaults', {str(DEFAULTS_CSV)!r}, '--json')"
        )
        done = _run(
            PYTHON, str(ROOT / "manage.py"), "shell", "-c", script,
            env=env, cwd=ROOT, check=False, timeout=600,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"migrate and ingest defaults: {done.stdout}\n{done.stderr}")

    # workers -----------------------------------------------------------------------
    def start_worker(self, host: str) -> None:
        log = open(self.tmp / f"worker-{host}.log", "w")
        self.workers[host] = subprocess.Popen(
            self._netns(
                host, PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
                "--concurrency=1", "-Q", "carbon-manifest", "-n", f"{host}@{self.ns[host]}",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel=INFO",
            ),
            env=self.env(host), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_workers_ready(self, hosts: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for host in hosts:
            path = self.tmp / f"worker-{host}.log"
            while "ready." not in path.read_text():
                if self.workers[host].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker on {host} did not start:\n{path.read_text()}")
                time.sleep(0.2)

    def kill_host(self, host: str) -> list[int]:
        """SIGKILL every process of ``host`` at once, as a machine losing power would."""
        pids = [int(p) for p in _run("ip", "netns", "pids", self.ns[host]).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if host in self.workers:
            self.workers.pop(host).wait(timeout=10)
        return pids

    def worker_log(self, host: str) -> str:
        path = self.tmp / f"worker-{host}.log"
        return path.read_text() if path.exists() else ""

    # clean-up ----------------------------------------------------------------------
    def close(self) -> None:
        for host in list(self.ns):
            if host != "db":
                try:
                    self.kill_host(host)
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    pass
        if self.redis is not None:
            self.redis.kill()
            self.redis.wait(timeout=10)
        if (self.pgdata / "postmaster.pid").exists():
            _run(
                *self._netns(
                    "db", "runuser", "-u", "postgres", "--", str(_pg_bin() / "pg_ctl"), "-D",
                    str(self.pgdata), "-m", "immediate", "stop",
                ),
                check=False,
            )  # fmt: skip
        try:
            self.kill_host("db")
        except subprocess.CalledProcessError:
            pass
        for name in self.ns.values():
            _run("ip", "netns", "del", name, check=False)
        for link in self.links.values():  # the root end, if its namespace did not take it
            _run("ip", "link", "del", f"cm{self.tag}h{link}", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def submit(hosts: Hosts, path: Path) -> subprocess.Popen:
    """``manage.py ingest customs PATH --json`` from the root namespace, in the background:
    it stores the file in the database and enqueues the run, then waits for it."""
    return subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "ingest", "customs", str(path), "--json"],
        env=hosts.env("root"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def run_of(conn: psycopg.Connection, name: str, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT id FROM evidence_ingestrun WHERE original_name = %s", [name]
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    raise RuntimeError(f"no run for {name}")


def wait_done(conn: psycopg.Connection, run_id: int, timeout: float = 300) -> tuple[str, float]:
    """(status, seconds from the run's creation to its end) once the run has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, seconds = conn.execute(
            "SELECT status, EXTRACT(EPOCH FROM finished_at - created_at) "
            "FROM evidence_ingestrun WHERE id = %s",
            [run_id],
        ).fetchone()
        if status in ("done", "failed"):
            return status, float(seconds)
        time.sleep(0.2)
    raise RuntimeError(f"run {run_id} did not end within {timeout} s")


def rate(hosts: Hosts, conn: psycopg.Connection, lines: int, name: str, prefix: str) -> float:
    """Rows per second of one file's ingest, from its run's creation to its end."""
    path = hosts.tmp / name
    write_customs(path, lines, prefix)
    proc = submit(hosts, path)
    run_id = run_of(conn, name)
    status, seconds = wait_done(conn, run_id)
    proc.communicate(timeout=120)
    if status != "done":
        raise RuntimeError(f"run {run_id} {status}")
    return lines / seconds


def main() -> None:
    lines = int(os.environ.get("BENCH_LINES", "200000"))
    chunk = int(os.environ.get("BENCH_CHUNK_LINES", "20000"))
    with Hosts(chunk_lines=chunk) as hosts:
        hosts.start_worker("w1")  # it starts while the schema is made: it only consumes
        hosts.prepare()
        with psycopg.connect(hosts.dsn(), autocommit=True) as conn:
            hosts.wait_workers_ready(["w1"])
            one = rate(hosts, conn, lines, "one-host.csv", "A")
            hosts.start_worker("w2")
            hosts.wait_workers_ready(["w2"])
            two = rate(hosts, conn, lines, "two-hosts.csv", "B")
    print(f"{lines:,} lines in chunks of {chunk:,}, one worker process per host")
    print(f"one worker host:  {one:,.0f} rows/s")
    print(f"two worker hosts: {two:,.0f} rows/s")
    print(f"ratio: {two / one:.2f}")


if __name__ == "__main__":
    main()
