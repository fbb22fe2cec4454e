"""A streaming XLSX (Office Open XML SpreadsheetML) writer: rows in, ZIP bytes out, in
bounded memory.

openpyxl's write-only mode still builds the whole file before it can be sent; this writes
the worksheet part through ``zipfile`` onto a non-seekable sink (ZIP data descriptors,
ISO/IEC 29500-2 / PKWARE APPNOTE §4.3.9) and hands over the compressed bytes as they are
made. Strings are inline strings (``t="inlineStr"``, ECMA-376 Part 1 §18.3.1.53), never
formulas; they still get the same neutralisation as CSV (``apps.common.exports.neutralise``)
so that text copied out of the sheet cannot turn into one. Characters XML 1.0 forbids
become U+FFFD, and a literal ``_xHHHH_`` is escaped as ECMA-376 §22.9.2.19 requires.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse

from apps.common.exports import neutralise as default_neutralise

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
    "</Types>"
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    _XML + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_DOC}">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="1"><xf xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


class ChunkSink:
    """A non-seekable, write-only file that keeps what is written until it is taken: lets
    ``zipfile`` stream an archive (XLSX here, the trace archive of the API) chunk by chunk."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def xml_text(value: str) -> str:
    """Text as an XML 1.0 character-data string for a ``<t>`` element."""
    value = _ILLEGAL.sub("\ufffd", value)
    value = _ESCAPE_LIKE.sub(r"_x005F_\1", value)
    # A literal CR would be read back as LF (XML 1.0 §2.11); a character reference keeps it.
    return escape(value).replace("\r", "&#13;")


def _cell(ref: str, value: Any, neutralise) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = xml_text(str(neutralise(str(value))))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_stream(
    header: list[str], rows: Iterable[Iterable[Any]], *, sheet: str = "Sheet1", neutralise=None
) -> Iterator[bytes]:
    """The bytes of one-sheet workbook, produced as rows are read (about every 500 rows)."""
    neutralise = neutralise or default_neutralise
    sink = ChunkSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(name=escape(sheet[:31], {'"': "&quot;"})))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(_SHEET_START.encode())
            part.write(_row(1, [str(h) for h in header], neutralise))
            for r, row in enumerate(rows, start=2):
                part.write(_row(r, row, neutralise))
                if r % 500 == 0:
                    data = sink.take()
                    if data:
                        yield data
            part.write(_SHEET_END.encode())
    yield sink.take()


def _row(r: int, row: Iterable[Any], neutralise) -> bytes:
    cells = "".join(_cell(f"{column_letter(c)}{r}", v, neutralise) for c, v in enumerate(row))
    return f'<row r="{r}">{cells}</row>'.encode()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]):
    response = StreamingHttpResponse(xlsx_stream(header, rows), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
