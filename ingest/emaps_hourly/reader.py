"""Reader for Electricity Maps hourly carbon-intensity exports (CSV).

Electricity Maps publishes one row per zone and hour (https://www.electricitymaps.com/data-portal)::

    Datetime (UTC),Country,Zone name,Zone id,Carbon intensity gCO₂eq/kWh (direct),
    Carbon intensity gCO₂eq/kWh (Life cycle),Carbon-free energy percentage (CFE%),
    Renewable energy percentage (RE%),Data source,Data estimated,Data estimation method

The headers hold a subscript two (``₂``, U+2082); they are matched through
:data:`COLUMN_ALIASES` after folding (``CO₂`` and ``CO2`` are the same). Times are UTC.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import RowError
from ingest.tabular import (
    column_text,
    load_table,
    parse_numbers,
    require_columns,
    row_errors,
)

SOURCE = "grid"

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "time_utc": ("Datetime (UTC)", "datetime", "time_utc"),
    "country": ("Country",),
    "zone_name": ("Zone name",),
    "zone": ("Zone id", "zone_id", "zone"),
    "direct_g_per_kwh": (
        "Carbon intensity gCO2eq/kWh (direct)",
        "Carbon Intensity gCO2eq/kWh (direct)",
        "direct_g_per_kwh",
    ),
    "lifecycle_g_per_kwh": (
        "Carbon intensity gCO2eq/kWh (Life cycle)",
        "Carbon Intensity gCO2eq/kWh (LCA)",
        "lifecycle_g_per_kwh",
    ),
    "cfe_percent": ("Carbon-free energy percentage (CFE%)", "cfe_percent"),
    "re_percent": ("Renewable energy percentage (RE%)", "re_percent"),
    "data_source": ("Data source", "data_source"),
    "estimated": ("Data estimated", "estimated"),
    "estimation_method": ("Data estimation method", "estimation_method"),
}
REQUIRED = ("time_utc", "zone", "direct_g_per_kwh", "lifecycle_g_per_kwh")
COLUMNS = [
    "zone",
    "zone_name",
    "country",
    "time_utc",
    "direct_g_per_kwh",
    "lifecycle_g_per_kwh",
    "cfe_percent",
    "re_percent",
    "data_source",
    "estimated",
    "estimation_method",
    "source_line",
]
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "": False}


def _fold_header(name: str) -> str:
    """``gCO₂eq`` → ``gCO2eq`` (NFKC turns subscript digits into digits)."""
    return unicodedata.normalize("NFKC", name)


def read_emaps_hourly(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read an Electricity Maps hourly export.

    ``data`` has :data:`COLUMNS`: ``zone`` (zone id, e.g. "PT"), ``zone_name``,
    ``country``; ``time_utc`` datetime64[ns, UTC] (start of the hour);
    ``direct_g_per_kwh`` and ``lifecycle_g_per_kwh`` float64 [gCO2eq/kWh];
    ``cfe_percent`` and ``re_percent`` float64 [%] (NaN if absent); ``data_source``;
    ``estimated`` bool; ``estimation_method`` ("" when measured); ``source_line``.
    A row with an unreadable time or intensity, or a negative intensity, gives a
    :class:`RowError`; a (zone, hour) seen before is rejected as a duplicate.
    """
    table = load_table(path)
    headers = [_fold_header(h) for h in table.headers]
    columns, ignored = require_columns(path, table, COLUMN_ALIASES, REQUIRED, headers=headers)
    cells, lines = table.frame, table.lines
    n = len(cells)
    text = column_text(table, columns)

    errors: list[RowError] = list(table.errors)
    reject = np.zeros(n, dtype=bool)

    def check(mask: np.ndarray, name: str, values: pd.Series, reason) -> None:
        errors.extend(row_errors(mask, lines, values, name, reason))
        reject[mask] = True

    data = pd.DataFrame(index=cells.index)
    data["zone"] = text("zone")
    check((data["zone"] == "").to_numpy(), "zone", data["zone"], "zone id is empty")
    data["zone_name"] = text("zone_name")
    data["country"] = text("country")
    when = text("time_utc")
    stamps = pd.to_datetime(when, format="ISO8601", errors="coerce", utc=True)
    check(stamps.isna().to_numpy(), "time_utc", when, lambda v: f"'{v}' is not a date-time")
    data["time_utc"] = stamps.astype("datetime64[ns, UTC]")
    for name in ("direct_g_per_kwh", "lifecycle_g_per_kwh", "cfe_percent", "re_percent"):
        values = text(name)
        number, empty, bad = parse_numbers(values, "point")
        if name in REQUIRED:
            check(empty, name, values, "intensity is empty")
            check(number < 0, name, values, "intensity must be >= 0")
        check(bad, name, values, lambda v: f"'{v}' is not a number")
        data[name] = number
    data["data_source"] = text("data_source")
    flag = text("estimated").str.lower()
    known = flag.isin(list(_BOOLEANS)).to_numpy()
    check(~known, "estimated", flag, lambda v: f"'{v}' is not true or false")
    data["estimated"] = flag.map(_BOOLEANS).fillna(False).astype(bool)
    data["estimation_method"] = text("estimation_method")
    data["source_line"] = lines.astype(np.int64)

    key = data["zone"] + "|" + data["time_utc"].astype(str)
    repeat = key.duplicated().to_numpy() & ~reject
    check(repeat, "time_utc", when, "duplicate: this zone and hour appear on an earlier line")

    data = data.loc[~reject, COLUMNS].reset_index(drop=True)
    errors.sort(key=lambda e: e.line or 0)
    rows_read = n + len(table.errors)
    meta = {
        "source": SOURCE,
        **table.meta,
        "columns": {name: table.headers[i] for name, i in columns.items()},
        "ignored_columns": ignored,
        "zones": sorted(data["zone"].unique().tolist()),
        "estimated_rows": int(data["estimated"].sum()),
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "errors": errors,
    }
    return data, meta
