"""A PostgreSQL primary and its streaming replica, on this machine, for one test module.

``initdb`` makes the primary in a temporary folder (trust authentication, loopback only,
its own free port), ``pg_basebackup -R`` copies it into a standby that streams from it on
a second free port. The system cluster is never used: its ``pg_hba.conf`` allows no
replication, and other tests share it. As root, the server tools run as ``postgres``
(PostgreSQL refuses to run as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.conftest import postgres_binary as _bin


def _as_postgres(args: list[str]) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReplicaPair:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are private to root.
        self.folder = Path(tempfile.mkdtemp(prefix="cm-replica-"))
        os.chmod(self.folder, 0o755)  # noqa: S103 (the server's user must enter it)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.primary_port, self.replica_port = _free_port(), _free_port()
        self.primary_data, self.replica_data = self.folder / "primary", self.folder / "replica"

    def _start(self, data: Path, port: int) -> None:
        options = (
            f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on"
            " -c wal_receiver_status_interval=1s"
        )
        log = self.folder / f"{data.name}.log"
        _as_postgres(
            [_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
        )

    def start(self, database: str) -> ReplicaPair:
        initdb = (_bin("initdb"), "-D", str(self.primary_data), "-U", "postgres")
        _as_postgres([*initdb, "-A", "trust", "-E", "UTF8", "--no-sync"])
        self._start(self.primary_data, self.primary_port)
        with self.connect("primary", "postgres") as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        source = (_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port))
        _as_postgres(
            [
                *source,
                "-U",
                "postgres",
                "-D",
                str(self.replica_data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        self._start(self.replica_data, self.replica_port)
        self.database = database
        self.wait_caught_up()
        return self

    def port(self, which: str) -> int:
        return self.primary_port if which == "primary" else self.replica_port

    def connect(self, which: str, database: str | None = None) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port(which),
            user="postgres",
            dbname=database or self.database,
            autocommit=True,
            connect_timeout=5,
        )

    def scalar(self, which: str, sql: str, params=()):
        with self.connect(which) as conn:
            return conn.execute(sql, params).fetchone()[0]

    def settings_dict(self, which: str) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.database,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": str(self.port(which)),
        }

    def pause_replay(self) -> None:
        self.scalar("replica", "SELECT pg_wal_replay_pause()::text")
        deadline = time.monotonic() + 30
        while self.scalar("replica", "SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.02)

    def resume_replay(self) -> None:
        self.scalar("replica", "SELECT pg_wal_replay_resume()::text")
        self.wait_caught_up()

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until the replica has replayed everything the primary had written on the call."""
        target = self.scalar("primary", "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while True:
            try:
                behind = self.scalar(
                    "replica",
                    "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())",
                    (target,),
                )
                if behind is not None and behind <= 0:
                    return
            except psycopg.OperationalError:
                pass  # the replica is still starting
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    def stop_replica(self) -> None:
        """As a crash: no shutdown checkpoint, connections cut."""
        _as_postgres([_bin("pg_ctl"), "-D", str(self.replica_data), "-m", "immediate", "stop"])

    def stop(self) -> None:
        for data in (self.replica_data, self.primary_data):
            if (data / "postmaster.pid").exists():
                try:
                    _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
                except subprocess.CalledProcessError:
                    pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)
