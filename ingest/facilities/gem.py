"""Reader for Global Energy Monitor's plant trackers, as published (XLSX workbooks):

- the **Global Iron and Steel Tracker** (GIST, plant-level workbook): sheets ``Plant data``
  (one row per plant), ``Plant capacities and status`` (one row per plant *and status*: a
  plant whose furnaces are partly operating and partly announced has several rows) and
  ``Plant production`` (one row per plant and production type, years as columns);
- the **Global Cement and Concrete Tracker** (GCCT): sheet ``Plant Data`` (one row per plant).

Both are © Global Energy Monitor, CC BY 4.0 (stated in each workbook's ``About`` sheet);
:func:`read_gem` returns the release's citation line so every page can show it.

Output: ``(plants, meta)``. ``plants`` is a list of dicts, one per plant, keyed by GEM's
``Plant ID`` (``identifier``), with the fields of :data:`PLANT_FIELDS`. Units: capacities
and production in tonnes a year [t/a] (GIST publishes thousand tonnes, ``ttpa``, ×1000;
GCCT million tonnes, ×10⁶); coordinates in degrees WGS 84.

Quirks handled (data/README §9): ``unknown``, ``N/A``, ``n/a`` and empty cells are
"not known" (no value, no error); a number written as ``>0`` (positive, amount not
published) or any other non-number is a row error naming sheet, row, column and value, and
the plant is kept without that value; dates are a year, an ISO datetime or ``unknown``
(the year is kept); ``Coordinates`` is one ``"lat, lon"`` string; owners and parents
are ``"Name [49.0%]; Other [5.0%]; Third"`` lists (share kept as a fraction, or None).
A row whose plant id is empty is skipped silently when the whole row is empty (GCCT's
trailing rows), else it is a row error; a capacity or production row whose plant is not in
the plant sheet is a row error.

The workbook is checked before it is opened (``ingest.safety.check_xlsx``: the zip-bomb
and XML guards every XLSX reader of the project goes through), then read with
python-calamine, one pass per sheet, with the cell values openpyxl would give (the same
plants, rows and errors as openpyxl's read-only mode: tests/ingest/test_gem.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from ingest.base import RowError, UnreadableFile
from ingest.countries import to_iso2

SOURCE = "gem"
LICENCE = "CC BY 4.0"
STEEL, CEMENT = "gem_steel", "gem_cement"
#: Fields of each plant dict.
PLANT_FIELDS = (
    "identifier",
    "tracker",
    "name",
    "name_local",
    "other_names",
    "owner",
    "owner_local",
    "owners",
    "parent",
    "parents",
    "country",
    "subnational",
    "municipality",
    "latitude",
    "longitude",
    "coordinate_accuracy",
    "status",
    "start_year",
    "equipment",
    "routes",
    "capacities",
    "production",
    "plant_type",
    "production_type",
    "sfi_id",
    "wiki_url",
    "source_line",
)
MISSING = {"", "unknown", "n/a", "na", "none", "-", "not found"}
# Status words in order of precedence for a plant's single status (GIST gives one per row).
STATUS_ORDER = (
    "operating",
    "operating pre-retirement",
    "construction",
    "mothballed",
    "announced",
    "retired",
    "cancelled",
)
# GIST capacity columns → unit names [ttpa].
STEEL_CAPACITY = {
    "Nominal crude steel capacity (ttpa)": "crude_steel",
    "Nominal BOF steel capacity (ttpa)": "bof_steel",
    "Nominal EAF steel capacity (ttpa)": "eaf_steel",
    "Nominal OHF steel capacity (ttpa)": "ohf_steel",
    "Other/unspecified steel capacity (ttpa)": "other_steel",
    "Nominal iron capacity (ttpa)": "iron",
    "Nominal BF capacity (ttpa)": "bf_iron",
    "Nominal DRI capacity (ttpa)": "dri_iron",
    "Other/unspecified iron capacity (ttpa)": "other_iron",
}
# GIST production rows ("Type of production") → type names [ttpa].
STEEL_PRODUCTION = {
    "crude steel production (ttpa)": "crude_steel",
    "bof steel production (ttpa)": "bof_steel",
    "eaf steel production (ttpa)": "eaf_steel",
    "ohf steel production (ttpa)": "ohf_steel",
    "other/unknown steel production (ttpa)": "other_steel",
    "iron production (ttpa)": "iron",
    "bf iron production (ttpa)": "bf_iron",
    "dri iron production (ttpa)": "dri_iron",
    "other/unknown iron production (ttpa)": "other_iron",
}
CEMENT_CAPACITY = {
    "Cement Capacity (millions metric tonnes per annum)": "cement",
    "Clinker Capacity (millions metric tonnes per annum)": "clinker",
}
# GCCT plant type → routes (a grinding plant has no kiln: it grinds bought clinker).
CEMENT_ROUTES = {
    "integrated": ["cement"],
    "clinker only": ["cement"],
    "grinding": ["cement_grinding"],
}
_SHARE = re.compile(r"^(?P<name>.*?)\s*\[(?P<pct>[0-9.]+)\s*%\]\s*$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})(\.0)?(-[0-9]{2}(-[0-9]{2})?.*)?$")


class _Sheet:
    """Rows of one sheet as ``(row number, {header: value})``."""

    def __init__(self, workbook, name: str) -> None:
        self.name = name
        self.sheet = workbook[name]

    def rows(self) -> Iterator[tuple[int, dict]]:
        rows = self.sheet.iter_rows(values_only=True)
        headers = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for number, row in enumerate(rows, start=2):
            if not any(v is not None and str(v).strip() for v in row):
                continue
            yield number, {h: v for h, v in zip(headers, row, strict=False) if h}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _known(value: object) -> str:
    """The cell as text, or "" when it says "not known"."""
    text = _text(value)
    return "" if text.lower() in MISSING else text


class _Errors(list):
    def add(self, line: int, sheet: str, column: str, value: object, reason: str) -> None:
        self.append(RowError(line, column, _text(value)[:200], f"sheet {sheet!r}: {reason}"))


def _number(value: object, errors: _Errors, line: int, sheet: str, column: str) -> float | None:
    """A non-negative number, None when not known; a row error (and None) otherwise."""
    if isinstance(value, bool):
        value = _text(value)
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _known(value)
        if not text:
            return None
        if not _NUMBER.match(text):
            reason = (
                "'>0' gives no amount (positive but unpublished); kept the plant without it"
                if text.replace(" ", "") == ">0"
                else f"'{text}' is not a number; kept the plant without it"
            )
            errors.add(line, sheet, column, value, reason)
            return None
        number = float(text)
    if number < 0:
        errors.add(line, sheet, column, value, "a negative amount; kept the plant without it")
        return None
    return number


def _year(value: object, errors: _Errors, line: int, sheet: str, column: str) -> int | None:
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 1000 <= value <= 2100:
            return int(value)
    text = _known(value)
    if not text or text.lower() == "cancelled":
        return None
    match = _YEAR.match(text)
    if match:
        return int(match.group(1))
    errors.add(line, sheet, column, value, f"'{text}' is not a year or a date")
    return None


def stakes(text: str) -> list[dict]:
    """``"A [49.0%]; B [5%]; C"`` → ``[{"name": "A", "share": 0.49}, …, {"name": "C",
    "share": None}]``; "unknown" entries are kept (a share held by someone unnamed)."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        match = _SHARE.match(part)
        if match:
            share = round(float(match.group("pct")) / 100.0, 6)
            out.append({"name": match.group("name").strip(), "share": share})
        else:
            out.append({"name": part, "share": None})
    return out


def _coordinates(
    value: object, errors: _Errors, line: int, sheet: str
) -> tuple[float | None, float | None]:
    text = _known(value)
    if not text:
        return None, None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
        errors.add(line, sheet, "Coordinates", value, "expected 'latitude, longitude'")
        return None, None
    lat, lon = float(parts[0]), float(parts[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors.add(line, sheet, "Coordinates", value, "latitude or longitude out of range")
        return None, None
    return lat, lon


def _country(value: object, errors: _Errors, line: int, sheet: str, column: str) -> str:
    text = _known(value)
    if not text:
        errors.add(line, sheet, column, value, "no country")
        return ""
    iso = to_iso2(text)
    if not iso:
        errors.add(line, sheet, column, value, f"unknown country '{text}'")
        return ""
    return iso


def steel_routes(equipment: list[str]) -> list[str]:
    """Production routes of a GIST ``Main production equipment`` list.

    A BOF needs hot metal, so a plant with a BOF runs the ``bf_bof`` route; an EAF with a DRI
    module runs ``dri_eaf``; an EAF without one melts scrap (``scrap_eaf``). A plant may run
    several (``BF; BOF; EAF`` → ``bf_bof``, ``scrap_eaf``). Iron-only plants (``BF``,
    ``DRI``) make a precursor and get no steel route; their equipment is kept."""
    kit = {e.upper() for e in equipment}
    routes = []
    if "BOF" in kit:
        routes.append("bf_bof")
    if "EAF" in kit:
        routes.append("dri_eaf" if "DRI" in kit else "scrap_eaf")
    return routes


def _status(statuses: list[str]) -> str:
    for status in STATUS_ORDER:
        if status in statuses:
            return status
    return statuses[0] if statuses else ""


class _Workbook:
    """The sheets of a workbook read by python-calamine (Rust; about ten times faster than
    openpyxl on these trackers), with the cell values openpyxl gives: None for an empty
    cell, an integer for a whole number. Only what the readers below use."""

    def __init__(self, workbook) -> None:
        self._workbook = workbook
        self.sheetnames = list(workbook.sheet_names)

    def __getitem__(self, name: str) -> _Rows:
        return _Rows(self._workbook.get_sheet_by_name(name))

    def close(self) -> None:
        self._workbook.close()


class _Rows:
    def __init__(self, sheet) -> None:
        self._sheet = sheet

    def iter_rows(self, *, values_only: bool = True, max_row: int | None = None):
        assert values_only
        rows = self._sheet.iter_rows()
        start_row, start_column = self._sheet.start or (0, 0)
        for _ in range(start_row):  # the sheet's first rows are empty: as openpyxl gives them
            yield ()
        pad = (None,) * start_column
        for number, row in enumerate(rows, start=start_row + 1):
            if max_row is not None and number > max_row:
                return
            yield pad + tuple(map(_cell, row))


def _cell(value: object) -> object:
    if value == "":
        return None
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _open(path: Path, handle):
    from python_calamine import CalamineWorkbook

    from ingest.safety import UnsafeFile, check_xlsx

    try:
        check_xlsx(path)
    except UnsafeFile as exc:
        raise UnreadableFile(path, f"refused XLSX: {exc.reason}") from exc
    try:
        return _Workbook(CalamineWorkbook.from_filelike(handle))
    except Exception as exc:  # calamine raises its own kinds on a damaged file
        raise UnreadableFile(path, f"not a readable XLSX workbook ({exc})") from exc


def gem_tracker(path: str | Path) -> str | None:
    """``"gem_steel"`` or ``"gem_cement"`` when the file is a GEM tracker workbook, else None.

    Reads only the sheet names from the zip's ``xl/workbook.xml`` (at most 1 MB of it, and
    through defusedxml), so that telling a tracker from another table costs milliseconds,
    not a parse of the workbook's shared strings."""
    import zipfile

    from defusedxml import ElementTree

    path = Path(path)
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return None
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/workbook.xml")
            if info.file_size > 1_000_000:
                return None
            root = ElementTree.fromstring(archive.read(info))
    except Exception:
        return None
    names = {el.get("name") for el in root.iter() if el.tag.endswith("}sheet")}
    if {"Plant data", "Plant capacities and status"} <= names:
        return STEEL
    if "Plant Data" in names and "About" in names:
        return CEMENT
    return None


def _release(workbook) -> str:
    """The citation line of the ``About`` sheet ("Global Iron and Steel Tracker, September
    2025 (V1)"), "" when absent."""
    if "About" not in workbook.sheetnames:
        return ""
    for row in workbook["About"].iter_rows(max_row=10, values_only=True):
        for value in row:
            text = _text(value)
            if "Tracker" in text and "Copyright" not in text:
                return text
    return ""


def _plant(identifier: str, tracker: str, line: int) -> dict:
    plant = dict.fromkeys(PLANT_FIELDS, "")
    plant.update(
        identifier=identifier,
        tracker=tracker,
        other_names=[],
        owners=[],
        parents=[],
        latitude=None,
        longitude=None,
        start_year=None,
        equipment=[],
        routes=[],
        capacities=[],
        production=[],
        source_line=line,
    )
    return plant


def _read_steel(workbook, errors: _Errors) -> tuple[dict[str, dict], int]:
    plants: dict[str, dict] = {}
    rows_read = 0
    sheet = _Sheet(workbook, "Plant data")
    for line, row in sheet.rows():
        rows_read += 1
        ident = _known(row.get("Plant ID"))
        if not ident:
            errors.add(line, sheet.name, "Plant ID", "", "no plant id; row ignored")
            continue
        if ident in plants:
            errors.add(line, sheet.name, "Plant ID", ident, "plant id repeated; row ignored")
            continue
        p = _plant(ident, STEEL, line)
        p["name"] = _known(row.get("Plant name (English)")) or ident
        p["name_local"] = _known(row.get("Plant name (other language)"))
        p["other_names"] = [
            n.strip()
            for col in ("Other plant names (English)", "Other plant names (other language)")
            for n in _known(row.get(col)).split(";")
            if n.strip()
        ]
        p["owner"] = _known(row.get("Owner"))
        p["owner_local"] = _known(row.get("Owner (other language)"))
        p["owners"] = [{"name": p["owner"], "share": None}] if p["owner"] else []
        p["parent"] = _known(row.get("Parent"))
        p["parents"] = stakes(p["parent"])
        p["country"] = _country(row.get("Country/Area"), errors, line, sheet.name, "Country/Area")
        p["subnational"] = _known(row.get("Subnational unit (province/state)"))
        p["municipality"] = _known(row.get("Municipality"))
        p["latitude"], p["longitude"] = _coordinates(
            row.get("Coordinates"), errors, line, sheet.name
        )
        p["coordinate_accuracy"] = _known(row.get("Coordinate accuracy"))
        p["start_year"] = _year(row.get("Start date"), errors, line, sheet.name, "Start date")
        p["equipment"] = [
            e.strip() for e in _known(row.get("Main production equipment")).split(";") if e.strip()
        ]
        p["routes"] = steel_routes(p["equipment"])
        p["wiki_url"] = _known(row.get("GEM wiki page"))
        plants[ident] = p

    sheet = _Sheet(workbook, "Plant capacities and status")
    statuses: dict[str, list[str]] = {}
    for line, row in sheet.rows():
        rows_read += 1
        ident = _known(row.get("Plant ID"))
        plant = plants.get(ident)
        if plant is None:
            errors.add(line, sheet.name, "Plant ID", ident, "plant not in sheet 'Plant data'")
            continue
        status = _known(row.get("Status")).lower()
        start = _year(row.get("Start date"), errors, line, sheet.name, "Start date")
        statuses.setdefault(ident, []).append(status)
        for column, unit in STEEL_CAPACITY.items():
            value = _number(row.get(column), errors, line, sheet.name, column)
            if value is not None:
                plant["capacities"].append(
                    {
                        "unit": unit,
                        "status": status,
                        "start_year": start,
                        "capacity_t": value * 1000.0,
                    }
                )
    for ident, found in statuses.items():
        plants[ident]["status"] = _status(found)

    if "Plant production" in workbook.sheetnames:
        sheet = _Sheet(workbook, "Plant production")
        for line, row in sheet.rows():
            rows_read += 1
            ident = _known(row.get("Plant ID"))
            plant = plants.get(ident)
            if plant is None:
                errors.add(line, sheet.name, "Plant ID", ident, "plant not in sheet 'Plant data'")
                continue
            kind_text = _known(row.get("Type of production"))
            kind = STEEL_PRODUCTION.get(kind_text.lower())
            if kind is None:
                errors.add(
                    line, sheet.name, "Type of production", kind_text, "unknown production type"
                )
                continue
            for column, value in row.items():
                if not re.fullmatch(r"(19|20)[0-9]{2}", column):
                    continue
                amount = _number(value, errors, line, sheet.name, column)
                if amount is not None:
                    plant["production"].append(
                        {"type": kind, "year": int(column), "production_t": amount * 1000.0}
                    )
    return plants, rows_read


def _read_cement(workbook, errors: _Errors) -> tuple[dict[str, dict], int]:
    plants: dict[str, dict] = {}
    rows_read = 0
    sheet = _Sheet(workbook, "Plant Data")
    for line, row in sheet.rows():
        ident = _known(row.get("GEM Plant ID"))
        if not ident:
            if any(_known(v) for v in row.values()):
                rows_read += 1
                errors.add(line, sheet.name, "GEM Plant ID", "", "no plant id; row ignored")
            continue
        rows_read += 1
        if ident in plants:
            errors.add(line, sheet.name, "GEM Plant ID", ident, "plant id repeated; row ignored")
            continue
        p = _plant(ident, CEMENT, line)
        p["name"] = _known(row.get("GEM Asset name (English)")) or ident
        p["name_local"] = _known(row.get("Asset name (other language)"))
        p["other_names"] = [
            n.strip() for n in _known(row.get("Alternative asset name(s)")).split(";") if n.strip()
        ]
        p["owner"] = _known(row.get("Owner name (English)"))
        p["owner_local"] = _known(row.get("Owner name (other language)"))
        p["owners"] = stakes(p["owner"])
        p["parent"] = _known(row.get("Parent"))
        p["parents"] = stakes(p["parent"])
        p["country"] = _country(row.get("Country/Area"), errors, line, sheet.name, "Country/Area")
        p["subnational"] = _known(row.get("Subnational unit"))
        p["municipality"] = _known(row.get("Municipality"))
        p["latitude"], p["longitude"] = _coordinates(
            row.get("Coordinates"), errors, line, sheet.name
        )
        p["coordinate_accuracy"] = _known(row.get("Coordinate accuracy"))
        p["status"] = _known(row.get("Operating status")).lower()
        p["start_year"] = _year(row.get("Start date"), errors, line, sheet.name, "Start date")
        p["plant_type"] = _known(row.get("Plant type")).lower()
        p["production_type"] = _known(row.get("Production type")).lower()
        p["routes"] = list(CEMENT_ROUTES.get(p["plant_type"], []))
        p["sfi_id"] = _known(row.get("SFI ID"))
        p["wiki_url"] = _known(row.get("GEM wiki page"))
        for column, unit in CEMENT_CAPACITY.items():
            value = _number(row.get(column), errors, line, sheet.name, column)
            if value is not None:
                p["capacities"].append(
                    {
                        "unit": unit,
                        "status": p["status"],
                        "start_year": p["start_year"],
                        "capacity_t": round(value * 1e6, 3),
                    }
                )
        plants[ident] = p
    return plants, rows_read


def read_gem(path: str | Path) -> tuple[list[dict], dict]:
    """Read a GEM steel or cement tracker workbook (see the module docstring).

    ``meta``: ``source`` ("gem"), ``tracker`` (``gem_steel`` / ``gem_cement``), ``release``
    (the citation line of the ``About`` sheet), ``licence``, ``rows_read`` (every non-empty
    data row of the sheets read), ``rows_accepted`` (plants), ``rows_rejected`` (rows
    ignored) and ``errors`` (:class:`RowError`, field = the workbook's column header).
    Raises :class:`UnreadableFile` when the file is not a GEM tracker workbook."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    tracker = gem_tracker(path)
    if tracker is None:
        raise UnreadableFile(
            path, "not a Global Energy Monitor steel or cement tracker workbook (sheets)"
        )
    errors = _Errors()
    with path.open("rb") as handle:
        workbook = _open(path, handle)
        try:
            release = _release(workbook)
            read = _read_steel if tracker == STEEL else _read_cement
            plants, rows_read = read(workbook, errors)
        except UnreadableFile:
            raise
        except Exception as exc:
            raise UnreadableFile(path, f"XLSX sheet cannot be read ({exc})") from exc
        finally:
            workbook.close()
    ignored = sum(1 for e in errors if e.reason.endswith("row ignored"))
    meta = {
        "source": SOURCE,
        "path": str(path),
        "format": "xlsx",
        "tracker": tracker,
        "release": release,
        "licence": LICENCE,
        "rows_read": rows_read,
        "rows_accepted": len(plants),
        "rows_rejected": ignored,
        "errors": list(errors),
    }
    return list(plants.values()), meta
