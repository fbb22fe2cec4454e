"""Gunicorn settings for production: ``gunicorn config.wsgi -c config/gunicorn.conf.py``.

Every value can be changed by the environment (below) or on the command line (which wins
over this file). Run it behind a reverse proxy that terminates TLS and buffers slow
clients (nginx, Caddy); the sync workers then never wait on a client's network.

| variable | default | |
|---|---|---|
| ``GUNICORN_BIND`` | ``127.0.0.1:8000`` | address(es) to listen on, comma-separated |
| ``WEB_CONCURRENCY`` | 2 × CPUs + 1 | worker processes (CPUs this process may use) |
| ``GUNICORN_THREADS`` | 1 | threads per worker (> 1 selects the ``gthread`` worker) |
| ``GUNICORN_TIMEOUT`` | 120 | seconds a request may take before its worker is restarted |
| ``GUNICORN_MAX_REQUESTS`` | 2000 | requests after which a worker is replaced (0: never) |
| ``GUNICORN_ACCESS_LOG`` | ``-`` (stdout) | access log file, ``-`` for stdout, empty for none |
| ``LOG_LEVEL`` | ``info`` | gunicorn's error log level (the error log goes to stderr) |
| ``GUNICORN_CONTROL_SOCKET`` | none | path of the control socket for ``gunicornc`` |
"""

from __future__ import annotations

import os


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < minimum:
        raise ValueError(f"{name}={raw}: must be at least {minimum}")
    return value


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs a container or taskset allows
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = [b.strip() for b in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
workers = _int("WEB_CONCURRENCY", 2 * _cpus() + 1, minimum=1)
threads = _int("GUNICORN_THREADS", 1, minimum=1)
worker_class = "gthread" if threads > 1 else "sync"

# A request that runs longer than this (a worker stuck on a query) is killed and its
# worker replaced. A sync worker reports alive only between requests, so this bounds the
# streamed exports too (traces.zip, a filter's CSV/XLSX): raise it if yours take longer.
timeout = _int("GUNICORN_TIMEOUT", 120, minimum=1)
graceful_timeout = 30  # on SIGTERM, requests in flight get this long to finish
keepalive = 5  # seconds; gthread workers only (a sync worker closes each connection)

# Replace each worker after a number of requests (jittered, so they do not all restart at
# once): bounds the memory any slow leak (caches, fragmentation) can take.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# Load Django once in the master and fork the workers from it: faster start, shared
# memory pages. No database connection is opened at import, so none is shared.
preload_app = True


def when_ready(server) -> None:
    """Import the URLconf, and with it every view and its libraries (pandas, pyarrow,
    openpyxl: about 2 s of CPU), in the master before the workers are forked: otherwise
    each worker pays it on its first request, and all of them at once under load."""
    if not server.cfg.preload_app:
        return
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the import is the point)
    connections.close_all()  # never hand a connection opened here to the forks


# The heartbeat file on tmpfs (gunicorn's FAQ): a worker blocked on a slow disk is not
# mistaken for a hung one. Gunicorn makes its own unlinked file there.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# Logs to the standard streams (the process manager or container keeps them): the access
# log with the time each request took in microseconds (%(D)s).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'

# The control socket (gunicorn ≥ 25, for ``gunicornc``) defaults to one path per user
# ($HOME/.gunicorn/gunicorn.ctl), which a second instance on the host would take over: off,
# unless a path is given. Signals (HUP, TTIN, TTOU, TERM) do the same work.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# The proxy on this host sets X-Forwarded-Proto; trust it from there only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Request limits (gunicorn's defaults, written out): header and line sizes, header count.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
