"""Reader for our disclosure template (CSV or XLSX): one row per value.

The template is *long*: one sheet (the first of an XLSX) or one CSV with the columns
``section``, ``item``, ``field``, ``value``, ``unit`` (``note`` and other columns are
ignored). ``item`` tells records of one section apart (two goods, three fuels); blank means
``1``. :data:`FIELDS` lists the sections and fields, which are required, and the units
each quantity accepts; ``ingest/disclosure/README.md`` shows a filled example.

Units are parsed with pint (:mod:`ingest.disclosure.units`) and values converted to the
canonical unit of the field: t, MWh, TJ, 1000 Nm3, fraction, t/t, t/TJ, t/MWh, TJ/t.

Output: one row per accepted value, with its evidence — ``cell`` (``"Disclosure!D7"``) for
an XLSX, ``line`` for a CSV — and ``quote``, the raw text of the value and unit cells. An
unknown unit, a bad number, code, country or date gives a :class:`~ingest.base.RowError`
whose reason names the cell (sheet and A1 reference) or the line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from ingest.base import MissingColumns, RowError
from ingest.cn import cn_problem, normalise_cn
from ingest.countries import to_iso2
from ingest.disclosure.safety import check_file
from ingest.disclosure.units import UnitError, convert
from ingest.tabular import detect_decimal, load_table, match_columns, parse_numbers

SOURCE = "disclosure"
EXTRACTOR = "template"


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "text", "number", "date", "cn", "country", "choice"
    units: tuple[str, ...] = ()  # canonical units accepted, first preferred (numbers)
    required: bool = False
    choices: tuple[str, ...] = ()
    positive: bool = True  # numbers must be >= 0


_MASS = ("t",)
FIELDS: dict[str, dict[str, FieldSpec]] = {
    "installation": {
        "id": FieldSpec("text", required=True),
        "name": FieldSpec("text", required=True),
        "country": FieldSpec("country", required=True),
    },
    "period": {
        "start": FieldSpec("date", required=True),
        "end": FieldSpec("date", required=True),
    },
    "goods": {
        "cn_code": FieldSpec("cn", required=True),
        "name": FieldSpec("text"),
        "production": FieldSpec("number", _MASS, required=True),
    },
    "fuel": {
        "name": FieldSpec("text", required=True),
        "kind": FieldSpec(
            "choice", choices=("combustion", "process", "mass_balance_in", "mass_balance_out")
        ),
        "amount": FieldSpec("number", ("t", "1000 Nm3", "TJ"), required=True),
        "ncv": FieldSpec("number", ("TJ/t", "TJ/1000 Nm3")),
        "ef": FieldSpec("number", ("t/TJ", "t/t")),
        "carbon_content": FieldSpec("number", ("fraction",)),
        "oxidation_factor": FieldSpec("number", ("fraction",)),
    },
    "electricity": {
        "consumed": FieldSpec("number", ("MWh",), required=True),
        "source": FieldSpec("choice", choices=("grid", "ppa", "onsite"), required=True),
        "ef": FieldSpec("number", ("t/MWh",)),
    },
    "heat": {
        "imported": FieldSpec("number", ("TJ",)),
        "exported": FieldSpec("number", ("TJ",)),
        "ef": FieldSpec("number", ("t/TJ",)),
    },
    "precursor": {
        "cn_code": FieldSpec("cn", required=True),
        "mass": FieldSpec("number", _MASS, required=True),
        "origin": FieldSpec("country", required=True),
        "supplier_installation": FieldSpec("text"),
        "see_direct": FieldSpec("number", ("t/t",)),
        "see_indirect": FieldSpec("number", ("t/t",)),
    },
    "verifier": {
        "name": FieldSpec("text", required=True),
        "accreditation": FieldSpec("text"),
        "date": FieldSpec("date"),
    },
}
# Sections that must appear at least once (verifier, fuel, heat and precursor are optional).
REQUIRED_SECTIONS = ("installation", "period", "goods")

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "section": ("section",),
    "item": ("item", "record", "no"),
    "field": ("field", "parameter"),
    "value": ("value",),
    "unit": ("unit", "units"),
}
REQUIRED_COLUMNS = ("section", "field", "value")

COLUMNS = [
    "section",
    "item",
    "field",
    "value",
    "text",
    "unit",
    "raw_value",
    "raw_unit",
    "cell",
    "line",
    "quote",
    "source_line",
]
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")
_YEAR = re.compile(r"^\d{4}$")


def _where(meta: dict, row: int, column: int, name: str) -> str:
    if meta["format"] == "xlsx":
        return f"cell {meta['sheet']}!{get_column_letter(column + 1)}{row}"
    return f"line {row}, column {name}"


def _parse_text(spec: FieldSpec, text: str) -> str | tuple[None, str]:
    """The normalised text of a non-number field, or ``(None, reason)``."""
    if spec.kind == "cn":
        try:
            return normalise_cn(text)
        except ValueError:
            return None, cn_problem(text)
    if spec.kind == "country":
        code = to_iso2(text)
        return code if code else (None, f"unknown country '{text}'")
    if spec.kind == "date":
        match = _DATE.match(text)
        if match:
            try:
                return date(*map(int, match.groups())).isoformat()
            except ValueError:
                return None, f"date '{text}' does not exist"
        if _YEAR.match(text):
            return text
        return None, f"date '{text}' is not a date (write 2025-01-31)"
    if spec.kind == "choice":
        folded = text.strip().lower()
        return folded if folded in spec.choices else (None, f"must be one of {spec.choices}")
    return text


def read_template(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a disclosure in our template. Returns ``(data, meta)`` (ingest/base.py).

    ``data`` has :data:`COLUMNS`: ``value`` float (NaN for text fields) in ``unit`` (a
    canonical unit, "" for text), ``text`` the normalised text of a text field (CN code
    digits, ISO alpha-2 country, ISO date, lower-case choice), ``raw_value`` and
    ``raw_unit`` as written, ``cell`` (XLSX) or ``line`` (CSV) and ``quote``.
    """
    kind = check_file(path)
    table = load_table(path)  # XLSX: the first sheet
    columns, ignored = match_columns(path, table.headers, COLUMN_ALIASES)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise MissingColumns(path, missing, table.headers)
    meta_table = {**table.meta}
    cells, lines = table.frame, table.lines
    n = len(cells)

    def column(name: str) -> pd.Series:
        if name not in columns:
            return pd.Series([""] * n, index=cells.index, dtype=str)
        return cells[columns[name]].str.strip()

    section = column("section").str.lower()
    field = column("field").str.lower()
    item = column("item").replace("", "1")
    value_text, unit_text = column("value"), column("unit")
    specs = [FIELDS.get(s, {}).get(f) for s, f in zip(section, field, strict=True)]
    is_number = np.array([s is not None and s.kind == "number" for s in specs], dtype=bool)
    decimal = detect_decimal([value_text[is_number]], table.meta.get("delimiter"))
    numbers, empty, bad = parse_numbers(value_text, decimal)

    errors: list[RowError] = list(table.errors)
    rows: list[dict] = []
    seen: dict[tuple[str, str, str], int] = {}
    value_col = columns["value"]
    unit_col = columns.get("unit", value_col)

    for i in range(n):
        line = int(lines[i])
        sec, fld, itm = section.iat[i], field.iat[i], item.iat[i]
        raw_value, raw_unit = value_text.iat[i], unit_text.iat[i]
        spec = specs[i]
        at_value = _where(meta_table, line, value_col, "value")
        if sec not in FIELDS:
            errors.append(RowError(line, "section", sec, f"unknown section '{sec}'"))
            continue
        if spec is None:
            known = ", ".join(FIELDS[sec])
            reason = f"unknown field '{fld}' in section '{sec}' (known: {known})"
            errors.append(RowError(line, f"{sec}.{fld}", fld, reason))
            continue
        name = f"{sec}.{fld}"
        if raw_value == "":
            if spec.required:
                errors.append(RowError(line, name, "", f"{at_value}: the value is empty"))
            continue
        key = (sec, itm, fld)
        if key in seen:
            reason = f"{at_value}: {name} of item '{itm}' is already given on row {seen[key]}"
            errors.append(RowError(line, name, raw_value, reason))
            continue
        row = {
            "section": sec,
            "item": itm,
            "field": fld,
            "value": np.nan,
            "text": "",
            "unit": "",
            "raw_value": raw_value,
            "raw_unit": raw_unit,
            "cell": (
                f"{meta_table['sheet']}!{get_column_letter(value_col + 1)}{line}"
                if meta_table["format"] == "xlsx"
                else ""
            ),
            "line": line,
            "quote": f"{raw_value} {raw_unit}".strip(),
            "source_line": line,
        }
        if spec.kind == "number":
            if bad[i] or empty[i]:
                reason = f"{at_value}: '{raw_value}' is not a number"
                errors.append(RowError(line, name, raw_value, reason))
                continue
            at_unit = _where(meta_table, line, unit_col, "unit")
            if not raw_unit:
                reason = f"{at_unit}: the unit is empty (use {' or '.join(spec.units)})"
                errors.append(RowError(line, f"{name}.unit", "", reason))
                continue
            try:
                converted = convert(float(numbers[i]), raw_unit, spec.units)
            except UnitError as exc:
                errors.append(RowError(line, f"{name}.unit", raw_unit, f"{at_unit}: {exc}"))
                continue
            if spec.positive and converted.value < 0:
                errors.append(RowError(line, name, raw_value, f"{at_value}: must be >= 0"))
                continue
            if converted.unit == "fraction" and converted.value > 1:
                reason = f"{at_value}: a fraction must be <= 1 (or write the unit %)"
                errors.append(RowError(line, name, raw_value, reason))
                continue
            row["value"], row["unit"] = converted.value, converted.unit
        else:
            parsed = _parse_text(spec, raw_value)
            if isinstance(parsed, tuple):
                errors.append(RowError(line, name, raw_value, f"{at_value}: {parsed[1]}"))
                continue
            row["text"] = parsed
        seen[key] = line
        rows.append(row)

    data = pd.DataFrame(rows, columns=COLUMNS)
    mentioned = [(s, i) for s, i in zip(section, item, strict=True) if s in FIELDS]
    errors.extend(_missing_required(data, mentioned))
    rows_read = n + len(table.errors)
    meta = {
        "source": SOURCE,
        **meta_table,
        "format": kind,
        "extractor": EXTRACTOR,
        "decimal": decimal,
        "columns": {name: table.headers[i] for name, i in columns.items()},
        "ignored_columns": ignored,
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "errors": errors,
    }
    return data, meta


def _missing_required(data: pd.DataFrame, mentioned: list[tuple[str, str]]) -> list[RowError]:
    """Required sections absent, and required fields absent from a record the file
    mentions (its other rows may have been rejected)."""
    errors = []
    for section in REQUIRED_SECTIONS:
        if not (data["section"] == section).any():
            errors.append(RowError(None, section, "", f"section '{section}' is missing"))
    accepted = data.groupby(["section", "item"], sort=False)["field"].agg(set).to_dict()
    for section, item in dict.fromkeys(mentioned):
        present = accepted.get((section, item), set())
        for name, spec in FIELDS[section].items():
            if spec.required and name not in present:
                reason = f"{section} item '{item}' has no {name}"
                errors.append(RowError(None, f"{section}.{name}", "", reason))
    return errors


def to_values(data: pd.DataFrame) -> list[dict]:
    """The ``"values"`` of ``ingest disclosure --json``: ``{"field", "value", "unit",
    "cell" or "line", "quote"}``; ``field`` is ``section[item].field``."""
    out = []
    for row in data.itertuples(index=False):
        value = row.text if row.text else float(row.value)
        where = {"cell": row.cell} if row.cell else {"line": int(row.line)}
        out.append(
            {
                "field": f"{row.section}[{row.item}].{row.field}",
                "value": value,
                "unit": row.unit,
                **where,
                "quote": row.quote,
            }
        )
    return out


def to_disclosure(data: pd.DataFrame) -> dict:
    """The normalised disclosure as a dict: ``{"installation": {field: evidence},
    "period": {...}, "goods": [{field: evidence}, ...], ...}``; single-record sections
    (installation, period, verifier) are dicts, the others lists in file order. Each
    evidence is ``{"value", "unit", "cell" or "line", "quote"}``."""
    single = {"installation", "period", "verifier"}
    out: dict = {}
    for (section, item), group in data.groupby(["section", "item"], sort=False):
        record = {}
        for row in group.itertuples(index=False):
            where = {"cell": row.cell} if row.cell else {"line": int(row.line)}
            value = row.text if row.text else float(row.value)
            record[row.field] = {"value": value, "unit": row.unit, **where, "quote": row.quote}
        if section in single:
            out.setdefault(section, {}).update(record)
        else:
            out.setdefault(section, []).append({"item": item, **record})
    return out
