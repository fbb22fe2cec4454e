"""The load suite's marker (``-m load`` selects it, ``-m "not load"`` leaves it out)."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "load: a bounded load test (gunicorn, a Celery worker and locust as separate processes)",
    )
