"""Grid tests: each test gets its own hourly-intensity store (``settings.VAR_DIR``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[3]
GRID = ROOT / "fixtures" / "grid"
FACTORS_CSV = GRID / "electricitymaps" / "emission_factors_flat.csv"
PT_WEEK = GRID / "electricitymaps" / "PT_2024_hourly_first_week.csv"
EMBER = GRID / "co2js" / "average-intensities.json"
IFI = GRID / "co2js" / "IFI_Default_Grid_Factors_2021_v3.1_unfccc.csv"
ENTSOE = GRID / "entsoe"

HEADER = (
    "Datetime (UTC),Country,Zone name,Zone id,Carbon intensity gCO₂eq/kWh (direct),"
    "Carbon intensity gCO₂eq/kWh (Life cycle),Carbon-free energy percentage (CFE%),"
    "Renewable energy percentage (RE%),Data source,Data estimated,Data estimation method"
)


@pytest.fixture(autouse=True)
def _grid_store_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()


def ingest(source: str, path: Path) -> dict:
    """Run ``manage.py ingest SOURCE PATH --json``; the summary, with ``exit`` (0 or 1)."""
    out = io.StringIO()
    code = 0
    try:
        call_command("ingest", source, str(path), "--json", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = int(exc.code or 0)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    summary["exit"] = code
    return summary


def hourly_csv(path: Path, zone: str, rows: list[tuple[str, float, float]], source="test") -> Path:
    """An Electricity Maps hourly export: rows of (time 'YYYY-MM-DD HH:00', direct,
    life cycle)."""
    lines = [HEADER] + [
        f"{t}:00,Testland,{zone} test,{zone},{d},{lc},50,50,{source},false," for t, d, lc in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def load(db, django_capture_on_commit_callbacks):
    """Ingest a file through the same service and task as the command, inside the test's
    transaction (on PostgreSQL or SQLite; faster than ``postgres_tx``): the run's on-commit
    task is executed when it is captured. Returns the finished run."""
    from apps.evidence.models import IngestRun
    from apps.evidence.services import evidence_store_path, ingest_run_create

    def run(source: str, path: Path) -> IngestRun:
        evidence = evidence_store_path(path=path)
        with django_capture_on_commit_callbacks(execute=True):
            created = ingest_run_create(source=source, evidence=evidence, original_name=path.name)
        created.refresh_from_db()
        assert created.status == IngestRun.Status.DONE, created.failure
        return created

    return run
