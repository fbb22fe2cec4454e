"""The rule-based extractor: tables and labelled numbers, deterministic, no network.

**Tables.** A table starts at a caption line ``Table <id>. <title>`` and ends at its source
line (``Source: …``), the next caption, or the end of the page. Inside:

- a *data row* is a line with a text label followed only by numbers; a text-only line
  left of the first number column right after a data row continues its label (a wrapped
  "United / Kingdom");
- *columns* are the x positions of the numbers of all data rows, clustered; a number goes
  to the column it overlaps, so a row with blank cells (Belarus, EAF values only) keeps
  its numbers in the right columns;
- *column labels* are the header lines between the caption and the first data row, each
  phrase given to the nearest column; a label set on its side (rotated 90°, read in its
  own direction by :mod:`ingest.disclosure.pdf_text`) is a phrase of its own, so turned
  headers read as the table shows them ("Upstream", not "m a e r t s p U");
- a top header line of k ≥ 2 phrases names *groups* ("Integrated route", "EAF route"; in
  Table A5 "Coke", …, "Basic oxygen furnace", the last over Scope 1, Scope 2, Upstream and
  Total): the borders between groups are the middles of the gaps between the phrases, and
  the line is taken as group headings when every phrase has two or more columns and sits
  over them (its centre within their extent);
- the *unit* is read from the caption ("in tonne CO2 per tonne steel" → t/t);
- a footnote ``*Total = A + B`` is checked on every row: a total that differs from the
  sum by more than the rounding of its operands is flagged, not changed.

Each cell gives one value: field ``"<table> | <row> | <group> | <column>"`` (group left
out when the table has none), the page, and the data row's line as the quote.

**Labelled numbers** outside tables: ``<label>: <number> <unit>`` (or ``=``), the unit
checked with :mod:`ingest.disclosure.units`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ingest.disclosure.model import ExtractedValue, Extraction, Flag
from ingest.disclosure.pdf_text import Document, Line, Page, Word
from ingest.disclosure.units import UnitError, convert, parse_unit

EXTRACTOR = "rules"
_NUMBER = re.compile(r"^[-−–]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?$")
_CAPTION = re.compile(r"^Table\s+([A-Z]?\d+(?:\.\d+)?)[.:]?\s+(.*)$")
_END = re.compile(r"^(?:Source|Sources|Note|Notes)\s*:", re.I)
_FOOTNOTE_SUM = re.compile(r"^\*\s*(.+?)\s*=\s*(.+\+.+)$")
_CAPTION_UNIT = re.compile(
    r"\bin\s+(tonnes?|t|kg|kilograms?)\s*(CO2e?|CO2-eq)?\s+per\s+(tonnes?|t|MWh|TJ)\b", re.I
)
_LABELLED = re.compile(
    r"^(?P<label>[A-Za-z][A-Za-z0-9 ,&()/'’-]{2,80}?)\s*[:=]\s*"
    r"(?P<number>[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<unit>\S.{0,30})?$"
)


def number(text: str) -> float | None:
    """``"1,234.5"`` → 1234.5, ``"−0.2"`` → -0.2, ``"12%"`` → 12.0; None if not a number."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return float(text.rstrip("%").replace(",", "").replace("−", "-").replace("–", "-"))


def _is_number(word: Word) -> bool:
    return number(word.text) is not None


def _centre(word: Word) -> float:
    return (word.x0 + word.x1) / 2


@dataclass
class _Row:
    line: Line
    label: str
    numbers: list[Word]


@dataclass
class _Column:
    x0: float
    x1: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def _phrases(line: Line) -> list[list[Word]]:
    """Words of a line split where the gap is wider than the line height; a rotated word (a
    header set on its side) is a phrase of its own."""
    height = max(line.bottom - line.top, 1.0)
    out: list[list[Word]] = []
    for word in line.words:
        rotated = word.direction != "ltr" or (out and out[-1][-1].direction != "ltr")
        if out and not rotated and word.x0 - out[-1][-1].x1 <= height:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def _text(words: list[Word]) -> str:
    return " ".join(w.text for w in words)


def _data_row(line: Line) -> _Row | None:
    """A label, then numbers only."""
    words = list(line.words)
    first = next((i for i, w in enumerate(words) if _is_number(w)), None)
    if not first or not all(_is_number(w) for w in words[first:]):
        return None
    return _Row(line, _text(words[:first]), words[first:])


def _columns(rows: list[_Row]) -> list[_Column]:
    spans = sorted((w.x0, w.x1) for row in rows for w in row.numbers)
    columns: list[_Column] = []
    for x0, x1 in spans:
        if columns and x0 <= columns[-1].x1 + 2:  # overlaps the column being built
            columns[-1].x1 = max(columns[-1].x1, x1)
        else:
            columns.append(_Column(x0, x1))
    return columns


def _nearest(columns: list[_Column], x: float) -> int:
    return min(range(len(columns)), key=lambda i: abs(columns[i].centre - x))


def _labels(lines: list[Line], columns: list[_Column]) -> list[str]:
    parts: list[list[str]] = [[] for _ in columns]
    for line in lines:
        for phrase in _phrases(line):
            centre = (phrase[0].x0 + phrase[-1].x1) / 2
            parts[_nearest(columns, centre)].append(_text(phrase))
    return [re.sub(r"\s+", " ", " ".join(p)).strip() for p in parts]


def _header(lines: list[Line], columns: list[_Column]) -> tuple[list[str], list[str]]:
    """``(column labels, group of each column)``; groups are "" when there are none."""
    if len(lines) >= 2:
        groups = _groups(_phrases(lines[0]), columns)
        if groups is not None:
            return _labels(lines[1:], columns), groups
    return _labels(lines, columns), [""] * len(columns)


def _groups(phrases: list[list[Word]], columns: list[_Column]) -> list[str] | None:
    """The group of each column when ``phrases`` (a top header line) are group headings
    over the columns (module docstring), else None."""
    k, n = len(phrases), len(columns)
    if not 2 <= k < n or any(w.direction != "ltr" for p in phrases for w in p):
        return None
    # Between two headings, the border is the middle of the gap between them.
    borders = [(a[-1].x1 + b[0].x0) / 2 for a, b in itertools.pairwise(phrases)]
    which = [sum(c.centre >= border for border in borders) for c in columns]
    for i, phrase in enumerate(phrases):
        mine = [c for c, g in zip(columns, which, strict=True) if g == i]
        centre = (phrase[0].x0 + phrase[-1].x1) / 2
        # A heading spans two or more columns and sits over them (a phrase over one column
        # is a wrapped label, not a group).
        if len(mine) < 2 or not mine[0].x0 <= centre <= mine[-1].x1:
            return None
    return [_text(phrases[g]) for g in which]


def _clean_label(label: str) -> str:
    return re.sub(r"\s+", " ", label.replace("*", "")).strip()


def _caption_unit(title: str) -> str:
    match = _CAPTION_UNIT.search(title)
    if not match:
        return ""
    unit = f"{match.group(1)}/{match.group(3)}"
    try:
        return convert(1.0, unit, ("t/t", "t/MWh", "t/TJ")).unit
    except UnitError:
        return ""


def _tables(page: Page) -> list[tuple[str, str, list[Line], list[Line]]]:
    """``(table id, caption, body lines, footnote lines)`` for each table of the page."""
    lines = list(page.lines)
    found = []
    starts = [i for i, line in enumerate(lines) if _CAPTION.match(line.text)]
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body, notes = [], []
        for line in lines[start + 1 : stop]:
            if _END.match(line.text):
                break
            (notes if line.text.startswith("*") else body).append(line)
        match = _CAPTION.match(lines[start].text)
        found.append((match.group(1), lines[start].text, body, notes))
    return found


def _table_values(page: Page, table: str, caption: str, body: list[Line], notes: list[Line]):
    rows: list[_Row] = []
    header: list[Line] = []
    for line in body:
        row = _data_row(line)
        if row is not None:
            rows.append(row)
        elif not rows:
            header.append(line)
        elif rows and all(not _is_number(w) for w in line.words):
            # A wrapped label: text only, left of every number of the table.
            first_x = min(w.x0 for r in rows for w in r.numbers)
            if all(w.x1 < first_x for w in line.words):
                rows[-1].label = f"{rows[-1].label} {line.text}"
    if not rows:
        return [], []
    columns = _columns(rows)
    labels, groups = _header(header, columns)
    labels = [_clean_label(label) for label in labels]
    unit = _caption_unit(caption)
    values: list[ExtractedValue] = []
    cells: list[dict[tuple[str, str], int]] = []
    for row in rows:
        by_key: dict[tuple[str, str], int] = {}
        for word in row.numbers:
            index = _nearest(columns, _centre(word))
            group, column = groups[index], labels[index]
            name = " | ".join(p for p in (f"Table {table}", row.label, group, column) if p)
            by_key[(group, column)] = len(values)
            values.append(
                ExtractedValue(
                    field=name,
                    value=number(word.text),
                    unit=unit,
                    quote=row.line.text,
                    page=page.number,
                    context={
                        "table": table,
                        "row": row.label,
                        "group": group,
                        "column": column,
                        "text": word.text,
                    },
                )
            )
        cells.append(by_key)
    flags = _check_sums(values, cells, notes, groups)
    return values, flags


def _check_sums(values, cells, notes, groups) -> list[Flag]:
    flags = []
    for note in notes:
        match = _FOOTNOTE_SUM.match(note.text)
        if not match:
            continue
        total = _clean_label(match.group(1))
        operands = [_clean_label(p) for p in match.group(2).split("+")]
        for by_key in cells:
            for group in dict.fromkeys(groups):
                keys = [(group, total)] + [(group, op) for op in operands]
                if not all(key in by_key for key in keys):
                    continue
                got = values[by_key[keys[0]]].value
                parts = [values[by_key[key]].value for key in keys[1:]]
                digits = max(_decimals(values[by_key[key]].context["text"]) for key in keys)
                # Each printed number is rounded by half its last digit.
                tolerance = len(keys) * 0.5 * 10.0**-digits + 1e-9
                if abs(got - sum(parts)) > tolerance:
                    index = by_key[keys[0]]
                    flags.append(
                        Flag(
                            index,
                            "sum_mismatch",
                            f"{values[index].field} = {got} but {' + '.join(operands)} = "
                            f"{sum(parts):.{digits}f} ({note.text})",
                        )
                    )
    return flags


def _decimals(text: str) -> int:
    return len(text.rstrip("%").split(".")[1]) if "." in text else 0


def _labelled(page: Page, skip: set[int]) -> list[ExtractedValue]:
    out = []
    for i, line in enumerate(page.lines):
        if i in skip:
            continue
        match = _LABELLED.match(line.text.strip())
        if not match or not match.group("unit"):
            continue
        unit_text = match.group("unit").strip().rstrip(".;,")
        try:
            parse_unit(unit_text)
        except UnitError:
            continue
        out.append(
            ExtractedValue(
                field=match.group("label").strip(),
                value=number(match.group("number")),
                unit=unit_text,
                quote=line.text,
                page=page.number,
                context={"kind": "labelled"},
            )
        )
    return out


def extract(document: Document) -> Extraction:
    """Every table cell and labelled number of ``document``; see the module docstring."""
    values: list[ExtractedValue] = []
    flags: list[Flag] = []
    tables = 0
    for page in document.pages:
        in_tables: set[int] = set()
        for table, caption, body, notes in _tables(page):
            found, found_flags = _table_values(page, table, caption, body, notes)
            offset = len(values)
            values.extend(found)
            flags.extend(Flag(f.index + offset, f.kind, f.detail) for f in found_flags)
            tables += bool(found)
            ids = {id(line) for line in body + notes}
            in_tables |= {i for i, line in enumerate(page.lines) if id(line) in ids}
            in_tables |= {i for i, line in enumerate(page.lines) if line.text == caption}
        values.extend(_labelled(page, in_tables))
    trace = {"extractor": EXTRACTOR, "document_sha256": document.sha256, "tables": tables}
    return Extraction(EXTRACTOR, values, [], flags, trace)


class RuleExtractor:
    """The rule-based extractor behind the common interface ``extract(document)``."""

    name = EXTRACTOR

    def extract(self, document: Document) -> Extraction:
        return extract(document)
