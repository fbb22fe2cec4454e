"""Each test starts with no cached coverage plans in memory (those in the database go with
the test's data)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_plan_cache(settings, tmp_path):
    from apps.satellite import services

    settings.VAR_DIR = tmp_path / "var"
    services._plans.clear()
    yield
    services._plans.clear()
