"""Reader for the product summary of the EU CBAM communication template for installations.

The Commission's Excel template ("CBAM Communication template for installations",
version 2024-12-13 and its successors) ends in summary sheets. **Summary_Products** lists,
one row per good or precursor, the specific embedded emissions the operator communicates.
The layout assumed here was reconstructed from a public dump of the template's sheets
(GordanVasilic/CBAMCalc, ``ExcelAnalysis/Summary_Products/raw_data.csv`` and
``ExcelAnalysis/Summary_Communication/raw_data.csv``) because the template itself is not
available offline:

- row 1 holds German layout markers ("ausblenden"), B2 the title "Summary of products";
- a header row (row 8 in the dump) with, from column D: "Production process from which
  the products arise", "Type of aggregated good or precursor", "CN Codes", "CN Name",
  "Product name (used for communication with reporting declarant, …)", "SEE (direct)",
  "SEE (indirect)", "SEE (total)", "Unit", "Share of emissions by default value",
  "Source for electricity EF", "Embedded electricity (MWh/t)", then qualifying
  parameters (alloy %, clinker factor, …) and carbon price columns;
- the next row is the template's example ("Ex." in column C), then rows numbered 1, 2, …
  in column C, mostly blank.

The sheet "Summary_Communication" repeats the table (with an extra "Electricity EF
(tCO2/MWh)" column) under "2 Summary of products". The reader therefore does not rely on
fixed cells: it takes the sheet named Summary_Products (else any sheet) and finds the
header row by its labels (:data:`HEADERS`, compared without case, spaces or punctuation),
skips the example row and blank rows, and reads the rest.

**Hidden rows and columns are not data.** The Commission's filled examples (v2.1) keep
helper formulas below the table (rows 111–314 of Summary_Products) and right of it
(columns BB–BO): cells that read ``TRUE``, ``FALSE`` or ``n.a.``, hidden from the person
filling the template. A row or column is skipped when the sheet hides it (the ``hidden``
attribute of its ``<row>`` or ``<col>`` element, ECMA-376 Part 1 §18.3.1.73 and
§18.3.1.13: what openpyxl reports as ``row_dimensions[r].hidden`` and
``column_dimensions[c].hidden``) or when the template marks it with its German helper word
``ausblenden`` ("hide": in column A for a row, in row 1 for a column). Visible rows are read
as before, so a genuinely bad value in them is still reported with its cell.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
from defusedxml.ElementTree import iterparse
from openpyxl.utils import get_column_letter

from ingest.base import MissingColumns, RowError, UnreadableFile
from ingest.cn import cn_problem, normalise_cn
from ingest.disclosure.safety import check_file
from ingest.disclosure.units import UnitError, convert
from ingest.tabular import header_key

SOURCE = "disclosure"
EXTRACTOR = "cbam_template"
SHEETS = ("Summary_Products", "Summary_Communication")
MAX_HEADER_SCAN = 60  # rows searched for the header
MAX_ROWS = 5000
#: The template's marker of helper rows (in column A) and helper columns (in row 1).
HIDE_MARKER = "ausblenden"
_XLSX_TRUE = {"1", "true"}

# Field → header labels of the template (the first is the template's own wording).
HEADERS: dict[str, tuple[str, ...]] = {
    "process": ("Production process from which the products arise",),
    "aggregated_good": ("Type of aggregated good or precursor",),
    "cn_code": ("CN Codes", "CN Code", "CN code of good"),
    "cn_name": ("CN Name",),
    "product_name": (
        "Product name (used for communication with reporting declarant, e.g. on invoices)",
        "Product name",
    ),
    "see_direct": ("SEE (direct)", "Specific direct embedded emissions"),
    "see_indirect": ("SEE (indirect)", "Specific indirect embedded emissions"),
    "see_total": ("SEE (total)", "Specific embedded emissions"),
    "unit": ("Unit",),
    "default_share": ("Share of emissions by default value",),
    "electricity_source": ("Source for electricity EF",),
    "embedded_electricity": ("Embedded electricity (MWh/t)",),
    "electricity_ef": ("Electricity EF (tCO2/MWh)",),
}
REQUIRED = ("cn_code", "see_direct", "see_indirect")
COLUMNS = [
    "cn_code",
    "cn_name",
    "product_name",
    "process",
    "aggregated_good",
    "see_direct_t_per_t",
    "see_indirect_t_per_t",
    "see_total_t_per_t",
    "see_unit",
    "default_share",
    "electricity_source",
    "embedded_electricity_mwh_per_t",
    "electricity_ef_t_per_mwh",
    "sheet",
    "source_line",
    "cells",
    "raw",
]
_KEYS = {header_key(label): name for name, labels in HEADERS.items() for label in labels}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: object) -> float | None:
    """A cell's number: numeric cells as they are, text with a point or a decimal comma."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    return None


def _find_header(
    rows: list[tuple], hidden_rows: set[int], hidden_cols: set[int]
) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(rows[:MAX_HEADER_SCAN]):
        if r in hidden_rows:
            continue
        found = {}
        for c, value in enumerate(row):
            if value is None or c in hidden_cols:
                continue
            name = _KEYS.get(header_key(_text(value)))
            if name and name not in found:
                found[name] = c
        if all(name in found for name in REQUIRED):
            return r, found
    return None


def read_cbam_template(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read the product summary of a CBAM communication template (XLSX).

    ``data`` has :data:`COLUMNS`, one row per product: SEE in t CO2e per t of good (or per
    MWh for electricity, then ``see_unit`` says so), ``default_share`` a fraction,
    ``embedded_electricity_mwh_per_t``, ``cells`` maps each field to its A1 cell
    (``"Summary_Products!I10"``) and ``raw`` to the cell's text. Raises
    :class:`MissingColumns` when no sheet has the header row.
    """
    from openpyxl import load_workbook

    kind = check_file(path)
    if kind != "xlsx":
        raise UnreadableFile(path, f"a CBAM communication template is an XLSX, not {kind}")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(path, f"not a readable XLSX workbook ({exc})") from exc
    try:
        names = workbook.sheetnames
        ordered = [n for n in SHEETS if n in names] + [n for n in names if n not in SHEETS]
        for name in ordered:
            sheet = workbook[name]
            sheet.reset_dimensions()
            rows = list(itertools.islice(sheet.iter_rows(values_only=True), MAX_ROWS))
            hidden_rows, hidden_cols = _hidden(sheet, rows)
            header = _find_header(rows, hidden_rows, hidden_cols)
            if header is not None:
                break
        else:
            raise MissingColumns(path, list(REQUIRED), [])
    finally:
        workbook.close()
    header_row, columns = header
    data, errors, rows_read = _read_rows(name, rows, header_row, columns, hidden_rows)
    meta = {
        "source": SOURCE,
        "path": str(path),
        "format": "xlsx",
        "extractor": EXTRACTOR,
        "sheet": name,
        "header_row": header_row + 1,
        "columns": {field: get_column_letter(c + 1) for field, c in columns.items()},
        "hidden_rows_skipped": sum(1 for r in hidden_rows if r > header_row and r < len(rows)),
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "errors": errors,
    }
    return data, meta


def _hidden(sheet, rows: list[tuple]) -> tuple[set[int], set[int]]:
    """0-based indexes of the rows and columns that are not data: hidden in the sheet's XML
    (``<row hidden="1">``, ``<col min max hidden="1">``) or marked :data:`HIDE_MARKER`.

    openpyxl's read-only worksheets do not expose ``row_dimensions``; the attributes are
    read here from the sheet's XML part (elements only, no cell values) instead of loading
    the whole workbook in normal mode (about 8 times slower on the Commission's templates).
    """
    hidden_rows, hidden_cols = set(), set()
    with sheet._get_source() as source:  # openpyxl's handle on the sheet's XML part
        for _, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "col" and element.get("hidden", "").lower() in _XLSX_TRUE:
                first, last = int(element.get("min")), int(element.get("max"))
                hidden_cols.update(range(first - 1, min(last, 16384)))
            elif tag == "row":
                if element.get("hidden", "").lower() in _XLSX_TRUE and element.get("r"):
                    hidden_rows.add(int(element.get("r")) - 1)
                element.clear()  # the cells are read by iter_rows, not here
    for r, row in enumerate(rows):
        if row and _text(row[0]).lower() == HIDE_MARKER:
            hidden_rows.add(r)
    if rows:
        hidden_cols.update(c for c, v in enumerate(rows[0]) if _text(v).lower() == HIDE_MARKER)
    return hidden_rows, hidden_cols


def _read_rows(
    sheet: str,
    rows: list[tuple],
    header_row: int,
    columns: dict[str, int],
    hidden_rows: set[int] = frozenset(),
):
    out, errors, rows_read = [], [], 0
    first = min(columns.values())

    def cell(row: tuple, field: str):
        c = columns.get(field)
        return row[c] if c is not None and c < len(row) else None

    def ref(r: int, field: str) -> str:
        return f"{sheet}!{get_column_letter(columns[field] + 1)}{r + 1}"

    for r in range(header_row + 1, len(rows)):
        if r in hidden_rows:
            continue  # the template's helper rows: TRUE/FALSE/n.a., not data
        row = rows[r]
        label = _text(row[first - 1]) if first >= 1 and first - 1 < len(row) else ""
        if label.lower().startswith("ex"):
            continue  # the template's worked example
        cn_text = _text(cell(row, "cn_code"))
        direct, indirect = cell(row, "see_direct"), cell(row, "see_indirect")
        if not cn_text and direct in (None, "") and indirect in (None, ""):
            continue
        rows_read += 1
        line = r + 1
        problems = []
        try:
            cn = normalise_cn(cn_text)
        except ValueError:
            problems.append(
                RowError(line, "cn_code", cn_text, f"{ref(r, 'cn_code')}: " + cn_problem(cn_text))
            )
        unit_text = _text(cell(row, "unit")) or "tCO2e/t"
        values = {}
        for field in ("see_direct", "see_indirect", "see_total"):
            if field not in columns:
                continue
            raw = cell(row, field)
            if raw in (None, "") and field == "see_total":
                continue
            number = _number(raw)
            if number is None:
                problems.append(RowError(line, field, _text(raw), f"{ref(r, field)}: not a number"))
                continue
            try:
                values[field] = convert(number, unit_text, ("t/t", "t/MWh"))
            except UnitError as exc:
                where = ref(r, "unit") if "unit" in columns else ref(r, field)
                problems.append(RowError(line, "unit", unit_text, f"{where}: {exc}"))
                break
        share = _share(cell(row, "default_share"))
        if share is not None and not 0 <= share <= 1:
            problems.append(
                RowError(
                    line,
                    "default_share",
                    _text(cell(row, "default_share")),
                    f"{ref(r, 'default_share')}: share must be between 0 and 100 %",
                )
            )
        if problems:
            errors.extend(problems)
            continue
        see_unit = values["see_direct"].unit
        embedded = _number(cell(row, "embedded_electricity"))
        ef = _number(cell(row, "electricity_ef"))
        out.append(
            {
                "cn_code": cn,
                "cn_name": _text(cell(row, "cn_name")),
                "product_name": _text(cell(row, "product_name")),
                "process": _text(cell(row, "process")),
                "aggregated_good": _text(cell(row, "aggregated_good")),
                "see_direct_t_per_t": values["see_direct"].value,
                "see_indirect_t_per_t": values["see_indirect"].value,
                "see_total_t_per_t": values["see_total"].value if "see_total" in values else np.nan,
                "see_unit": see_unit,
                "default_share": np.nan if share is None else share,
                "electricity_source": _text(cell(row, "electricity_source")),
                "embedded_electricity_mwh_per_t": np.nan if embedded is None else embedded,
                "electricity_ef_t_per_mwh": np.nan if ef is None else ef,
                "sheet": sheet,
                "source_line": line,
                "cells": {field: ref(r, field) for field in columns},
                "raw": {field: _text(cell(row, field)) for field in columns},
            }
        )
    frame = pd.DataFrame(out, columns=COLUMNS)
    return frame, errors, rows_read


def _share(value: object) -> float | None:
    """Excel stores 25 % as 0.25; a text "25%" or "25 %" means the same."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _number(value.strip()[:-1])
        return None if number is None else number / 100
    return _number(value)


def to_values(data: pd.DataFrame) -> list[dict]:
    """The ``"values"`` of ``ingest disclosure --json``: per product, SEE direct, indirect,
    total, embedded electricity and default share, each with its cell and raw text."""
    fields = {
        "see_direct": ("see_direct_t_per_t", None),
        "see_indirect": ("see_indirect_t_per_t", None),
        "see_total": ("see_total_t_per_t", None),
        "embedded_electricity": ("embedded_electricity_mwh_per_t", "MWh/t"),
        "default_share": ("default_share", "fraction"),
    }
    out = []
    for row in data.itertuples(index=False):
        for field, (column, unit) in fields.items():
            value = getattr(row, column)
            if field not in row.cells or pd.isna(value):
                continue
            out.append(
                {
                    "field": f"{row.cn_code}.{field}",
                    "value": float(value),
                    "unit": unit or row.see_unit,
                    "cell": row.cells[field],
                    "quote": row.raw.get(field, ""),
                }
            )
    return out
