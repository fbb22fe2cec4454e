"""The order tests are handed to the xdist workers (docs/testing.md, "Waiting tests spread
out").

pytest-django sorts the collection into three runs: database tests, then transactional
ones, then tests that use no database. The transactional run holds the tests that wait
(a real Celery worker, a broker or database stopped and restarted, a visibility timeout,
a second host), and the workers took them one after the other: for minutes all three
waited at once while the two cores idled. Here, after pytest-django's sort, the tests that
use no database (the engine and the readers: CPU work) are spread evenly among the
transactional ones, so a worker that waits leaves the cores to the others. Database tests
stay first (pytest-django's reason for its order holds: a transactional test empties the
tables), each run keeps its own order, and the browser tests stay last.
"""

from __future__ import annotations

import pytest


def _django_order(item: pytest.Item) -> int:
    """pytest-django's own classification (``pytest_django.plugin``): 0 database,
    1 transactional, 2 no database."""
    fixtures = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    transactional = bool(
        marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    )
    transactional = transactional or "transactional_db" in fixtures or "live_server" in fixtures
    if transactional:
        return 1
    return 0 if marker or "db" in fixtures else 2


def spread(first: list, second: list) -> list:
    """``first`` and ``second`` merged, each in its own order, ``second`` spread evenly."""
    if not first or not second:
        return first + second
    merged, i, j = [], 0, 0
    while i < len(first) or j < len(second):
        # take from ``first`` while it is ahead of ``second`` in proportion
        if j >= len(second) or (i < len(first) and i * len(second) <= j * len(first)):
            merged.append(first[i])
            i += 1
        else:
            merged.append(second[j])
            j += 1
    return merged


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The browser tests were moved to the end (tests/browser/conftest.py): they stay there.
    tail = len(items)
    while tail and items[tail - 1].nodeid.startswith("tests/browser/"):
        tail -= 1
    head, browser = items[:tail], items[tail:]
    runs: dict[int, list] = {0: [], 1: [], 2: []}
    for item in head:
        runs[_django_order(item)].append(item)
    if [item for run in (0, 1, 2) for item in runs[run]] != head:
        return  # not pytest-django's order (it was not loaded, or sorted otherwise): leave it
    items[:] = runs[0] + spread(runs[1], runs[2]) + browser
