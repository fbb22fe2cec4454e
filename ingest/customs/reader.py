"""Reader for customs declaration lines (CSV or XLSX), one row per goods item.

Customs systems and brokers export the same data elements of the import declaration (MRN,
goods item number, commodity code, country of origin, net mass in kg, statistical value,
procedure; Reg. (EU) 2015/2446, Annex B) under many names. The header of each column is
matched through :data:`COLUMN_ALIASES`, ignoring case, accents, spaces, underscores and
punctuation.

CSV dialect is detected per file: delimiter among , ; TAB |; UTF-8 (BOM or not), else
Latin-1; decimal comma or point (see :func:`ingest.tabular.detect_decimal`). Dates are ISO
(2026-01-15) or day first (15/01/2026, 15.01.2026, 15-01-2026).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import IngestError, MissingColumns, RowError
from ingest.cn import cn_problem, normalise_cn
from ingest.countries import ANNEX_III_EXEMPT, EU27, not_a_cbam_import, to_iso2
from ingest.eori import eori_problem, normalise_eori
from ingest.tabular import (
    detect_decimal,
    factorize_map,
    load_table,
    map_unique,
    match_columns,
    parse_numbers,
    row_errors,
    strip,
)

SOURCE = "customs"

# Field → header names accepted, the preferred first. A field's first name is its own.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "declaration_id": (
        "declaration_id",
        "declaration id",
        "declaration_number",
        "declaration number",
        "declaration no",
        "MRN",
        "decl_id",
    ),
    "line": (
        "line",
        "line_no",
        "line number",
        "item_number",
        "item",
        "item no",
        "goods item",
        "goods item number",
    ),
    "date": ("date", "acceptance_date", "date of acceptance", "declaration_date"),
    "cn_code": ("cn_code", "cn", "cn8", "commodity code", "tariff code", "hs_code"),
    "origin": ("origin", "country of origin", "origin_country", "coo"),
    "exporter": ("exporter", "exporter name", "consignor", "seller"),
    # The importer (the declarant of the CBAM report), by name and by EORI number.
    "importer": (
        "importer",
        "importer name",
        "declarant",
        "declarant name",
        "consignee",
    ),
    "importer_eori": (
        "importer_eori",
        "importer eori",
        "declarant eori",
        "eori",
        "eori number",
        "importer eori number",
    ),
    # Net mass: the unit comes from the header, or from a separate unit column.
    "net_mass_kg": ("net_mass_kg", "net mass kg", "net weight kg"),
    "net_mass_t": ("net_mass_t", "net mass (t)", "net mass tonnes", "tonnes"),
    "net_mass": ("net_mass", "net mass", "net weight"),
    "mass_unit": ("mass_unit", "mass unit", "unit"),
    "statistical_value_eur": (
        "statistical_value_eur",
        "statistical_value",
        "statistical value",
        "value",
        "value eur",
        "invoice value eur",
    ),
    "supplementary_units": (
        "supplementary_units",
        "supplementary unit",
        "supplementary units",
        "supplementary quantity",
        "su quantity",
    ),
    "procedure": ("procedure", "procedure code", "customs procedure", "cpc"),
    "installation_id": (
        "installation_id",
        "installation id",
        "installation_identifier",
        "plant id",
    ),
}
REQUIRED = ("declaration_id", "line", "date", "cn_code", "origin", "exporter")
MASS_FIELDS = {"net_mass_kg": "kg", "net_mass_t": "t", "net_mass": None}  # preferred first

# Values of a unit column → the unit. KGM and TNE are the UN/ECE Rec. 20 codes customs use.
MASS_UNITS: dict[str, str] = {
    "kg": "kg",
    "kgs": "kg",
    "kgm": "kg",
    "kilogram": "kg",
    "kilograms": "kg",
    "t": "t",
    "tne": "t",
    "tonne": "t",
    "tonnes": "t",
    "metric ton": "t",
    "metric tons": "t",
}

COLUMNS = [
    "declaration_id",
    "line",
    "date",
    "cn_code",
    "origin",
    "exporter",
    "importer",
    "importer_eori",
    "net_mass_t",
    "mass_unit",
    "statistical_value_eur",
    "supplementary_units",
    "procedure",
    "installation_id",
    "source_line",
]
_ERROR_ORDER = {name: i for i, name in enumerate(COLUMNS)} | {
    name: COLUMNS.index("net_mass_t") for name in MASS_FIELDS
}

_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ][0-9:.+\-Z ]*)?$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]{4})(?: [0-9:. ]*)?$")


class MassUnitUnknown(IngestError):
    """The file has a net-mass column whose unit neither its header nor a unit column gives."""

    def __init__(self, path: str | Path, header: str) -> None:
        super().__init__(
            f"{path}: the unit of column {header!r} is unknown; name it net_mass_kg or "
            "net_mass_t, or add a 'mass unit' column (kg or t)"
        )


def _line_number(text: str) -> int:
    """The goods item number, or 0 if ``text`` is not a whole number >= 1."""
    text = text.strip()
    if text.endswith(".0"):  # spreadsheets turn 3 into 3.0
        text = text[:-2]
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


def _parse_date(text: str) -> date | str:
    """A date, or the reason ``text`` is not one."""
    text = text.strip()
    if not text:
        return "date is empty"
    if match := _ISO_DATE.match(text):
        year, month, day = match.group(1, 2, 3)
    elif match := _DAY_FIRST.match(text):
        day, month, year = match.group(1, 3, 4)
    else:
        return f"date '{text}' is not a date (write 2026-01-15 or 15/01/2026)"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return f"date '{text}' does not exist"


def _cn_digits(text: str) -> str:
    try:
        return normalise_cn(text)
    except ValueError:
        return ""


def read_customs(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read customs declaration lines.

    Returns ``(data, meta)``. ``data`` has :data:`COLUMNS`, one row per valid line:
    ``declaration_id`` str; ``line`` int64 (≥ 1); ``date`` datetime64 (a calendar date);
    ``cn_code`` digits; ``origin`` ISO 3166-1 alpha-2; ``exporter``, ``importer`` str;
    ``importer_eori`` str, upper case ("" if not declared; an importer declared by its
    EORI only is named by it);
    ``net_mass_t`` float64 (> 0, tonnes); ``mass_unit`` "kg" or "t" as the file gave it;
    ``statistical_value_eur`` and ``supplementary_units`` float64 (NaN if absent);
    ``procedure``, ``installation_id`` str ("" if absent); ``source_line`` int64.

    ``meta`` adds ``encoding``, ``delimiter`` (CSV), ``decimal``, ``columns`` (field →
    header used), ``ignored_columns``, ``duplicates`` (lines repeating a (declaration_id,
    line) seen earlier in the file). Raises :class:`MissingColumns` if a required column is
    absent and :class:`MassUnitUnknown` if the unit of the net mass cannot be known.
    """
    table = load_table(path)
    columns, ignored = match_columns(path, table.headers, COLUMN_ALIASES)
    mass_fields = [name for name in MASS_FIELDS if name in columns]
    missing = [name for name in REQUIRED if name not in columns]
    if not mass_fields:
        missing.append("net mass (net_mass_kg, net_mass_t, or net_mass with mass_unit)")
    if missing:
        raise MissingColumns(path, missing, table.headers)
    mass_field = mass_fields[0]
    ignored += [table.headers[columns.pop(name)] for name in mass_fields[1:]]
    if mass_field == "net_mass" and "mass_unit" not in columns:
        raise MassUnitUnknown(path, table.headers[columns["net_mass"]])
    if mass_field != "net_mass" and "mass_unit" in columns:
        ignored.append(table.headers[columns.pop("mass_unit")])

    cells, lines = table.frame, table.lines
    n = len(cells)

    def raw(name: str) -> pd.Series:
        if name not in columns:
            return pd.Series([""] * n, index=cells.index, dtype=str)
        return cells[columns[name]]

    def text(name: str) -> pd.Series:
        return strip(raw(name))

    errors: list[RowError] = list(table.errors)
    reject = np.zeros(n, dtype=bool)

    def check(mask: np.ndarray, name: str, values: pd.Series, reason) -> None:
        errors.extend(row_errors(mask, lines, values, name, reason))
        reject[mask] = True

    data = pd.DataFrame(index=cells.index)

    declaration, declaration_code = strip(raw("declaration_id"), codes=True)
    check((declaration == "").to_numpy(), "declaration_id", declaration, "declaration id is empty")
    data["declaration_id"] = declaration

    line_text = raw("line")
    line_number = map_unique(line_text, _line_number).astype(np.int64)
    line_ok = line_number >= 1
    check(
        ~line_ok,
        "line",
        line_text,
        lambda v: f"line '{v}' must be a whole number >= 1" if v.strip() else "line is empty",
    )
    data["line"] = line_number

    date_text = raw("date")
    codes, parsed = factorize_map(date_text, _parse_date)
    is_date = np.array([isinstance(p, date) for p in parsed], dtype=bool)
    days = np.array([p if isinstance(p, date) else "NaT" for p in parsed], dtype="datetime64[D]")
    check(~is_date[codes], "date", date_text, _parse_date)
    data["date"] = days[codes].astype("datetime64[s]")

    cn_text = raw("cn_code")
    cn = map_unique(cn_text, _cn_digits)
    check(cn == "", "cn_code", cn_text, lambda v: cn_problem(v.strip()))
    data["cn_code"] = pd.Series(cn, index=cells.index, dtype=str)

    origin_text = raw("origin")
    origin = map_unique(origin_text, lambda v: to_iso2(v) or "")
    check(
        origin == "",
        "origin",
        origin_text,
        lambda v: f"unknown country '{v.strip()}'" if v.strip() else "country of origin is empty",
    )
    # Goods of EU or Annex III pt 1 origin are not CBAM imports (Reg. 2023/956 Art. 2).
    exempt = np.isin(origin.astype(str), sorted(EU27 | ANNEX_III_EXEMPT))
    check(exempt, "origin", origin_text, lambda v: not_a_cbam_import(to_iso2(v) or ""))
    data["origin"] = pd.Series(origin, index=cells.index, dtype=str)

    data["exporter"] = text("exporter")
    check((data["exporter"] == "").to_numpy(), "exporter", data["exporter"], "exporter is empty")
    data["importer"] = text("importer")
    eori_text = raw("importer_eori")
    eori = map_unique(eori_text, lambda v: normalise_eori(v) or "")
    eori_bad = map_unique(eori_text, lambda v: bool(v.strip()) and normalise_eori(v) is None)
    check(eori_bad.astype(bool), "importer_eori", eori_text, lambda v: eori_problem(v))
    data["importer_eori"] = pd.Series(eori, index=cells.index, dtype=str)
    # An EORI without a name: the EORI names the importer.
    data["importer"] = data["importer"].where(data["importer"] != "", data["importer_eori"])

    mass_text = raw(mass_field)
    value_text = raw("statistical_value_eur")
    decimal = detect_decimal([mass_text, value_text], table.meta.get("delimiter"))

    if MASS_FIELDS[mass_field]:
        unit = np.full(n, MASS_FIELDS[mass_field], dtype=object)
    else:
        unit_text = raw("mass_unit")
        unit = map_unique(unit_text, lambda v: MASS_UNITS.get(v.strip().lower(), ""))
        check(
            unit == "",
            "mass_unit",
            unit_text,
            lambda v: f"mass unit '{v}' must be kg or t" if v.strip() else "mass unit is empty",
        )
    mass, empty, bad = parse_numbers(mass_text, decimal)
    check(empty, mass_field, mass_text, "net mass is empty")
    check(bad, mass_field, mass_text, lambda v: f"net mass '{v}' is not a number")
    check(mass <= 0, mass_field, mass_text, "net mass must be > 0")
    data["net_mass_t"] = np.where(unit == "kg", mass / 1000.0, mass)
    data["mass_unit"] = pd.Series(unit, index=cells.index, dtype=str)

    value, _, bad = parse_numbers(value_text, decimal)
    check(
        bad,
        "statistical_value_eur",
        value_text,
        lambda v: f"statistical value '{v}' is not a number",
    )
    check(value < 0, "statistical_value_eur", value_text, "statistical value must be >= 0")
    data["statistical_value_eur"] = value
    # Supplementary units (e.g. items, m³) where the CN code asks for them: optional.
    units_text = raw("supplementary_units")
    units, _, bad = parse_numbers(units_text, decimal)
    check(
        bad | (units < 0),
        "supplementary_units",
        units_text,
        lambda v: f"supplementary units '{v}' must be a number >= 0",
    )
    data["supplementary_units"] = units
    data["procedure"] = text("procedure")
    data["installation_id"] = text("installation_id")
    data["source_line"] = lines.astype(np.int64)

    # A (declaration, line) pair seen earlier in the file: keep the first, report the others.
    keyed = np.flatnonzero((declaration != "").to_numpy() & line_ok)
    lines_per_declaration = int(line_number.max(initial=0)) + 1
    key = declaration_code[keyed].astype(np.int64) * lines_per_declaration + line_number[keyed]
    unique_keys, first = np.unique(key, return_index=True)
    first_of_row = keyed[first[np.searchsorted(unique_keys, key)]]
    repeat = np.zeros(n, dtype=bool)
    repeat[keyed[first_of_row != keyed]] = True
    first_line = np.zeros(n, dtype=np.int64)
    first_line[keyed] = lines[first_of_row]
    errors.extend(
        RowError(
            int(lines[i]),
            "line",
            str(line_text.iat[i]),
            f"duplicate: declaration '{declaration.iat[i]}' line {line_number[i]} "
            f"already on line {first_line[i]}",
        )
        for i in np.flatnonzero(repeat)
    )
    reject |= repeat

    data = data.loc[~reject, COLUMNS].reset_index(drop=True)
    errors.sort(key=lambda e: (e.line or 0, _ERROR_ORDER.get(e.field, 99)))
    rows_read = n + len(table.errors)
    meta = {
        "source": SOURCE,
        **table.meta,
        "decimal": decimal,
        "columns": {name: table.headers[i] for name, i in columns.items()},
        "ignored_columns": ignored,
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "duplicates": int(repeat.sum()),
        "errors": errors,
    }
    return data, meta
