"""Loading CSV and XLSX tables as text, and parsing their numbers, for the readers.

Readers read every cell as a string first and validate whole columns with vectorised pandas
operations, so that a bad cell becomes a row error instead of a crash or a silent guess.
:func:`load_table` keeps the physical line (CSV) or row number (XLSX) of every row.

Tables come from exporters and other outsiders, so their shape is bounded before it is
built (issue #16, item 4): at most :data:`MAX_ROWS` data rows, :data:`MAX_COLUMNS` columns
and :data:`MAX_CELLS` cells (rows × columns, what the DataFrame holds). A CSV's columns
are counted on its header line and its rows by its line breaks before any parser runs; an
XLSX sheet's declared ``<dimension>`` is checked when the workbook opens and its cells are
counted while the rows stream in (the declaration may lie). The whole parse runs in a
forked child limited in memory and CPU (``ingest.safety.run_limited``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ingest.base import AmbiguousColumns, MissingColumns, RowError, TooLarge, UnreadableFile
from ingest.countries import fold

DELIMITERS = (",", ";", "\t", "|")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
# A record longer than this many lines is reported: most likely an unclosed quote swallowed
# the rows after it.
MAX_RECORD_LINES = 20
#: Shape caps of a table. The largest real tables read here are customs extracts (a few
#: hundred thousand lines of about 12 columns) and the CBAM communication template's
#: sheets (a few dozen columns); the caps leave them a wide margin.
MAX_ROWS = 5_000_000
MAX_COLUMNS = 1_000
MAX_CELLS = 30_000_000


@dataclass
class Table:
    """A file's cells as strings: ``frame`` has columns 0..n-1 (``headers`` gives their names)
    and one row per non-blank data row; ``lines`` the physical line or XLSX row of each row."""

    headers: list[str]
    frame: pd.DataFrame
    lines: np.ndarray
    meta: dict
    errors: list[RowError] = field(default_factory=list)  # rows that could not be split


def load_table(path: str | Path) -> Table:
    """Read a CSV (delimiter and encoding sniffed) or the first sheet of an XLSX as text.

    ``meta`` gets ``path``, ``format`` and, for CSV, ``encoding`` and ``delimiter``.
    Raises :class:`UnreadableFile` when the file is missing, empty, binary or corrupt, and
    its subclass :class:`~ingest.base.TooLarge` when its shape is over a cap (module
    docstring) or its parse over the child's memory or time limit.
    """
    from ingest.safety import run_limited

    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    return run_limited(_load, path, path=path)


def _load(path: Path) -> Table:
    with path.open("rb") as handle:
        head = handle.read(1024)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # A web page saved under a table's name (or an XML/VRT file): type by content.
        raise UnreadableFile(path, "HTML or XML markup, not a CSV or XLSX table")
    if path.suffix.lower() in XLSX_SUFFIXES or head.startswith(_ZIP_MAGIC):
        return _load_xlsx(path)
    return _load_csv(path)


# --- CSV -------------------------------------------------------------------------------


def _decode(path: Path, raw: bytes) -> tuple[bytes, str, str]:
    """``(body, encoding for the parser, encoding to report)``; ``body`` without any BOM."""
    if raw.startswith(b"\xef\xbb\xbf"):
        body, encoding = raw[3:], "utf-8-sig"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16").encode("utf-8"), "utf-8", "utf-16"
    elif b"\x00" in raw[:65536]:
        raise UnreadableFile(path, "binary content (NUL bytes), not a text table")
    else:
        body, encoding = raw, "utf-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: every byte is a Latin-1 character, so this never fails; meta says so.
        return body, "latin-1", "latin-1"
    return body, "utf-8", encoding


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; TAB | that splits the first lines into the same number of
    fields as the header, with the most fields; "," when none splits the header."""
    sample = text[:65536].splitlines()[:20] or [""]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(sample, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(count == counts[0] for count in counts) >= 0.8 * len(counts)
        if consistent and counts[0] > best_fields:
            best, best_fields = delimiter, counts[0]
    return best


def _load_csv(path: Path) -> Table:
    raw = path.read_bytes()
    if not raw or raw.isspace():
        raise UnreadableFile(path, "the file is empty")
    body, encoding, reported = _decode(path, raw)
    delimiter = sniff_delimiter(body[:65536].decode(encoding, errors="ignore"))
    check_csv_shape(path, body, encoding, delimiter)
    meta = {"path": str(path), "format": "csv", "encoding": reported, "delimiter": delimiter}
    cells, lines, errors = _split_fast(body, encoding, delimiter)
    if cells is None:
        cells, lines, errors = _split_exact(body.decode(encoding), delimiter)
    if cells.empty:
        raise UnreadableFile(path, "no header line")
    headers = [str(h).strip() for h in cells.iloc[0]]
    frame, lines = _drop_blank(cells.iloc[1:], lines[1:])
    frame, lines, nul_errors = _drop_nul_rows(frame, lines, headers)
    return Table(headers, frame, lines, meta, errors + nul_errors)


def _drop_nul_rows(
    frame: pd.DataFrame, lines: np.ndarray, headers: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[RowError]]:
    """Reject the rows with a NUL character in a cell (past the first 64 KiB, which
    :func:`_decode` checks as a whole): no text column can store one (PostgreSQL refuses
    it), and in a text table it is corruption. Issue #16, item 3."""
    if frame.empty or not any(frame[c].str.contains("\x00", regex=False).any() for c in frame):
        return frame, lines, []
    errors = []
    bad = np.zeros(len(frame), dtype=bool)
    for position, column in enumerate(frame.columns):
        hit = frame[column].str.contains("\x00", regex=False).to_numpy(dtype=bool)
        for row in np.flatnonzero(hit & ~bad):
            name = headers[position] if position < len(headers) else f"column {position + 1}"
            value = frame.iat[row, position].replace("\x00", "\\x00")[:200]
            reason = "a NUL character (binary data) in the cell: the row is not text"
            errors.append(RowError(int(lines[row]), name, value, reason))
        bad |= hit
    keep = ~bad
    return frame[keep].reset_index(drop=True), lines[keep], errors


def check_csv_shape(path: Path, body: bytes, encoding: str, delimiter: str) -> None:
    """Refuse (:class:`TooLarge`) a CSV over the shape caps before it is split: columns
    are the fields of the header line, rows the line breaks after it (an upper bound: a
    quoted field may span lines), cells their product."""
    end = body.find(b"\n")
    header = body if end < 0 else body[:end]
    columns = header.count(delimiter.encode()) + 1
    if columns > MAX_COLUMNS:  # the count may include quoted delimiters: count exactly
        text = header.decode(encoding, errors="replace")
        columns = max(len(next(csv.reader([text], delimiter=delimiter), [])), 1)
        if columns > MAX_COLUMNS:
            raise TooLarge(path, "columns in the header line", columns, MAX_COLUMNS)
    breaks = b"\n" if b"\n" in body else b"\r"  # lone CR line ends (old Mac files) too
    rows = body.count(breaks) - (1 if body.endswith(breaks) else 0)
    if rows > MAX_ROWS:
        raise TooLarge(path, "lines after the header", rows, MAX_ROWS)
    if rows * columns > MAX_CELLS:
        raise TooLarge(path, f"cells ({rows:,} lines × {columns:,} columns)", "", MAX_CELLS)


def _split_fast(body: bytes, encoding: str, delimiter: str):
    """Arrow's multi-threaded CSV parser, every cell as a string; gives up (returns None)
    unless every record is one physical line with the header's number of fields (a quoted
    field spanning lines, a blank line, a ragged row: the exact parser below handles those).
    Like the exact parser, spaces after a delimiter are skipped."""
    header = next(
        csv.reader(
            [body[:65536].decode(encoding, errors="replace").split("\n")[0]], delimiter=delimiter
        ),
        [],
    )
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(
                column_names=names, encoding="latin-1" if encoding == "latin-1" else "utf8"
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=False, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None, None, None
    physical = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if table.num_rows != physical:
        return None, None, None  # a quoted field spans lines, or lone CR line ends
    cells = pd.DataFrame(
        {
            i: pd.Series(pc.utf8_ltrim(table.column(i), characters=" "), dtype="str")
            for i in range(table.num_columns)
        }
    )
    return cells, np.arange(1, len(cells) + 1), []


def _split_exact(text: str, delimiter: str):
    """The csv module, record by record: right line numbers when quoted fields span lines,
    and rows with more fields than the header become row errors instead of stopping the read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows, lines, errors = [], [], []
    width = None
    start = 1
    try:
        for row in reader:
            if width is None:
                width = len(row)
            if reader.line_num - start >= MAX_RECORD_LINES:
                reason = (
                    f"a quoted field runs over lines {start}-{reader.line_num}; "
                    "check for a quote that is never closed"
                )
                errors.append(RowError(start, "row", delimiter.join(row)[:200], reason))
            elif len(row) > width and any(cell.strip() for cell in row[width:]):
                reason = f"{len(row)} fields, the header has {width}"
                errors.append(RowError(start, "row", delimiter.join(row)[:200], reason))
            else:
                rows.append((row + [""] * width)[:width])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        errors.append(RowError(start, "row", "", f"cannot split the line: {exc}"))
    cells = pd.DataFrame(rows, dtype=str) if rows else pd.DataFrame()
    return cells, np.asarray(lines, dtype=np.int64), errors


def _drop_blank(frame: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Leave out rows whose cells are all empty: they are neither data nor errors. (Both
    parsers skip the spaces after a delimiter, so a line of spaces has empty cells.)"""
    if frame.empty:
        return frame.reset_index(drop=True), lines
    candidates = np.flatnonzero((frame[frame.columns[0]] == "").to_numpy(dtype=bool))
    for column in frame.columns[1:]:
        if not len(candidates):
            break
        candidates = candidates[(frame[column].iloc[candidates] == "").to_numpy(dtype=bool)]
    drop = np.zeros(len(frame), dtype=bool)
    drop[candidates] = True
    return frame.loc[~drop].reset_index(drop=True), lines[~drop]


def factorize_map(values: pd.Series, function) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, results)``: ``results[codes[i]]`` is ``function(values[i])``, computed once
    per distinct value (tables repeat a few hundred dates, codes and names over millions of
    lines). ``results`` is an object array."""
    codes, uniques = pd.factorize(values)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [function(value) for value in uniques.tolist()]
    return codes, results


def map_unique(values: pd.Series, function) -> np.ndarray:
    """``function`` applied to every value (an object array), called once per distinct value."""
    codes, results = factorize_map(values, function)
    return results[codes]


def strip(values: pd.Series, *, codes: bool = False):
    """``values.str.strip()``, stripping each distinct value once. With ``codes=True``,
    ``(stripped, codes)`` where equal stripped values have equal integer codes."""
    value_codes, uniques = pd.factorize(values)
    uniques = uniques.tolist()
    stripped = [value.strip() for value in uniques]
    if stripped != uniques:
        values = pd.Series(
            np.asarray(stripped, dtype=object)[value_codes], index=values.index, dtype=str
        )
        if codes:
            value_codes = pd.factorize(values)[0]
    return (values, value_codes) if codes else values


# --- XLSX ------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: The last row an XLSX sheet can have (ECMA-376; Excel's "1,048,576 rows").
XLSX_MAX_ROW = 1_048_576


def check_declared_dimension(path: Path, sheet) -> None:
    """Refuse (:class:`TooLarge`) a sheet whose ``<dimension ref="A1:XFD1048576">`` declares
    more columns, rows or cells than the caps, before a row is read. openpyxl's read-only
    sheet reads the element when the workbook opens; a sheet without one passes here and
    is counted while it streams."""
    rows, columns = sheet.max_row, sheet.max_column
    name = sheet.title
    if columns and columns > MAX_COLUMNS:
        raise TooLarge(path, f"sheet {name!r} declares columns", columns, MAX_COLUMNS)
    if rows and rows > MAX_ROWS + 1:
        raise TooLarge(path, f"sheet {name!r} declares rows", rows, MAX_ROWS + 1)
    if rows and columns and rows * columns > MAX_CELLS:
        raise TooLarge(
            path,
            f"sheet {name!r} declares cells ({rows:,} rows × {columns:,} columns)",
            "",
            MAX_CELLS,
        )


def _load_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook  # imported here: CSV-only users never pay for it

    from ingest.safety import UnsafeFile, check_xlsx

    # Before openpyxl sees it (it loads the shared strings whole): entries, declared and
    # actually inflated sizes, compression ratio, and every XML part through expat with
    # DTDs and entities refused.
    try:
        check_xlsx(path)
    except UnsafeFile as exc:
        raise UnreadableFile(path, f"refused XLSX: {exc.reason}") from exc
    # openpyxl raises many kinds of error on a damaged file (zip, XML, KeyError, ...): any
    # of them means the workbook cannot be read.
    # A file object, not the path: openpyxl refuses a path without an .xlsx suffix, and the
    # evidence store names files by their SHA-256 (the content was checked above).
    handle = path.open("rb")
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:
        handle.close()
        raise UnreadableFile(path, f"not a readable XLSX workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet_name = sheet.title
        check_declared_dimension(path, sheet)
        sheet.reset_dimensions()  # trust the cells, not a stale <dimension> element
        rows, numbers = [], []
        width = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > XLSX_MAX_ROW:
                raise TooLarge(path, f"sheet {sheet_name!r}: row number", number, XLSX_MAX_ROW)
            # Trailing empty cells are dropped, so a row is as wide as its last value.
            last = len(row)
            while last and (row[last - 1] is None or not str(row[last - 1]).strip()):
                last -= 1
            if not last:
                continue
            if last > MAX_COLUMNS:
                raise TooLarge(
                    path, f"sheet {sheet_name!r} row {number}: columns", last, MAX_COLUMNS
                )
            width = max(width, last)
            if len(rows) > MAX_ROWS:
                raise TooLarge(path, f"sheet {sheet_name!r}: rows", len(rows), MAX_ROWS)
            if (len(rows) + 1) * width > MAX_CELLS:
                raise TooLarge(
                    path,
                    f"sheet {sheet_name!r}: cells (at row {number}, "
                    f"{len(rows) + 1:,} rows × {width:,} columns)",
                    "",
                    MAX_CELLS,
                )
            rows.append([_cell_text(value) for value in row[:last]])
            numbers.append(number)
    except TooLarge:
        raise
    except Exception as exc:
        raise UnreadableFile(path, f"XLSX sheet cannot be read ({exc})") from exc
    finally:
        workbook.close()
        handle.close()
    if not rows:
        raise UnreadableFile(path, f"sheet {sheet_name!r} is empty")
    width = max(len(row) for row in rows)
    headers = [h.strip() for h in rows[0]] + [""] * (width - len(rows[0]))
    body = [row + [""] * (width - len(row)) for row in rows[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=str)
    if frame.empty:
        frame = pd.DataFrame({i: pd.Series([], dtype=str) for i in range(width)})
    meta = {"path": str(path), "format": "xlsx", "sheet": sheet_name}
    return Table(headers, frame, np.asarray(numbers[1:], dtype=np.int64), meta)


# --- Numbers ---------------------------------------------------------------------------

_SPACES = r"[\s\u00a0\u202f]+"
_GROUPED_POINT = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+"  # 1,234,567
_GROUPED_COMMA = r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+"  # 1.234.567
_POINT = re.compile(rf"^[+-]?(?:{_GROUPED_POINT}|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")
_COMMA = re.compile(rf"^[+-]?(?:{_GROUPED_COMMA}|[0-9]+)(?:,[0-9]+)?$")
# Evidence of a convention: a separator that no thousands grouping explains. A decimal
# comma shows in 1.234,5 (grouped points, then a comma), in 0,220 or 1234,567 (the part
# before the comma cannot be a thousands group), and in 12,5 or 12,3456 (not 3 digits after).
_UNGROUPED = r"(?:0|[0-9]{4,})"
_NOT_THREE = r"(?:[0-9]{1,2}|[0-9]{4,})"


def _evidence(grouped: str, separator: str) -> re.Pattern:
    number = (
        rf"{grouped}{separator}[0-9]+|{_UNGROUPED}{separator}[0-9]+|[0-9]+{separator}{_NOT_THREE}"
    )
    return re.compile(rf"^[^\S\n]*[+-]?(?:{number})[^\S\n]*$", re.MULTILINE)


_COMMA_EVIDENCE = _evidence(_GROUPED_COMMA, ",")
_POINT_EVIDENCE = _evidence(_GROUPED_POINT, r"\.")


def detect_decimal(columns: list[pd.Series], delimiter: str | None) -> str:
    """``"comma"`` or ``"point"``: the decimal separator of a file's numeric columns.

    Values like ``1.234,5`` or ``12,5`` show a decimal comma, ``1,234.5`` or ``12.5`` a
    decimal point. With evidence of one kind only, that one wins; otherwise (none, or both)
    a ";"-delimited file uses the comma, any other the point, and values written the other
    way become row errors rather than being misread (``1,320`` is never read as 1320 in a
    decimal-comma file).
    """
    # A C-speed regex search over each joined column instead of a Python call per value.
    comma = point = False
    for column in columns:
        joined = "\n".join(column.tolist())
        comma = comma or ("," in joined and _COMMA_EVIDENCE.search(joined) is not None)
        point = point or ("." in joined and _POINT_EVIDENCE.search(joined) is not None)
    if comma != point:
        return "comma" if comma else "point"
    return "comma" if delimiter == ";" else "point"


# Numbers Arrow casts exactly as written (no grouping, no spaces).
_PLAIN_POINT = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_PLAIN_COMMA = r"^[+-]?([0-9]+,?[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?$"


def parse_numbers(values: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings → float64 under one decimal convention: ``(numbers, empty, bad)``.

    Thousands separators (``,`` or ``.``, whichever is not the decimal separator) and spaces
    are allowed; ``numbers`` is NaN where a value is empty or ``bad``.
    """
    # Fast path, in Arrow's kernels: plain numbers ("1234.5", "-1e3"; in a decimal-comma
    # file "1234,5") are cast at once; the rest (empty, grouped, malformed) go through the
    # strict patterns below, a Python call per distinct value at most.
    cells = pa.array(values, type=pa.string(), from_pandas=True)
    if decimal == "comma":
        plain = pc.match_substring_regex(cells, _PLAIN_COMMA)
        cells = pc.replace_substring(cells, ",", ".")
    else:
        plain = pc.match_substring_regex(cells, _PLAIN_POINT)
    plain = pc.fill_null(plain, False)
    numbers = pc.cast(pc.if_else(plain, cells, None), pa.float64()).to_numpy(zero_copy_only=False)
    numbers = numbers.astype(np.float64, copy=True)
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(cells), ""), True)
    empty = blank.to_numpy(zero_copy_only=False).astype(bool, copy=True)
    slow = ~np.isfinite(numbers) & ~empty
    bad = np.zeros(len(values), dtype=bool)
    index = np.flatnonzero(slow)
    if len(index):
        text = values.iloc[index].str.replace(_SPACES, "", regex=True)
        pattern, group, point = (_COMMA, ".", ",") if decimal == "comma" else (_POINT, ",", "")
        ok = text.str.match(pattern).to_numpy(dtype=bool)
        plain = text.str.replace(group, "", regex=False)
        if point:
            plain = plain.str.replace(point, ".", regex=False)
        parsed = pd.to_numeric(plain.where(ok, ""), errors="coerce").to_numpy(np.float64)
        is_empty = (text == "").to_numpy(dtype=bool)
        numbers[index] = np.where(ok & np.isfinite(parsed), parsed, np.nan)
        empty[index] = is_empty
        bad[index] = ~is_empty & ~(ok & np.isfinite(parsed))
    return numbers, empty, bad


def row_errors(
    mask: np.ndarray, lines: np.ndarray, values: pd.Series, field_name: str, reason
) -> list[RowError]:
    """One :class:`RowError` per row where ``mask`` is true; ``reason`` is a string or a
    function of the cell's text. Only the failing rows are visited."""
    index = np.flatnonzero(mask)
    texts = values.iloc[index].to_numpy(dtype=object)  # only the failing rows
    if callable(reason):
        return [
            RowError(int(lines[i]), field_name, str(t), reason(str(t)))
            for i, t in zip(index, texts, strict=True)
        ]
    return [
        RowError(int(lines[i]), field_name, str(t), reason)
        for i, t in zip(index, texts, strict=True)
    ]


# --- Headers ---------------------------------------------------------------------------


def header_key(name: str) -> str:
    """Header names compared without case, accents, spaces, underscores or punctuation:
    ``"Net mass (kg)"`` and ``"net_mass_kg"`` are both ``"netmasskg"``."""
    return re.sub(r"[^0-9a-z]", "", fold(name))


def match_columns(
    path: str | Path, headers: list[str], aliases: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], list[str]]:
    """``({field: column position}, ignored headers)`` for a file's header row.

    ``aliases`` lists, for each field, the header names it accepts, most preferred first.
    When several columns match one field, the column matching the earlier alias is used and
    the others are returned as ignored, like the columns that match no field. Two columns
    with the same name (up to :func:`header_key`) raise :class:`AmbiguousColumns`.
    """
    lookup: dict[str, tuple[str, int]] = {}
    for name, names in aliases.items():
        for rank, alias in enumerate(names):
            lookup.setdefault(header_key(alias), (name, rank))
    candidates: dict[str, list[tuple[int, int]]] = {}
    ignored = []
    for position, header in enumerate(headers):
        match = lookup.get(header_key(header))
        if match is None:
            if header:
                ignored.append(header)
            continue
        candidates.setdefault(match[0], []).append((match[1], position))
    columns = {}
    for name, found in candidates.items():
        found.sort()
        if len(found) > 1 and found[0][0] == found[1][0]:
            raise AmbiguousColumns(path, name, [headers[p] for r, p in found if r == found[0][0]])
        columns[name] = found[0][1]
        ignored.extend(headers[p] for _, p in found[1:])
    return columns, ignored


def require_columns(
    path: str | Path,
    table: Table,
    aliases: dict[str, tuple[str, ...]],
    required: Iterable[str],
    *,
    headers: list[str] | None = None,
) -> tuple[dict[str, int], list[str]]:
    """:func:`match_columns` on the table's header row (or ``headers``, a normalised copy
    of it), raising :class:`MissingColumns` when a required field has no column."""
    columns, ignored = match_columns(path, headers or table.headers, aliases)
    missing = [name for name in required if name not in columns]
    if missing:
        raise MissingColumns(path, missing, table.headers)
    return columns, ignored


def column_text(table: Table, columns: dict[str, int]) -> Callable[[str], pd.Series]:
    """A field name → its cells, stripped (empty strings for an absent optional field)."""
    empty = pd.Series([""] * len(table.frame), index=table.frame.index, dtype=str)

    def text(name: str) -> pd.Series:
        return strip(table.frame[columns[name]]) if name in columns else empty

    return text
