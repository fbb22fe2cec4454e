"""Checks before any parser sees a disclosure (ingest/disclosure/safety.py): type by
content, size caps, ZIP bombs and XML entity expansion in XLSX files. The PDF bombs are in
test_disclosure_pdf_text.py (they need the sandboxed child)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from ingest.disclosure import UnsafeFile, read_disclosure, read_template
from ingest.disclosure.safety import check_file
from tests.ingest.test_disclosure_pdf_text import minimal_pdf

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sst [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>
"""


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(xlsx: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with parts replaced (or added when absent: openpyxl writes inline
    strings, so xl/sharedStrings.xml is added as Excel would write it)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        missing = {n: d for n, d in replace.items() if n not in source.namelist()}
        for name, data in {**missing, **(add or {})}.items():
            target.writestr(name, data)
    return out.getvalue()


TEMPLATE_ROWS = [["section", "item", "field", "value", "unit"], ["goods", "1", "cn_code", "7208"]]


def test_a_real_workbook_passes(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_bytes(workbook_bytes(TEMPLATE_ROWS))
    assert check_file(path) == "xlsx"


def test_the_type_comes_from_the_content_not_the_name(tmp_path):
    pdf = tmp_path / "looks-like.csv"
    pdf.write_bytes(minimal_pdf([["hello"]]))
    assert check_file(pdf) == "pdf"
    xlsx = tmp_path / "report.pdf"
    xlsx.write_bytes(workbook_bytes(TEMPLATE_ROWS))
    assert check_file(xlsx) == "xlsx"


def test_html_named_xlsx_is_rejected(tmp_path):
    path = tmp_path / "disclosure.xlsx"
    path.write_bytes(b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></html>")
    with pytest.raises(UnsafeFile, match="HTML"):
        read_disclosure(path)


def test_binary_junk_and_nul_bytes_are_rejected(tmp_path):
    junk = tmp_path / "x.csv"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UnsafeFile, match="binary"):
        check_file(junk)
    nul = tmp_path / "y.csv"
    nul.write_bytes(b"section,field,value\n" + b"a\x00b\n" * 100_000)
    with pytest.raises(UnsafeFile):
        check_file(nul)


def test_a_zip_that_is_not_a_workbook_is_rejected(tmp_path):
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(UnsafeFile, match="not an XLSX"):
        check_file(path)


def test_a_zip_bomb_xlsx_is_rejected_before_openpyxl(tmp_path):
    """A sheet that inflates to 300 MB of zeros (about 300 kB on disk)."""
    path = tmp_path / "bomb.xlsx"
    base = zipfile.ZipFile(io.BytesIO(workbook_bytes(TEMPLATE_ROWS)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in base.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, base.read(info))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\0" * 2**20
            for _ in range(300):
                sheet.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(UnsafeFile, match=r"declares|ratio"):
        read_template(path)


def test_too_many_zip_entries_are_rejected(tmp_path):
    path = tmp_path / "many.xlsx"
    extra = {f"xl/media/{i}.bin": b"" for i in range(2100)}
    path.write_bytes(rewrite(workbook_bytes(TEMPLATE_ROWS), {}, extra))
    with pytest.raises(UnsafeFile, match="entries"):
        check_file(path)


def test_billion_laughs_in_shared_strings_is_rejected_cleanly(tmp_path):
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(
        rewrite(workbook_bytes(TEMPLATE_ROWS), {"xl/sharedStrings.xml": BILLION_LAUGHS})
    )
    with pytest.raises(UnsafeFile, match="DTD or entities"):
        read_template(path)


def test_an_external_entity_is_rejected(tmp_path):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&x;</t></si></sst>"
    )
    path = tmp_path / "xxe.xlsx"
    path.write_bytes(rewrite(workbook_bytes(TEMPLATE_ROWS), {"xl/sharedStrings.xml": xxe}))
    with pytest.raises(UnsafeFile):
        check_file(path)


def test_size_caps_apply_per_type(tmp_path, monkeypatch):
    from ingest.disclosure import safety

    monkeypatch.setitem(safety.MAX_BYTES, "csv", 100)
    path = tmp_path / "big.csv"
    path.write_text("section,item,field,value,unit\n" * 10)
    with pytest.raises(UnsafeFile, match="exceeds 100"):
        check_file(path)
