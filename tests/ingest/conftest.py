"""Paths of the real files the reader tests use."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULTS_NAME = "cbam_default_values_IR2025-2621_by_country.csv"
DEFAULTS_CANDIDATES = [
    ROOT / "fixtures" / "cbam" / DEFAULTS_NAME,  # the project's copy, preferred
    SHARED_DATA / "cbam" / DEFAULTS_NAME,
]
TRADE = ROOT / "fixtures" / "trade"
COMEXT_EXTRACT = TRADE / "eurostat_comext_ds045409_us_eu27_monthly.csv"
COMEXT_WIDE = SHARED_DATA / "trade_comext" / "comext_us_to_eu27_cbam_trade_by_month.csv"


@pytest.fixture(scope="session")
def defaults_csv() -> Path:
    """The IR 2025/2621 default-value table: the fixtures copy, else the shared data."""
    for path in DEFAULTS_CANDIDATES:
        if path.is_file():
            return path
    service_missing(
        f"default-value table not found at {' or '.join(map(str, DEFAULTS_CANDIDATES))}"
    )


def _load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generator():
    """fixtures/trade/generate_declarations.py as a module."""
    return _load_module("generate_declarations", TRADE / "generate_declarations.py")


@pytest.fixture(scope="session")
def comext_script():
    """fixtures/trade/make_comext_extract.py as a module."""
    return _load_module("make_comext_extract", TRADE / "make_comext_extract.py")
