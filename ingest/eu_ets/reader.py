"""Readers of the European Union Transaction Log's public tables in the euets.info layout
(docs/modelled.md: the modelled rung is measured against them).

- :func:`read_eutl_installations` — ``installation.csv``: ``id, name, addressmain,
  postalcode, city, country_id, latitudegoogle, longitudegoogle``.  A name of ``-`` or
  empty is "no name"; missing or out-of-range coordinates are kept as NaN (the point is a
  geocoded address, sometimes the operator's seat).
- :func:`read_eutl_compliance` — ``compliance.csv``: ``installation_id, year, free,
  emission`` [tCO2e verified].  A row without a numeric emission is a row error; the
  emission is kept as published (0 for a year without activity).

Pure and offline (ingest/base.py).  Data © European Union (Commission Decision
2011/833/EU); attribution of the fixture copy in fixtures/eu_ets/README.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import RowError, UnreadableFile

INSTALLATION_COLUMNS = ["id", "name", "city", "country", "latitude", "longitude", "source_line"]
COMPLIANCE_COLUMNS = ["installation_id", "year", "emission_t", "source_line"]


def _csv(path: str | Path, required: list[str]) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnreadableFile(path, f"not a UTF-8 CSV ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UnreadableFile(path, f"missing column(s) {', '.join(missing)}")
    frame["source_line"] = np.arange(2, len(frame) + 2)
    return frame


def read_eutl_installations(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """EUTL installations: ``id``, ``name`` ("" for none), ``city``, ``country`` (ISO2),
    ``latitude``/``longitude`` [degrees, NaN when absent or out of range]."""
    raw = _csv(path, ["id", "name", "city", "country_id", "latitudegoogle", "longitudegoogle"])
    lat = pd.to_numeric(raw["latitudegoogle"], errors="coerce")
    lon = pd.to_numeric(raw["longitudegoogle"], errors="coerce")
    bad = ~(lat.between(-90, 90) & lon.between(-180, 180))
    data = pd.DataFrame(
        {
            "id": raw["id"].str.strip(),
            "name": raw["name"].str.strip().replace({"-": ""}),
            "city": raw["city"].str.strip().replace({"-": ""}),
            "country": raw["country_id"].str.strip().str.upper(),
            "latitude": lat.where(~bad),
            "longitude": lon.where(~bad),
            "source_line": raw["source_line"],
        }
    )[INSTALLATION_COLUMNS]
    meta = {
        "source": "eu_ets_installations",
        "path": str(path),
        "format": "csv",
        "rows_read": len(raw),
        "rows_accepted": len(data),
        "rows_rejected": 0,
        "errors": [],
    }
    return data, meta


def read_eutl_compliance(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """EUTL verified emissions: ``installation_id``, ``year`` (int), ``emission_t``
    [tCO2e]; rows without a numeric year or emission are row errors."""
    raw = _csv(path, ["installation_id", "year", "emission"])
    year = pd.to_numeric(raw["year"], errors="coerce")
    emission = pd.to_numeric(raw["emission"], errors="coerce")
    ok = year.notna() & emission.notna() & (emission >= 0)
    errors = [
        RowError(int(line), "emission" if pd.notna(y) else "year", str(v), "not a number ≥ 0")
        for line, y, v in zip(
            raw.loc[~ok, "source_line"], year[~ok], raw.loc[~ok, "emission"], strict=True
        )
    ]
    data = pd.DataFrame(
        {
            "installation_id": raw.loc[ok, "installation_id"].str.strip(),
            "year": year[ok].astype("int64"),
            "emission_t": emission[ok].astype(float),
            "source_line": raw.loc[ok, "source_line"],
        }
    )[COMPLIANCE_COLUMNS]
    meta = {
        "source": "eu_ets_compliance",
        "path": str(path),
        "format": "csv",
        "rows_read": len(raw),
        "rows_accepted": len(data),
        "rows_rejected": len(raw) - len(data),
        "errors": errors,
    }
    return data, meta
