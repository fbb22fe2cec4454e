"""Grid ingests executed by a real Celery worker on Redis: the worker writes the store
files, this process reads them back lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from apps.grid.models import IntensitySeries
from apps.grid.selectors import intensity_slice
from tests.apps.grid.conftest import ENTSOE, FACTORS_CSV, ROOT

pytestmark = [pytest.mark.services, pytest.mark.worker]


def manage(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_ingests_factors_and_entsoe_into_the_store(
    celery_worker_process, service_env, settings, tmp_path
):
    # The worker's CM_VAR_DIR (service_env) is this test's store.
    assert str(settings.VAR_DIR) == service_env["CM_VAR_DIR"]
    lines = FACTORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    subset = tmp_path / "factors.csv"
    subset.write_text(
        lines[0] + "".join(x for x in lines[1:] if x.startswith(("FI,", "_DEFAULT,"))),
        encoding="utf-8",
    )
    factors = manage(service_env, "ingest", "factors", str(subset), "--json", "--timeout", "240")
    assert factors["accepted"] > 0 and factors["rejected"] == 0
    fi = manage(
        service_env,
        "ingest",
        "grid",
        str(ENTSOE / "FI_production.xml"),
        "--json",
        "--timeout",
        "240",
    )
    assert (fi["accepted"], fi["rejected"]) == (72, 0)
    series = IntensitySeries.objects.get(zone__key="FI", year=2025)
    assert (series.hours, series.computed) == (72, 72)
    assert (settings.VAR_DIR / "grid" / series.path).is_file()
    frame = intensity_slice(
        zone="FI", start=series.first_hour, end=series.last_hour.replace(minute=59)
    )
    assert len(frame) == 72 and (frame["provenance"] == "computed").all()
    log = celery_worker_process.log.read_text()
    assert log.count("evidence.ingest_run_execute") >= 2 and "succeeded" in log
