"""Reader for aggregate trade statistics: tonnes and value by CN code × partner × month.

These are statistics (e.g. Eurostat Comext DS-045409), not declarations: they are stored
apart from shipments and never estimated line by line. The long layout is
``cn_code, period (YYYY-MM), tonnes, value_eur, reporter, partner, flow`` — what
``fixtures/trade/make_comext_extract.py`` writes; headers are matched through
:data:`COLUMN_ALIASES`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import RowError
from ingest.cn import cn_problem, normalise_cn_series
from ingest.countries import to_iso2
from ingest.tabular import (
    column_text,
    load_table,
    match_columns,
    parse_numbers,
    require_columns,
    row_errors,
)

SOURCE = "trade_stats"
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "cn_code": ("cn_code", "cn", "product", "cn8"),
    "period": ("period", "month", "time_period"),
    "tonnes": ("tonnes", "quantity_tonnes", "net_mass_t"),
    "value_eur": ("value_eur", "value", "value_in_euros"),
    "reporter": ("reporter", "declarant"),
    "partner": ("partner", "origin", "country of origin"),
    "flow": ("flow",),
}
REQUIRED = ("cn_code", "period", "tonnes", "partner")
COLUMNS = ["reporter", "origin", "cn_code", "month", "flow", "tonnes", "value_eur", "source_line"]


def is_trade_stats(headers: list[str]) -> bool:
    """Whether a header row is the aggregate layout (a period and tonnes, no declaration)."""
    columns, _ = match_columns("", headers, COLUMN_ALIASES)
    return {"cn_code", "period", "tonnes"} <= set(columns)


def _month(text: str) -> date | None:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def read_trade_stats(path: str | Path) -> tuple[pd.DataFrame, dict]:
    table = load_table(path)
    columns, ignored = require_columns(path, table, COLUMN_ALIASES, REQUIRED)
    lines = table.lines
    text = column_text(table, columns)

    errors: list[RowError] = list(table.errors)
    bad = np.zeros(len(table.frame), dtype=bool)

    raw_cn = text("cn_code")
    cn, valid = normalise_cn_series(raw_cn)
    flag = ~valid.to_numpy()
    errors += row_errors(flag, lines, raw_cn, "cn_code", cn_problem)
    bad |= flag

    raw_period = text("period")
    months = raw_period.map(_month)
    flag = months.isna().to_numpy()
    errors += row_errors(flag, lines, raw_period, "period", "period must be YYYY-MM")
    bad |= flag

    raw_partner = text("partner")
    origin = raw_partner.map(lambda v: to_iso2(v) or "")
    flag = (origin == "").to_numpy()
    errors += row_errors(flag, lines, raw_partner, "partner", lambda v: f"unknown country {v!r}")
    bad |= flag

    tonnes, empty, wrong = parse_numbers(text("tonnes"), "point")
    flag = empty | wrong | (tonnes < 0)
    errors += row_errors(flag, lines, text("tonnes"), "tonnes", "tonnes must be a number >= 0")
    bad |= flag
    value, _, wrong_value = parse_numbers(text("value_eur"), "point")
    errors += row_errors(wrong_value, lines, text("value_eur"), "value_eur", "not a number")
    bad |= wrong_value

    keep = ~bad
    data = pd.DataFrame(
        {
            "reporter": text("reporter").where(text("reporter") != "", "EU27_2020")[keep],
            "origin": origin[keep],
            "cn_code": cn[keep],
            "month": months[keep],
            "flow": text("flow").where(text("flow") != "", "import")[keep],
            "tonnes": tonnes[keep],
            "value_eur": value[keep],
            "source_line": lines[keep].astype("int64"),
        },
        columns=COLUMNS,
    ).reset_index(drop=True)
    errors.sort(key=lambda e: (e.line or 0, e.field))
    meta = {
        **table.meta,
        "source": SOURCE,
        "rows_read": len(table.frame),
        "rows_accepted": len(data),
        "rows_rejected": len({e.line for e in errors}),
        "errors": errors,
        "columns": {f: table.headers[i] for f, i in columns.items()},
        "ignored_columns": ignored,
    }
    return data, meta
