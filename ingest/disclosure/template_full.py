"""Reader of the whole CBAM communication template (every part an operator fills in).

:mod:`ingest.disclosure.cbam_template` reads only ``Summary_Products``; this module reads
the sheets behind it, so that the platform can recompute each product's specific
embedded emissions (SEE) from the operator's own inputs (docs/official-formats.md,
"Reading the whole template"):

- ``0_Versions``: the template version (the last version of its history table, column E
  from row 9). Only :data:`SUPPORTED_VERSIONS` are read; another is refused naming it.
- ``A_InstData``: reporting period (I9, L9), the installation (rows 19–32, labels in
  column E, values in column I), the production processes (rows 83–92: aggregated good in
  E, name in L) and the purchased precursors (rows 102–121: category in E, country in F,
  name in L).
- ``B_EmInst``: source streams (section (a), header row with "Method", "Source stream
  name", "Activity data (AD)" …; each stream's stated emissions in column AU, biomass in
  AV), PFC emissions (section (b)) and emission sources (section (c): N2O and CO2 measured):
  the rows numbered in column C ("Ex." rows are the template's examples).
- ``C_Emissions&Energy``: the energy balance as labelled rows (label in E, unit in K,
  value in L …); kept as label → cells for the reviewer.
- ``D_Processes``: per production process (blocks opening with "Production process N:"),
  the template's own markers in column R name the rows: ``TotProd_`` (activity level,
  L), ``ToMarket_``, ``PrecToGood_<process>_<consumer>`` (tonnes consumed in another
  process, consumer in E, amount in L), ``EmDir_`` (DirEm, L), ``EmDirHeat_`` (heat
  imported/exported: TJ on the row above, EF on the marker row, in L and M),
  ``EmDirWG_`` (waste gas, likewise), ``ElecCons_`` (MWh, L; EF on the next row; source
  of the EF on the row after), and section (k) electricity exported (MWh and EF).
- ``E_PurchPrec``: per purchased precursor, ``TotProd_``, ``PrecToGood_<name>_<process>``
  (consumer in E, amount in L), ``PurchPrecDef_`` (SEE direct, L), ``ElecCons_``
  (MWh/t, L), the EF on the next row and the SEE indirect two rows below.
- ``Summary_Products``: through :func:`ingest.disclosure.cbam_template.read_cbam_template`.

Values are the workbook's cached results (openpyxl ``data_only``): a formula cell that was
never calculated has no cached value, and where the template needs one (an activity
level, DirEm) the reader says so naming the cell instead of reading a blank as zero.
Rows and columns marked ``ausblenden`` (the template's helper rows) are not read.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ingest.base import IngestError, RowError, UnreadableFile
from ingest.disclosure.cbam_template import HIDE_MARKER, _text, read_cbam_template
from ingest.disclosure.safety import check_file

#: Template versions whose layout this reader knows (the Commission's v2.1 examples and
#: the blank v2.1.1 of 2024-12-13).
SUPPORTED_VERSIONS = ("2.1", "2.1.1")
SHEETS = (
    "0_Versions",
    "A_InstData",
    "B_EmInst",
    "C_Emissions&Energy",
    "D_Processes",
    "E_PurchPrec",
    "Summary_Products",
    "Parameters_CNCodes",
)
MAX_ROWS = 1200  # the template's longest input sheet (E_PurchPrec) has 897
MAX_COLS = 60  # B_EmInst's data ends at column AZ; helpers beyond are not read

_INSTALLATION_LABELS = {
    "name of the installation (optional)": "name_local",
    "name of the installation (english name)": "name",
    "street, number": "street",
    "economic activity": "economic_activity",
    "post code": "post_code",
    "p.o. box": "po_box",
    "city": "city",
    "country": "country",
    "unlocode": "unlocode",
    "name of authorized representative": "representative",
    "email": "email",
    "telephone": "telephone",
}


class TemplateVersionError(IngestError):
    """A communication template of a version whose layout the reader does not know."""


class NotAFullTemplate(UnreadableFile):
    """A workbook without the template's input sheets (a summary sheet alone, say)."""


class TemplateValueError(IngestError):
    """A value the recomputation needs is missing or not a number (cell named)."""


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?", text):
        return float(text.replace(",", "."))
    return None


class _Sheet:
    """A sheet's cached values as a grid, with A1 names for messages."""

    def __init__(self, name: str, rows: list[tuple]) -> None:
        self.name = name
        self.rows = rows
        self.hidden = {
            r for r, row in enumerate(rows) if row and _text(row[0]).lower() == HIDE_MARKER
        }

    def get(self, r: int, c: int) -> Any:
        """Value at 1-based row ``r``, 1-based column ``c``."""
        if r - 1 >= len(self.rows):
            return None
        row = self.rows[r - 1]
        return row[c - 1] if c - 1 < len(row) else None

    def ref(self, r: int, c: int) -> str:
        return f"{self.name}!{get_column_letter(c)}{r}"

    def visible_rows(self):
        for i, row in enumerate(self.rows):
            if i not in self.hidden:
                yield i + 1, row


# Columns (1-based) of the template's layout.
C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R = range(3, 19)  # noqa: E741
S, T = 19, 20


def _load(path: Path) -> dict[str, _Sheet]:
    from openpyxl import load_workbook

    kind = check_file(path)
    if kind != "xlsx":
        raise UnreadableFile(path, f"a CBAM communication template is an XLSX, not {kind}")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(path, f"not a readable XLSX workbook ({exc})") from exc
    try:
        missing = [name for name in SHEETS if name not in workbook.sheetnames]
        if missing:
            raise NotAFullTemplate(
                path,
                "not a CBAM communication template: no sheet "
                + ", ".join(repr(m) for m in missing),
            )
        sheets = {}
        for name in SHEETS:
            sheet = workbook[name]
            sheet.reset_dimensions()
            rows = [
                tuple(row)
                for row in itertools.islice(
                    sheet.iter_rows(values_only=True, max_col=MAX_COLS), MAX_ROWS
                )
            ]
            sheets[name] = _Sheet(name, rows)
        return sheets
    finally:
        workbook.close()


def template_version(sheet: _Sheet) -> str:
    """The last version listed in ``0_Versions`` (column E from row 9)."""
    found = ""
    for r in range(9, len(sheet.rows) + 1):
        text = _text(sheet.get(r, E))
        if re.fullmatch(r"\d+(?:\.\d+)*", text):
            found = text
    return found


def read_template_full(path: str | Path) -> dict:
    """Read every part of a CBAM communication template an operator fills in.

    Returns ``{"version", "installation", "period", "source_streams", "pfc",
    "emission_sources", "energy", "processes", "purchased_precursors", "products",
    "errors"}``; each number keeps its cell (``"cells"``). Raises
    :class:`TemplateVersionError` for a version not in :data:`SUPPORTED_VERSIONS`,
    :class:`UnreadableFile` for a workbook that is not a template.
    """
    path = Path(path)
    sheets = _load(path)
    version = template_version(sheets["0_Versions"])
    if version not in SUPPORTED_VERSIONS:
        raise TemplateVersionError(
            f"{path.name}: 0_Versions: template version {version or '(none found)'} is not "
            f"supported; the platform reads versions {', '.join(SUPPORTED_VERSIONS)}"
        )
    errors: list[RowError] = []
    a = sheets["A_InstData"]
    installation = _installation(a)
    period = {
        "start": _date(a.get(9, I)),
        "end": _date(a.get(9, L)),
        "cells": {"start": a.ref(9, I), "end": a.ref(9, L)},
    }
    streams, pfc, sources = _emissions(sheets["B_EmInst"], errors)
    processes = _processes(sheets["D_Processes"], a, errors)
    purchased = _purchased(sheets["E_PurchPrec"], a, errors)
    products, meta = read_cbam_template(path)
    errors.extend(meta["errors"])
    return {
        "path": str(path),
        "version": version,
        "installation": installation,
        "period": period,
        "source_streams": streams,
        "pfc": pfc,
        "emission_sources": sources,
        "energy": _labelled(sheets["C_Emissions&Energy"]),
        "processes": processes,
        "purchased_precursors": purchased,
        "cn_codes": _cn_codes(sheets["Parameters_CNCodes"]),
        "products": [
            {k: (None if _isnan(v) else v) for k, v in row.items() if k != "raw"}
            for row in products.to_dict("records")
        ],
        "errors": errors,
    }


def _cn_codes(sheet: _Sheet) -> dict[str, list[str]]:
    """The template's own CN code list (``Parameters_CNCodes``: 8-digit code in D, its
    aggregated goods category in E): category → codes in the template's order."""
    out: dict[str, list[str]] = {}
    for r in range(4, len(sheet.rows) + 1):
        code, category = _text(sheet.get(r, D)), _text(sheet.get(r, E))
        if re.fullmatch(r"\d{8}", code) and category:
            out.setdefault(category, []).append(code)
    return out


def _isnan(value: object) -> bool:
    return isinstance(value, float) and value != value


def _date(value: object) -> str:
    if hasattr(value, "date"):
        return value.date().isoformat()
    return _text(value)


def _installation(a: _Sheet) -> dict:
    out: dict[str, Any] = {"cells": {}}
    for r in range(19, 33):
        label = _text(a.get(r, E)).rstrip(":").strip().lower()
        field = _INSTALLATION_LABELS.get(label)
        if field is None:
            continue
        out[field] = _text(a.get(r, I))
        out["cells"][field] = a.ref(r, I)
        if field == "country":
            out["country_code"] = _text(a.get(r, S))
    # rows 28 and 29: coordinates of the main emission source (latitude, longitude)
    for r, field in ((28, "latitude"), (29, "longitude")):
        text = _text(a.get(r, I))
        out[field] = _num(text.rstrip("°").strip()) if text else None
        out["cells"][field] = a.ref(r, I)
    return out


_STREAM_COLUMNS = {
    "method": D,
    "name": E,
    "ad": F,
    "ad_unit": G,
    "ncv": H,
    "ncv_unit": I,
    "ef": J,
    "ef_unit": K,
    "carbon_content": L,
    "carbon_content_unit": M,
    "oxidation_factor": N,
    "oxidation_factor_unit": O,
    "conversion_factor": P,
    "conversion_factor_unit": Q,
    "biomass_content": R,
    "biomass_content_unit": S,
}
_EM_FOSSIL, _EM_BIO = 47, 48  # AU, AV: the template's CO2e (fossil) and biomass result


def _emissions(b: _Sheet, errors: list[RowError]):
    """Source streams (a), PFC (b), emission sources (c): the numbered rows of each."""
    sections: dict[str, list[dict]] = {"a": [], "b": [], "c": []}
    current = None
    for r, _row in b.visible_rows():
        mark = _text(b.get(r, C))
        if mark in ("(a)", "(b)", "(c)"):
            current = mark[1]
            continue
        if current is None or not re.fullmatch(r"\d+", mark):
            continue
        name = _text(b.get(r, E))
        method = _text(b.get(r, D))
        ad = b.get(r, F)
        if not name and not method and ad in (None, ""):
            continue
        item: dict[str, Any] = {"row": r, "cells": {}}
        for field, c in _STREAM_COLUMNS.items():
            value = b.get(r, c)
            if field.endswith("unit") or field in ("method", "name"):
                item[field] = _text(value)
            else:
                item[field] = _num(value)
                if value not in (None, "") and item[field] is None:
                    errors.append(RowError(r, field, _text(value), f"{b.ref(r, c)}: not a number"))
            item["cells"][field] = b.ref(r, c)
        item["stated_emissions_t"] = _num(b.get(r, _EM_FOSSIL))
        item["stated_biomass_emissions_t"] = _num(b.get(r, _EM_BIO))
        item["cells"]["stated_emissions_t"] = b.ref(r, _EM_FOSSIL)
        sections[current].append(item)
    return sections["a"], sections["b"], sections["c"]


def _labelled(sheet: _Sheet) -> list[dict]:
    """Rows of an input sheet that carry a label in E and a number in L (the energy balance
    of ``C_Emissions&Energy``): label, unit (K) and the numbers of columns L–O."""
    out = []
    for r, _row in sheet.visible_rows():
        label = _text(sheet.get(r, E))
        if not label:
            continue
        numbers = {
            get_column_letter(c): _num(sheet.get(r, c))
            for c in (L, M, N, O)
            if _num(sheet.get(r, c)) is not None
        }
        if numbers:
            out.append(
                {"row": r, "label": label, "unit": _text(sheet.get(r, K)), "values": numbers}
            )
    return out


def _blocks(sheet: _Sheet, opening: re.Pattern) -> list[tuple[int, int]]:
    """(first, last) 1-based rows of each block whose column D matches ``opening``."""
    starts = [r for r in range(1, len(sheet.rows) + 1) if opening.match(_text(sheet.get(r, D)))]
    return [
        (s, (starts[i + 1] - 1) if i + 1 < len(starts) else len(sheet.rows))
        for i, s in enumerate(starts)
    ]


def _marker_rows(sheet: _Sheet, first: int, last: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in range(first, last + 1):
        marker = _text(sheet.get(r, R))
        if "_" in marker:
            out.setdefault(marker.split("_", 1)[0], []).append(r)
    return out


def _need(sheet: _Sheet, r: int, c: int, what: str) -> float:
    value = sheet.get(r, c)
    number = _num(value)
    if number is None:
        reason = (
            "is empty (a formula without a cached value?)"
            if value in (None, "")
            else (f"is not a number ({_text(value)!r})")
        )
        raise TemplateValueError(f"{sheet.ref(r, c)} ({what}) {reason}")
    return number


def _opt(sheet: _Sheet, r: int, c: int) -> float:
    number = _num(sheet.get(r, c))
    return 0.0 if number is None else number


def _processes(d: _Sheet, a: _Sheet, errors: list[RowError]) -> list[dict]:
    category = {}
    for r in range(83, 93):
        name = _text(a.get(r, L))
        if name and name != "n.a.":
            category[name] = _text(a.get(r, E))
    out = []
    for first, last in _blocks(d, re.compile(r"Production process \d+:")):
        name = _text(d.get(first, G))
        if not name:
            continue
        marks = _marker_rows(d, first, last)
        tot = marks["TotProd"][0]
        em_dir = marks["EmDir"][0]
        heat = marks["EmDirHeat"][0]
        wg = marks["EmDirWG"][0]
        elec = marks["ElecCons"][0]
        export = next((r for r in range(elec, last + 1) if _text(d.get(r, D)) == "(k)"), None)
        consumed = []
        for r in marks.get("PrecToGood", []):
            to = _text(d.get(r, E))
            amount = _num(d.get(r, L))
            if to and amount:
                consumed.append({"to": to, "mass_t": amount, "cell": d.ref(r, L)})
        process = {
            "name": name,
            "aggregated_good": _text(d.get(first, L)) or category.get(name, ""),
            "activity_level_t": _need(d, tot, L, f"total production of {name}"),
            "to_market_t": _opt(d, marks["ToMarket"][0], L),
            "consumed_in": consumed,
            "direct_emissions_t": _need(d, em_dir, L, f"DirEm of {name}"),
            "heat_imported_tj": _opt(d, heat - 1, L),
            "heat_exported_tj": _opt(d, heat - 1, M),
            "heat_imported_ef_t_per_tj": _opt(d, heat, L),
            "heat_exported_ef_t_per_tj": _opt(d, heat, M),
            "waste_gas_imported_tj": _opt(d, wg - 1, L),
            "waste_gas_exported_tj": _opt(d, wg - 1, M),
            "electricity_mwh": _opt(d, elec, L),
            "electricity_ef_t_per_mwh": _opt(d, elec + 1, L),
            "electricity_ef_source": _text(d.get(elec + 2, L)),
            "electricity_exported_mwh": _opt(d, export + 1, L) if export else 0.0,
            "electricity_exported_ef_t_per_mwh": _opt(d, export + 2, L) if export else 0.0,
            "stated_direct_t": _num(d.get(em_dir, T)),
            "cells": {
                "activity_level_t": d.ref(tot, L),
                "direct_emissions_t": d.ref(em_dir, L),
                "heat": d.ref(heat - 1, L),
                "waste_gas": d.ref(wg - 1, L),
                "electricity_mwh": d.ref(elec, L),
                "electricity_ef_t_per_mwh": d.ref(elec + 1, L),
                "electricity_exported_mwh": d.ref(export + 1, L) if export else "",
            },
        }
        out.append(process)
    return out


def _purchased(e: _Sheet, a: _Sheet, errors: list[RowError]) -> list[dict]:
    listed = {}
    for r in range(102, 122):
        name = _text(a.get(r, L))
        if name and name != "n.a.":
            listed[name] = {
                "aggregated_good": _text(a.get(r, E)),
                "country": _text(a.get(r, F)),
                "cell": a.ref(r, F),
            }
    out = []
    for first, last in _blocks(e, re.compile(r"Purchased precursor \d+:")):
        name = _text(e.get(first, G))
        if not name:
            continue
        marks = _marker_rows(e, first, last)
        see_row = marks["PurchPrecDef"][0]
        elec = marks["ElecCons"][0]
        consumed = []
        for r in marks.get("PrecToGood", []):
            to = _text(e.get(r, E))
            amount = _num(e.get(r, L))
            if to and amount:
                consumed.append({"to": to, "mass_t": amount, "cell": e.ref(r, L)})
        info = listed.get(name, {})
        out.append(
            {
                "name": name,
                "aggregated_good": _text(e.get(first, L)) or info.get("aggregated_good", ""),
                "country": info.get("country", ""),
                "purchased_t": _opt(e, marks["TotProd"][0], L),
                "consumed_in": consumed,
                "see_direct_t_per_t": _need(e, see_row, L, f"SEE (direct) of {name}"),
                "see_direct_source": _text(e.get(see_row, M)),
                "electricity_mwh_per_t": _opt(e, elec, L),
                "electricity_ef_t_per_mwh": _opt(e, elec + 1, L),
                "see_indirect_t_per_t": _opt(e, elec + 2, L),
                "cells": {
                    "see_direct_t_per_t": e.ref(see_row, L),
                    "see_indirect_t_per_t": e.ref(elec + 2, L),
                    "country": info.get("cell", ""),
                },
            }
        )
    return out


def template_cn_categories(path: str | Path) -> dict[str, str]:
    """CN code (8 digits) → aggregated goods category, from a template's own CN list
    (``Parameters_CNCodes``): what the writer needs to place a good in the template."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook["Parameters_CNCodes"]
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True, max_col=6)]
    finally:
        workbook.close()
    by_category = _cn_codes(_Sheet("Parameters_CNCodes", rows))
    return {code: category for category, codes in by_category.items() for code in codes}
