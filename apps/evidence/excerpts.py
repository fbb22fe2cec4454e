"""The cited place of an evidence file, shown as it is in the file (docs/web.md,
"Evidence you can open"): a line of a text file with the lines around it, a cell of a
workbook with its neighbours, a page of a PDF as its extracted text.

The file is read from the evidence store (content-addressed, kept byte for byte), never
from the database's parse of it: what is shown is what was uploaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

CONTEXT_LINES = 3
CELL_PATTERN = re.compile(
    r"^(?:cell\s+)?(?:'?(?P<sheet>[^!]+?)'?!)?\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d{1,7})$"
)


class ExcerptError(ValueError):
    """The cited place is not in the file (the message says why)."""


@dataclass
class Excerpt:
    """Rows to show: each row a list of cells; ``marked`` the (row, column) cited."""

    kind: str  # "line", "cell" or "page"
    where: str  # "line 7", "cell Sheet!B12", "page 3"
    header: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[str], bool]] = field(default_factory=list)  # label, cells, cited
    marked_column: int | None = None
    text: str = ""


def line_excerpt(path: Path, line: int, context: int = CONTEXT_LINES) -> Excerpt:
    """Lines ``line - context`` … ``line + context`` of a text file (1-based, as the
    error reports and the evidence references count them), the cited one marked."""
    if line < 1:
        raise ExcerptError(f"line {line}: lines are counted from 1")
    rows = []
    with path.open("rb") as handle:
        for n, raw in enumerate(handle, start=1):
            if n > line + context:
                break
            if n >= line - context:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n").lstrip("\ufeff")
                rows.append((str(n), [text[:2000]], n == line))
    if not any(cited for _, _, cited in rows):
        raise ExcerptError(f"line {line}: the file has only {n if rows else 'fewer'} lines")
    return Excerpt(kind="line", where=_("line %(line)s") % {"line": line}, rows=rows)


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def cell_excerpt(path: Path, ref: str, context: int = 2) -> Excerpt:
    """The cited cell (``Sheet!B12``, ``cell Sheet!B12`` or ``B12`` on the first sheet) of
    a workbook, with ``context`` rows and columns around it, values as stored (not
    formulas' cached results recomputed)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    match = CELL_PATTERN.match(ref.strip())
    if not match:
        raise ExcerptError(f"cell {ref!r}: not a cell reference such as Sheet!B12")
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet_name = match["sheet"] or book.sheetnames[0]
        if sheet_name not in book.sheetnames:
            raise ExcerptError(f"cell {ref!r}: the workbook has no sheet {sheet_name!r}")
        sheet = book[sheet_name]
        row, col = int(match["row"]), _column_index(match["col"])
        first_col, last_col = max(1, col - context), col + context
        first_row = max(1, row - context)
        rows = []
        for r, values in enumerate(
            sheet.iter_rows(
                min_row=first_row,
                max_row=row + context,
                min_col=first_col,
                max_col=last_col,
                values_only=True,
            ),
            start=first_row,
        ):
            cells = ["" if v is None else str(v)[:500] for v in values]
            rows.append((str(r), cells, r == row))
    finally:
        book.close()
    header = [get_column_letter(c) for c in range(first_col, last_col + 1)]
    where = _("cell %(cell)s") % {"cell": f"{sheet_name}!{match['col'].upper()}{row}"}
    return Excerpt(
        kind="cell", where=where, header=header, rows=rows, marked_column=col - first_col
    )


def page_excerpt(path: Path, page: int) -> Excerpt:
    """The text of page ``page`` (1-based) of a PDF, as the rule-based reader sees it."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        if not 1 <= page <= len(pdf.pages):
            raise ExcerptError(f"page {page}: the PDF has {len(pdf.pages)} pages")
        text = pdf.pages[page - 1].extract_text() or ""
    return Excerpt(kind="page", where=_("page %(page)s") % {"page": page}, text=text)
