"""Readers for country grid-intensity averages: Ember (JSON) and the IFI default grid factors
(CSV).

- **Ember** annual average intensity per country or region, as co2.js publishes it
  (``data/output/average-intensities.json``): an object keyed by ISO 3166-1 alpha-3 code
  or region name (``World``, ``EU``, ``Africa`` …), each with ``country_code``,
  ``country_or_region``, ``year`` and ``emissions_intensity_gco2_per_kwh``. The latest year
  differs by country (2022, 2023 or 2024): the row keeps its own year. Ember computes the
  intensity with life-cycle emission factors. Licence CC BY 4.0 (cite Ember).
- **IFI** Harmonized Default Grid Emission Factors 2021 v3.1 (UNFCCC,
  https://unfccc.int/documents/461676): a CSV with a three-row header whose quoted cells
  hold line breaks ("Combined Margin Grid Emission Factor, gCO2/kWh" over four columns,
  then "Operating Margin …"), one row per country or territory, a "Memo: EU 27" row and
  footnote rows at the end. Values are marginal (not average) factors in gCO2/kWh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from ingest.base import IngestError, RowError, UnreadableFile
from ingest.countries import to_iso2
from ingest.tabular import load_table, parse_numbers

SOURCE_EMBER = "ember"
SOURCE_IFI = "ifi"

EMBER_COLUMNS = ["code", "iso2", "name", "year", "intensity_g_per_kwh", "is_region", "source_line"]
IFI_COLUMNS = [
    "name",
    "iso2",
    "iso3",
    "cm_firm_g_per_kwh",
    "cm_intermittent_g_per_kwh",
    "cm_efficiency_g_per_kwh",
    "cm_consumption_g_per_kwh",
    "om_g_per_kwh",
    "is_region",
    "source_line",
]
#: The IFI value columns in file order: (field, the header words that identify it).
IFI_VALUES: tuple[tuple[str, str], ...] = (
    ("cm_firm_g_per_kwh", "Firm Energy"),
    ("cm_intermittent_g_per_kwh", "Intermittent Energy"),
    ("cm_efficiency_g_per_kwh", "Energy Efficiency"),
    ("cm_consumption_g_per_kwh", "Electricity Consumption"),
    ("om_g_per_kwh", "Operating Margin"),
)
IFI_HEADER_CELL = "Country / Territory / Island"

#: IFI names that neither ISO 3166-1 nor ``ingest.countries.ALIASES`` spell this way.
#: Parts of countries without their own ISO code (Azores, Madeira, Canary Islands, Channel
#: Islands) are left without one.
IFI_ALIASES: dict[str, str] = {
    "Bonaire": "BQ",
    "Congo, Democratic Republic of": "CD",
    "Congo, Republic of": "CG",
    "Curacao/Netherlands Antilles": "CW",
    "Korea (North), Democratic People's Republic of": "KP",
    "Korea (South), Republic of": "KR",
    "North Macedonia, Republic of": "MK",
    "Palestinian Authority": "PS",
    "Saint Vincent and Grenadines": "VC",
    "Sao Tomé & Principe": "ST",
    "Sint Martin": "SX",
    "Saint Martin": "MF",
    "Vanatu": "VU",
    "Falkland Islands": "FK",
    "Saint Helena": "SH",
    "China (PRC and Hong Kong)": "CN",
    "Taiwan (Chinese Taipei)": "TW",
}
_NO_ISO = {"Azores", "Madeira", "Canary Islands", "Channel Islands"}
_TERRITORY = re.compile(r"\s*\((?:U\.S\.|U\.K\.?|France|Netherlands?|Denmark|Portugal|Spain)\)$")


def _iso3(iso2: str) -> str:
    if iso2 == "XK":  # Kosovo: user-assigned codes, not in ISO 3166-1
        return "XKX"
    country = pycountry.countries.get(alpha_2=iso2) if iso2 else None
    return country.alpha_3 if country else ""


def ifi_iso2(name: str) -> str:
    """ISO 3166-1 alpha-2 of an IFI country name ("" for regions and parts of countries):
    ``"Virgin Islands (U.S.)"`` → ``"VI"``, ``"Anguilla (U.K.)"`` → ``"AI"``."""
    name = " ".join(name.split())
    if name in IFI_ALIASES:
        return IFI_ALIASES[name]
    bare = _TERRITORY.sub("", name)
    if bare in _NO_ISO:
        return ""
    return IFI_ALIASES.get(bare) or to_iso2(name) or to_iso2(bare) or ""


# --- Ember -----------------------------------------------------------------------------


def read_ember(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read Ember's annual average intensities (co2.js ``average-intensities.json``).

    ``data`` has :data:`EMBER_COLUMNS`: ``code`` (the JSON key: ISO3 code or region name),
    ``iso2`` ("" for regions), ``name``, ``year`` int64 (each row's own latest year),
    ``intensity_g_per_kwh`` float64 [gCO2eq/kWh, life-cycle], ``is_region`` bool,
    ``source_line`` (line of the key in the file). An entry without a numeric intensity
    or year gives a :class:`RowError`. ``meta["years"]`` counts rows per year.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    try:
        text = path.read_text(encoding="utf-8")
        loaded = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(path, f"not JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise IngestError(f"{path}: expected an object keyed by country code")
    lines = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r'^\s{0,2}"([^"]+)":\s*\{', line)
        if match:
            lines.setdefault(match.group(1), number)
    rows, errors = [], []
    for key, entry in loaded.items():
        line = lines.get(key)
        if not isinstance(entry, dict):
            errors.append(
                RowError(line, "intensity_g_per_kwh", str(entry), "entry is not an object")
            )
            continue
        value, year = entry.get("emissions_intensity_gco2_per_kwh"), entry.get("year")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            errors.append(
                RowError(line, "intensity_g_per_kwh", str(value), "intensity must be a number >= 0")
            )
            continue
        if isinstance(year, bool) or not isinstance(year, int):
            errors.append(RowError(line, "year", str(year), "year must be a whole number"))
            continue
        code = str(entry.get("country_code") or "")
        country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
        rows.append(
            {
                "code": key,
                "iso2": country.alpha_2 if country else "",
                "name": str(entry.get("country_or_region") or key),
                "year": year,
                "intensity_g_per_kwh": float(value),
                "is_region": not code,
                "source_line": line or 0,
            }
        )
    data = pd.DataFrame(rows, columns=EMBER_COLUMNS).astype(
        {
            "year": np.int64,
            "intensity_g_per_kwh": np.float64,
            "is_region": bool,
            "source_line": np.int64,
        }
    )
    meta = {
        "source": SOURCE_EMBER,
        "path": str(path),
        "format": "json",
        "unit": "gCO2eq/kWh",
        "years": {int(y): int(c) for y, c in data["year"].value_counts().sort_index().items()},
        "rows_read": len(loaded),
        "rows_accepted": len(data),
        "rows_rejected": len(loaded) - len(data),
        "errors": errors,
    }
    return data, meta


# --- IFI -------------------------------------------------------------------------------


def read_ifi(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read the IFI harmonised default grid factors (CSV with a three-row header).

    The header rows are found by the cell "Country / Territory / Island"; the value
    columns by their header words (:data:`IFI_VALUES`), so the reader checks the layout
    instead of trusting column positions. A row whose first cell is empty, or whose value
    cells are all empty (the footnotes "Note 1: …"), is not data: its text goes to
    ``meta["notes"]``. ``data`` has :data:`IFI_COLUMNS` [gCO2/kWh]; ``name`` as published
    (outer spaces trimmed), ``iso2``/``iso3`` ("" for regions and parts of countries, see
    :data:`IFI_ALIASES`), ``is_region`` for the "Memo: EU 27" row.
    """
    table = load_table(path)
    frame = table.frame
    first = frame[0].str.strip()
    header_rows = np.flatnonzero(first.to_numpy() == IFI_HEADER_CELL)
    if not len(header_rows):
        raise IngestError(f"{path}: no header cell {IFI_HEADER_CELL!r}; not the IFI layout")
    start = int(header_rows[0]) + 1
    titles = [table.headers, *frame.iloc[:start].to_numpy().tolist()]
    width = frame.shape[1]
    joined = [" ".join(" ".join(str(row[i]) for row in titles).split()) for i in range(width)]
    columns: dict[str, int] = {}
    for name, words in IFI_VALUES:
        found = [i for i, text in enumerate(joined) if words in text]
        if not found:
            raise IngestError(f"{path}: no column headed {words!r}; not the IFI layout")
        columns[name] = found[0]
    body = frame.iloc[start:]
    lines = table.lines[start:]
    names = body[0].str.strip()
    values = {name: body[i].astype(str).str.strip() for name, i in columns.items()}
    any_value = np.zeros(len(body), dtype=bool)
    for text in values.values():
        any_value |= (text != "").to_numpy()
    is_data = (names != "").to_numpy() & any_value
    notes = [" ".join(n.split()) for n in names[~is_data & (names != "").to_numpy()]]
    errors = list(table.errors)
    reject = ~is_data
    data = pd.DataFrame({"name": names})
    for name, text in values.items():
        number, empty, bad = parse_numbers(text, "point")
        for mask, reason in ((empty & is_data, "value is empty"), (bad & is_data, "not a number")):
            for i in np.flatnonzero(mask):
                errors.append(RowError(int(lines[i]), name, str(text.iloc[i]), reason))
        reject |= (empty | bad) & is_data
        data[name] = number
    data["is_region"] = data["name"].str.startswith("Memo").to_numpy()
    data["iso2"] = [
        ("" if region else ifi_iso2(n))
        for n, region in zip(data["name"], data["is_region"], strict=True)
    ]
    data["iso3"] = data["iso2"].map(_iso3)
    data["source_line"] = lines.astype(np.int64)
    data = data.loc[~reject, IFI_COLUMNS].reset_index(drop=True)
    rows_read = int(is_data.sum()) + len(table.errors)
    errors.sort(key=lambda e: e.line or 0)
    meta = {
        "source": SOURCE_IFI,
        **table.meta,
        "unit": "gCO2/kWh",
        "header_lines": int(table.lines[start - 1]) if start else 1,
        "columns": {name: joined[i] for name, i in columns.items()},
        "notes": notes,
        "without_iso": sorted(data.loc[(data["iso2"] == "") & ~data["is_region"], "name"]),
        "rows_read": rows_read,
        "rows_accepted": len(data),
        "rows_rejected": rows_read - len(data),
        "errors": errors,
    }
    return data, meta


def read_grid_averages(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """:func:`read_ember` for a ``.json`` file, :func:`read_ifi` otherwise."""
    return read_ember(path) if Path(path).suffix.lower() == ".json" else read_ifi(path)
