"""The site's WSGI application, answering with the server's own CPU time per request.

``X-Server-CPU-ms`` is the CPU time of the worker thread from the request's arrival to the
start of its response: a figure that other processes competing for the CPUs do not
inflate, unlike the wall clock (benchmarks/web.py prints both).
"""

from __future__ import annotations

import time

from config.wsgi import application as site


def application(environ, start_response):
    started = time.thread_time()

    def start(status, headers, exc_info=None):
        cpu = (time.thread_time() - started) * 1000
        return start_response(status, [*headers, ("X-Server-CPU-ms", f"{cpu:.2f}")], exc_info)

    return site(environ, start)
