"""Reader for the CBAM default values of Commission Implementing Regulation (EU) 2025/2621,
Annex I, one row per (country, CN line), as CSV or XLSX.

The layout is that of the Commission's spreadsheet flattened to one table (see
shared/data/README.md §1a): ``country, sector, cn_code_as_published, cn_code_digits,
description, direct_tco2e_per_t, indirect_tco2e_per_t, total_tco2e_per_t,
dv_2026_incl_markup, dv_2027_incl_markup, dv_2028_onwards_incl_markup, indirect_applicable,
production_route_flag``.

Numbers must use a decimal point. A comma inside a number is rejected, never read as a
thousands separator: hand-pasted copies of the annex write ``1,320`` for 1.320, and storing
1320 would multiply a default value by a thousand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import MissingColumns, RowError
from ingest.cn import cn_problem, normalise_cn_series
from ingest.countries import OTHER_COUNTRIES, is_other_countries, to_iso2
from ingest.tabular import load_table, match_columns, row_errors

SOURCE = "defaults"

# Output field → header names accepted (the published names first, then our own).
VARIABLE_MAP: dict[str, tuple[str, ...]] = {
    "country": ("country",),
    "sector": ("sector",),
    "cn_code_as_published": ("cn_code_as_published", "cn code", "cn_code"),
    "cn_code_digits": ("cn_code_digits",),
    "description": ("description",),
    "direct_t_per_t": ("direct_tco2e_per_t", "direct_t_per_t"),
    "indirect_t_per_t": ("indirect_tco2e_per_t", "indirect_t_per_t"),
    "total_t_per_t": ("total_tco2e_per_t", "total_t_per_t"),
    "dv_2026": ("dv_2026_incl_markup", "dv_2026"),
    "dv_2027": ("dv_2027_incl_markup", "dv_2027"),
    "dv_2028": ("dv_2028_onwards_incl_markup", "dv_2028"),
    "indirect_applicable": ("indirect_applicable",),
    "route_flag": ("production_route_flag", "route_flag"),
}
OPTIONAL = ("cn_code_digits",)

COLUMNS = [
    "country",
    "origin",
    "sector",
    "cn_code",
    "cn_code_as_published",
    "description",
    "direct_t_per_t",
    "indirect_t_per_t",
    "total_t_per_t",
    "dv_2026",
    "dv_2027",
    "dv_2028",
    "indirect_applicable",
    "route_flag",
    "source_line",
]

# Published values (tCO2e/t) that every row must have. The marked-up values dv_* are
# derived from the total (docs/design.md, "Methods"), so a row missing one is kept with NaN
# and a warning.
REQUIRED_VALUES = ("direct_t_per_t", "total_t_per_t")
MARKED_UP_VALUES = ("dv_2026", "dv_2027", "dv_2028")
VALUE_FIELDS = ("direct_t_per_t", "indirect_t_per_t", "total_t_per_t", *MARKED_UP_VALUES)
# How the annex writes "no value" for indirect emissions of direct-only goods.
NOT_APPLICABLE = frozenset({"", "n/a", "na", "-", "\u2013", "\u2014"})

_DECIMAL_POINT = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")
_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def _value_problem(text: str) -> str:
    if "," in text:
        return (
            f"'{text}' has a comma; write numbers with a decimal point "
            "(a comma is never read as a thousands separator)"
        )
    return f"'{text}' is not a number"


def _parse_values(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One column of tCO2e/t values: ``(numbers, empty, bad, negative)``."""
    stripped = text.str.strip()
    empty = stripped.str.lower().isin(NOT_APPLICABLE).to_numpy(dtype=bool)
    ok = stripped.str.match(_DECIMAL_POINT).to_numpy(dtype=bool)
    numbers = pd.to_numeric(stripped.where(ok, ""), errors="coerce").to_numpy(np.float64, copy=True)
    numbers[~ok] = np.nan
    return numbers, empty, ~ok & ~empty, ok & (numbers < 0)


def read_cbam_defaults(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read the IR 2025/2621 default-value table (CSV or XLSX).

    Returns ``(data, meta)``. ``data`` has one row per valid (country, CN line) with
    :data:`COLUMNS`: ``origin`` is the ISO 3166-1 alpha-2 code of ``country`` or ``"OTHER"``
    for "Other countries and territories"; values in tCO2e per tonne of good;
    ``indirect_t_per_t`` is NaN where the annex gives none (direct-only goods).
    ``meta`` adds ``countries`` (distinct origins, OTHER excluded), ``other_countries``
    (whether the fallback rows are present), ``cn_codes`` (distinct codes) and ``warnings``
    (row errors of rows that were kept: a missing marked-up value).
    """
    table = load_table(path)
    columns, ignored = match_columns(path, table.headers, VARIABLE_MAP)
    missing = [name for name in VARIABLE_MAP if name not in columns and name not in OPTIONAL]
    if missing:
        raise MissingColumns(path, missing, table.headers)
    cells, lines = table.frame, table.lines

    def text(name: str) -> pd.Series:
        return cells[columns[name]].astype(str)

    errors: list[RowError] = list(table.errors)
    warnings: list[RowError] = []
    reject = np.zeros(len(cells), dtype=bool)

    def flag(new: list[RowError], mask: np.ndarray) -> None:
        errors.extend(new)
        reject[mask] = True

    data = pd.DataFrame(index=cells.index)
    data["country"] = text("country").str.strip()
    unique = data["country"].unique()
    origin_of = {
        name: (OTHER_COUNTRIES if is_other_countries(name) else to_iso2(name)) for name in unique
    }
    data["origin"] = data["country"].map(origin_of)
    unknown = data["origin"].isna().to_numpy()
    flag(
        row_errors(
            unknown,
            lines,
            data["country"],
            "country",
            lambda v: f"unknown country '{v}'" if v else "country is empty",
        ),
        unknown,
    )

    data["sector"] = text("sector").str.strip()
    published = text("cn_code_as_published").str.strip()
    codes, valid = normalise_cn_series(published)
    bad_cn = ~valid.to_numpy()
    flag(row_errors(bad_cn, lines, published, "cn_code", cn_problem), bad_cn)
    data["cn_code"] = codes
    data["cn_code_as_published"] = published
    if "cn_code_digits" in columns:
        digits = text("cn_code_digits").str.strip()
        mismatch = valid.to_numpy() & (digits != "").to_numpy() & (digits != codes).to_numpy()
        flag(
            row_errors(
                mismatch,
                lines,
                digits,
                "cn_code_digits",
                lambda v: f"cn_code_digits '{v}' does not match the code as published",
            ),
            mismatch,
        )
    data["description"] = text("description").str.strip()

    marked_up_empty = {}
    for name in VALUE_FIELDS:
        numbers, empty, bad, negative = _parse_values(text(name))
        flag(row_errors(bad, lines, text(name), name, _value_problem), bad)
        flag(row_errors(negative, lines, text(name), name, f"{name} must be >= 0"), negative)
        if name in REQUIRED_VALUES:
            flag(row_errors(empty, lines, text(name), name, f"{name} is empty"), empty)
        elif name in MARKED_UP_VALUES:
            marked_up_empty[name] = empty
        data[name] = numbers

    applicable = text("indirect_applicable").str.strip().str.lower()
    is_true = applicable.isin(_TRUE).to_numpy()
    bad_flag = ~is_true & ~applicable.isin(_FALSE).to_numpy()
    flag(
        row_errors(
            bad_flag,
            lines,
            text("indirect_applicable"),
            "indirect_applicable",
            lambda v: f"indirect_applicable '{v}' must be True or False",
        ),
        bad_flag,
    )
    data["indirect_applicable"] = is_true
    data["route_flag"] = text("route_flag").str.strip()
    data["source_line"] = lines.astype(np.int64)

    # An empty marked-up value: an error in a row rejected anyway, a warning in a row kept.
    for name, empty in marked_up_empty.items():
        reason = f"{name} is empty"
        errors.extend(row_errors(empty & reject, lines, text(name), name, reason))
        warnings.extend(
            row_errors(
                empty & ~reject,
                lines,
                text(name),
                name,
                f"{reason}; row kept, derive it from the total and mark-up",
            )
        )

    data = data.loc[~reject, COLUMNS].reset_index(drop=True)
    errors.sort(key=lambda e: (e.line or 0, COLUMNS.index(e.field) if e.field in COLUMNS else 99))
    rows_read = len(cells) + len(table.errors)
    meta = {
        "source": SOURCE,
        **table.meta,
        "columns": {name: table.headers[i] for name, i in columns.items()},
        "ignored_columns": ignored,
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "errors": errors,
        "warnings": warnings,
        "countries": int(data.loc[data["origin"] != OTHER_COUNTRIES, "origin"].nunique()),
        "other_countries": bool((data["origin"] == OTHER_COUNTRIES).any()),
        "cn_codes": int(data["cn_code"].nunique()),
    }
    return data, meta
