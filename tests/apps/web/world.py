"""A small world for the web app's tests (also used by the browser tests)."""

from __future__ import annotations

from pathlib import Path

from tests.apps.helpers import DEFAULTS_CSV


def defaults_extract(path: Path) -> Path:
    """The rows of the real IR 2025/2621 table that the world's goods and origins use
    (China, India, Türkiye and "Other countries"; 7208, 7601, 2523): the same ingest, a
    tenth of the rows, so that each test sets up in a few seconds."""
    with open(DEFAULTS_CSV, newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    keep = [
        line
        for line in lines[1:]
        if line.split(",")[0] in {"China", "India", "Turkey", "Türkiye"}
        or line.startswith("_Other")
    ]
    path.write_text("\n".join([lines[0], *keep]) + "\n", encoding="utf-8")
    return path
