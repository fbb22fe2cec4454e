"""Streaming CSV and XLSX exports, safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by spreadsheet programs (OWASP "CSV injection"). A spreadsheet opening a
CSV does not always split it where the writer did: Excel in a semicolon locale (most EU
customs desks) splits every line at ``;`` and reads quotes only at a field's start; other
locales and import dialogs split at ``,``, ``|`` or a tab, and at line breaks. So *every
segment* of a text that could become a cell is neutralised, not only its first character:
:func:`neutralise` puts an apostrophe at the start of the text and after every such
separator when what follows (after spaces, quotes and apostrophes) starts like a formula.
The change is exactly reversible (:func:`restore`), so a flattened trace still rebuilds its
canonical JSON.

Every CSV field is quoted (RFC 4180 §2.5-7) and the file starts with a UTF-8 byte-order
mark, so Excel reads the encoding right; it is sent as ``text/csv; charset=utf-8``
(RFC 4180 §3). The XLSX writer (``apps.common.xlsx``) applies the same neutralisation to its
text cells (inline strings, never formulas), so text copied out of a sheet, or the sheet
saved as CSV, cannot turn into one. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

#: First characters that make a spreadsheet cell a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters at which a spreadsheet may start a new cell: the field separators of the
#: common CSV dialects and locales (comma, semicolon, pipe, tab) and line breaks.
CELL_BREAKS = (",", ";", "|", "\t", "\r", "\n")
#: What a spreadsheet skips before it decides a cell is a formula: spaces, the quote that
#: opens a quoted field, and apostrophes (so that :func:`restore` is exact).
_LEAD = "[ \"']*"
_STARTS = "[" + re.escape("".join(FORMULA_STARTS)) + "]"
_BREAK = "[" + re.escape("".join(CELL_BREAKS)) + "]"
_DANGER = re.compile(f"(^|{_BREAK})(?={_LEAD}{_STARTS})")
_GUARDED = re.compile(f"(^|{_BREAK})'(?={_LEAD}{_STARTS})")

CSV_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


def neutralise(value: Any) -> Any:
    """Text with an apostrophe before every segment a spreadsheet would read as a formula;
    anything else unchanged.

    >>> neutralise('abc;=HYPERLINK("x")')
    'abc;\\'=HYPERLINK("x")'
    """
    if isinstance(value, str):
        return _DANGER.sub(r"\1'", value)
    return value


def restore(text: str) -> str:
    """The inverse of :func:`neutralise`: ``restore(neutralise(s)) == s`` for every ``s``."""
    return _GUARDED.sub(r"\1", text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_writer(stream) -> Any:
    """A CSV writer that quotes every field (the comma dialect, CRLF line ends)."""
    return csv.writer(stream, quoting=csv.QUOTE_ALL)


def csv_stream(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text, line by line, starting with a byte-order mark; text neutralised. The
    header's names may be lazy translations (``pgettext_lazy("export column", name)``: the
    API's field name in English, its translation in the user's language): they are read in
    the language active when the first line is written."""
    writer = csv_writer(_Echo())
    yield BOM + writer.writerow([neutralise(str(h)) for h in header])
    for row in rows:
        yield writer.writerow([neutralise(v) for v in row])


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]):
    response = StreamingHttpResponse(csv_stream(header, rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
