"""A ``redis-server`` of one test alone, on a free loopback port, so that the broker other
tests share is never stopped (used by the broker-restart and lost-message tests)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """``persistent``: an append-only file in ``folder``, written at every command, so a
    restart keeps the queue (as a production broker is configured); else Redis keeps
    nothing on disk and a restart drops every queued message."""

    def __init__(self, folder: Path, *, persistent: bool) -> None:
        self.folder = folder
        self.persistent = persistent
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        durability = ("--appendonly", "yes", "--appendfsync", "always")
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
                "--save",
                "",
                *(durability if self.persistent else ("--appendonly", "no")),
                *("--protected-mode", "yes", "--daemonize", "no"),
            ],
            stdout=open(self.folder / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server not up: {(self.folder / 'redis.log').read_text()}")

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file (when it keeps one) and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def queued(self, queue: str) -> int:
        return redis.Redis.from_url(self.url).llen(queue)
