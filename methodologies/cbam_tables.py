"""The official CBAM tables bundled with the engine, and lookups in them.

Which versions (docs/official-tables.md; ``methodologies/data/README.md``):

- **IR 2025/2621** (default values), as published in the Official Journal on
  31 December 2025, with no later correction (the platform does not have the text of
  any, e.g. IR 2026/1740, and applies none):
  - Annex I through ``methodologies.cbam_default`` (the country default values);
  - **Annex II** (:func:`grid_factor`): the default emission factor of a country's
    electricity [tCO2e/MWh], for the indirect emissions of goods listed in Annex I of
    Reg. (EU) 2023/956 and NOT in its Annex II (cement, fertilisers, sintered ore
    2601 12 00, the ferro-alloys 7202 and 7204); IR 2025/2621 Art. 1(3), Reg. 2023/956
    Art. 7(4) and Annex IV pt 4.3.  A country not listed takes "Other countries and
    territories" (IR 2025/2621 Annex I, heading note, applied alike to Annex II);
  - **Annex III** (:func:`imported_electricity_factor`): the default emission factor of
    electricity imported into the Union (CN 2716 00 00) [tCO2e/MWh]; IR 2025/2621
    Art. 1(4), Reg. 2023/956 Art. 7(3).  A country not listed takes the Union's factor
    (Reg. 2023/956 Annex IV pt 4.2.2, "alternative default values");
  - **Annex IV** (:func:`unknown_origin_precursor_default`): the default value of a
    precursor whose country of production cannot be identified, the highest default of
    any third country (recital 9), with the mark-ups of 2026, 2027 and 2028 on;
    IR 2025/2621 Art. 1(5).
- **IR 2025/2620** (free allocation adjustment): the CBAM benchmarks BM_g of its Annex,
  column A (goods declared with actual data) and column B (default values), by CN code
  and production route (:func:`benchmark`), from the Commission's workbook (version 1).

Annexes II and III come from IEA data under CC BY-NC-SA 4.0, "intended for the purpose
of determining embedded emissions of CBAM goods under the CBAM Regulation"; their file
carries that notice (:data:`IEA_LICENCE_NOTICE`) and nothing else is stored in it.

Every lookup returns a :class:`TableValue` with its citation and the row it came from,
and raises :class:`TableLookupError` (naming the table, the key and the reason) when the
table has no answer.  Tables are read once and cached.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from methodologies.cbam_goods import is_eu_origin, normalise_cn_code, normalise_origin
from methodologies.errors import MethodologyError

DATA = Path(__file__).parent / "data"
ELECTRICITY_FILE = DATA / "cbam_electricity_factors_IR2025-2621.json"
PRECURSOR_FILE = DATA / "cbam_precursor_defaults_unknown_origin_IR2025-2621.csv"
BENCHMARK_FILE = DATA / "cbam_benchmarks_IR2025-2620.csv"

IR_2621 = "Commission Implementing Regulation (EU) 2025/2621 (OJ L, 31.12.2025), as published"
SOURCE_ANNEX_II = f"{IR_2621}, Annex II"
SOURCE_ANNEX_III = f"{IR_2621}, Annex III"
SOURCE_ANNEX_IV = f"{IR_2621}, Annex IV"
SOURCE_BENCHMARKS = (
    "Commission Implementing Regulation (EU) 2025/2620, Annex (CBAM benchmarks), "
    "Commission workbook version 1"
)
VALID_FROM = "2026-01-01"
OTHER = "OTHER"
EU = "EU"
COLUMNS = {"A": "actual data", "B": "default values"}

#: Countries whose goods are outside CBAM (Reg. 2023/956 Art. 2 and Annex III pt 1).
EXEMPT_ORIGINS = frozenset({"IS", "LI", "NO", "CH"})

#: Mark-up years of Annex IV; 2028 stands for "2028 and onwards".
_ANNEX_IV_KEYS = {2026: "dv_2026_t_per_t", 2027: "dv_2027_t_per_t", 2028: "dv_2028_onwards_t_per_t"}


class TableLookupError(MethodologyError):
    """A bundled official table has no answer for a key (names table, key and reason)."""

    def __init__(self, table: str, key: str, reason: str) -> None:
        self.table = table
        self.key = key
        self.reason = reason
        super().__init__(f"{table}: {key}: {reason}")


@dataclass(frozen=True)
class TableValue:
    """One value read from an official table, with where it came from.

    ``row`` names the row (country or CN code, column, route) as the table prints it;
    ``fallback`` is true when the key's own row was missing and a fallback row answered
    (Other countries and territories, or the Union's factor).
    """

    value: float
    unit: str
    source: str
    row: str
    fallback: bool = False
    valid_from: str = VALID_FROM

    def as_factor(self, name: str) -> dict[str, Any]:
        """The value as a trace factor item (``methodologies.trace.factor_item`` shape)."""
        return {
            "name": name,
            "value": self.value,
            "unit": self.unit,
            "source": f"{self.source}; {self.row}",
            "valid_from": self.valid_from,
            "valid_to": None,
        }


# --------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def _electricity() -> dict[str, Any]:
    return json.loads(ELECTRICITY_FILE.read_text(encoding="utf-8"))


def _by_iso(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["iso2"]: row for row in rows}


@lru_cache(maxsize=1)
def _annex_ii() -> dict[str, dict[str, Any]]:
    return _by_iso(_electricity()["annex_ii"])


@lru_cache(maxsize=1)
def _annex_iii() -> dict[str, dict[str, Any]]:
    return _by_iso(_electricity()["annex_iii"])


@lru_cache(maxsize=1)
def _annex_iv() -> tuple[dict[str, str], ...]:
    with PRECURSOR_FILE.open(newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


@lru_cache(maxsize=1)
def _benchmarks() -> tuple[dict[str, str], ...]:
    with BENCHMARK_FILE.open(newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def iea_licence_notice() -> str:
    """The IEA licence notice IR 2025/2621 prints above Annexes II and III."""
    return str(_electricity()["licence_notice"])


def annex_ii_rows() -> list[dict[str, Any]]:
    """All rows of Annex II: ``country`` (as printed), ``iso2``, ``ef_t_per_mwh``."""
    return [dict(row) for row in _electricity()["annex_ii"]]


def annex_iii_rows() -> list[dict[str, Any]]:
    """All rows of Annex III: ``country`` (as printed), ``iso2``, ``ef_t_per_mwh``."""
    return [dict(row) for row in _electricity()["annex_iii"]]


def annex_iv_rows() -> list[dict[str, str]]:
    """All rows of Annex IV, as in its CSV (values as printed, 3 decimals)."""
    return [dict(row) for row in _annex_iv()]


def benchmark_rows() -> list[dict[str, str]]:
    """All rows of the IR 2025/2620 benchmark table, one per (CN code, column, route)."""
    return [dict(row) for row in _benchmarks()]


# --------------------------------------------------------------------------- lookups


def _third_country(origin: str, table: str) -> str:
    code = normalise_origin(origin)
    if is_eu_origin(code) or code in EXEMPT_ORIGINS:
        raise TableLookupError(
            table,
            f"origin {code}",
            "goods from the EU or from a country of Reg. 2023/956 Annex III pt 1 are not "
            "CBAM imports and have no default value",
        )
    return code


def grid_factor(origin: str) -> TableValue:
    """EF_el [tCO2e/MWh] of IR 2025/2621 Annex II for a country of production: the
    default factor for the indirect emissions of a good not listed in Annex II of
    Reg. 2023/956 (IR 2025/2621 Art. 1(3); Reg. 2023/956 Art. 7(4), Annex IV pt 4.3).
    A country Annex II does not list takes "Other countries and territories"."""
    code = _third_country(origin, "IR 2025/2621 Annex II")
    rows = _annex_ii()
    row, fallback = (rows[code], False) if code in rows else (rows[OTHER], True)
    return TableValue(
        float(row["ef_t_per_mwh"]), "tCO2e/MWh", SOURCE_ANNEX_II, row["country"], fallback
    )


def imported_electricity_factor(origin: str) -> TableValue:
    """EF [tCO2e/MWh] of IR 2025/2621 Annex III for electricity imported from a country
    (IR 2025/2621 Art. 1(4); Reg. 2023/956 Art. 7(3), Annex IV pt 4.2).  A country Annex
    III does not list takes the Union's factor, the "alternative default value" of
    Reg. 2023/956 Annex IV pt 4.2.2."""
    code = _third_country(origin, "IR 2025/2621 Annex III")
    rows = _annex_iii()
    row, fallback = (rows[code], False) if code in rows else (rows[EU], True)
    return TableValue(
        float(row["ef_t_per_mwh"]), "tCO2e/MWh", SOURCE_ANNEX_III, row["country"], fallback
    )


def _most_specific(rows: list[dict[str, str]], cn: str, table: str) -> list[dict[str, str]]:
    """Rows of the most specific CN code that is ``cn`` or a prefix of it (8, 6, 4)."""
    for length in (8, 6, 4):
        if length > len(cn):
            continue
        hit = [r for r in rows if r["cn_code"] == cn[:length]]
        if hit:
            return hit
    raise TableLookupError(table, f"cn_code {cn}", "no row for this CN code or its heading")


def unknown_origin_precursor_default(
    cn_code: str, year: int, variant: str | None = None
) -> dict[str, TableValue]:
    """IR 2025/2621 Annex IV: the default value [tCO2e/t] of a precursor whose country of
    production cannot be identified (Art. 1(5); recital 9: the highest default value of
    any third country), as ``{"highest": …, "marked_up": …}`` where ``marked_up`` is the
    printed value with the mark-up of ``year`` (2028 and later take the 2028 column).
    ``variant`` picks among rows sharing a CN code (grey or white clinker or hydraulic
    cement) by its description; without it such a code is an error, never a guess."""
    table = "IR 2025/2621 Annex IV"
    cn = normalise_cn_code(cn_code)
    if year < 2026:
        raise TableLookupError(table, f"year {year}", "Annex IV applies from 2026")
    rows = _most_specific(list(_annex_iv()), cn, table)
    if variant is not None:
        rows = [r for r in rows if variant.strip().lower() in r["description"].lower()]
    if len(rows) != 1:
        found = "; ".join(r["description"] for r in _most_specific(list(_annex_iv()), cn, table))
        raise TableLookupError(
            table, f"cn_code {cn}", f"several rows ({found}): give the variant of the good"
        )
    row = rows[0]
    label = f"CN {row['cn_code_as_published']} {row['description']}"
    key = _ANNEX_IV_KEYS[min(year, 2028)]
    return {
        "highest": TableValue(
            float(Decimal(row["highest_default_t_per_t"])), "tCO2e/t", SOURCE_ANNEX_IV, label
        ),
        "marked_up": TableValue(
            float(Decimal(row[key])), "tCO2e/t", SOURCE_ANNEX_IV, f"{label}, {year} mark-up"
        ),
    }


def annex_iv_route(cn_code: str, variant: str | None = None) -> str:
    """The production-route letter Annex IV gives a CN line ("" when the benchmark does
    not depend on the route): the route of its column-B benchmark."""
    cn = normalise_cn_code(cn_code)
    rows = _most_specific(list(_annex_iv()), cn, "IR 2025/2621 Annex IV")
    if variant is not None:
        rows = [r for r in rows if variant.strip().lower() in r["description"].lower()] or rows
    return rows[0]["route_flag"]


def _route_matches(printed: str, route: str) -> bool:
    """``route`` ("C", "F(1)", "1") against a printed indicator ("(C)", "(F)(1)", "(1)")."""
    compact = printed.replace(" ", "")
    wanted = route.strip().upper()
    if compact.upper() == wanted or compact.upper() == f"({wanted})":
        return True
    if "(" not in wanted:  # a bare letter or number matches the first part
        return compact.upper().startswith(f"({wanted})")
    letter, rest = wanted.split("(", 1)
    return compact.upper() == f"({letter})({rest}"


def benchmark(cn_code: str, column: str, route: str | None = None) -> TableValue:
    """BM_g [tCO2e/t] of IR 2025/2620, column A (goods declared with actual data) or B
    (default values; it includes the precursors), for an 8-digit CN code and, where the
    benchmark depends on it, the production route (the letter IR 2025/2621 Annex I
    gives the default value's row, e.g. "C", or an indicator as printed, "F(1)", "2").

    A code with one row in that column needs no route (a given route is then ignored:
    the benchmark does not depend on it).  A code with several rows needs a route that
    picks exactly one; otherwise the error lists the routes there are."""
    table = "IR 2025/2620 benchmarks"
    if column not in COLUMNS:
        raise TableLookupError(table, f"column {column!r}", "expected 'A' or 'B'")
    cn = normalise_cn_code(cn_code)
    if len(cn) != 8:
        raise TableLookupError(table, f"cn_code {cn}", "benchmarks are per 8-digit CN code")
    rows = [r for r in _benchmarks() if r["cn_code"] == cn and r["column"] == column]
    if not rows:
        raise TableLookupError(table, f"cn_code {cn}", "no benchmark for this CN code")
    if len(rows) > 1:
        routes = ", ".join(r["route"] or "(none)" for r in rows)
        if not route:
            raise TableLookupError(
                table, f"cn_code {cn} column {column}", f"several routes ({routes}): give one"
            )
        picked = [r for r in rows if _route_matches(r["route"], route)]
        if len(picked) != 1:
            raise TableLookupError(
                table,
                f"cn_code {cn} column {column} route {route!r}",
                f"{'no' if not picked else 'more than one'} row matches; routes: {routes}",
            )
        rows = picked
    row = rows[0]
    label = f"CN {cn}, column {column}" + (f", route {row['route']}" if row["route"] else "")
    return TableValue(float(row["bm_t_per_t"]), "tCO2e/t", SOURCE_BENCHMARKS, label)
