"""PDF text with positions, parsed in a limited child process (ingest/disclosure/pdf_text.py).

Also home of :func:`minimal_pdf`, which writes small PDFs by hand (reportlab is not a
dependency) for the other disclosure tests.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from ingest.disclosure import PdfError, read_pdf_text
from ingest.disclosure.pdf_text import Document

ROOT = Path(__file__).resolve().parents[2]
JRC = ROOT / "fixtures" / "disclosures" / "JRC129297_01.pdf"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(pages: list[list], *, bomb_bytes: int = 0) -> bytes:
    """A valid PDF 1.4 with one Helvetica text line per string, 14 pt apart; a line given
    as ``[(x, text), ...]`` puts each text at its x (a table row).

    ``bomb_bytes`` > 0 replaces the first page's content by a FlateDecode stream that
    inflates to that many bytes of spaces (a decompression bomb).
    """
    objects: list[bytes] = []
    page_ids = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, 3: font, then per page: page object, content stream.
    for i, lines in enumerate(pages):
        page_id, content_id = 4 + 2 * i, 5 + 2 * i
        page_ids.append(page_id)
        if i == 0 and bomb_bytes:
            packer = zlib.compressobj(9)
            chunk = b" " * 2**20
            parts = [packer.compress(chunk) for _ in range(bomb_bytes // len(chunk))]
            stream = b"".join(parts) + packer.flush()
            content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            content += stream + b"\nendstream"
        else:
            ops = ["BT", "/F1 10 Tf"]
            y = 800
            for line in lines:
                cells = [(72, line)] if isinstance(line, str) else line
                for x, text in cells:
                    ops.append(f"1 0 0 1 {x} {y} Tm ({_escape(text)}) Tj")
                y -= 14
            ops.append("ET")
            body = "\n".join(ops).encode("latin-1")
            content = b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"
        page = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        objects.extend([page, content])
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    header_objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(header_objects + objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1,
        xref,
    )
    return bytes(out)


def test_it_reads_words_and_lines_with_page_numbers(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(minimal_pdf([["Annual report 2024"], ["Crude steel: 1,250 kt"]]))
    document = read_pdf_text(path)
    assert [p.number for p in document.pages] == [1, 2]
    assert document.pages[0].text == "Annual report 2024"
    assert document.pages[1].text == "Crude steel: 1,250 kt"
    words = document.pages[1].lines[0].words
    assert [w.text for w in words] == ["Crude", "steel:", "1,250", "kt"]
    assert all(0 < w.x0 < w.x1 < 595 and 0 < w.top < w.bottom < 842 for w in words)
    assert len(document.sha256) == 64


def test_it_reads_the_jrc_report_page_34():
    """PDF page 34 (printed page 31) of Koolen & Vidovic (2022), JRC129297."""
    # ~15 s of CPU; the default 60 s wall-clock limit is too tight when the suite runs in
    # parallel (xdist) on a busy 2-core machine. The limits have tests of their own.
    document = read_pdf_text(JRC, time_limit=240)
    assert len(document.pages) == 38
    text = document.page(34).text
    assert "Table A4. CO2 emission intensity per production route" in text
    assert "India 3.72 4.08 0.11 3.83 0.07 0.07 0.38 0.45" in text.splitlines()


def test_a_decompression_bomb_kills_only_the_child(tmp_path):
    """A 1.5 GiB FlateDecode page stream (a ~1.5 MB file) against a 512 MiB child."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(minimal_pdf([["x"]], bomb_bytes=1536 * 2**20))
    assert path.stat().st_size < 5 * 2**20
    with pytest.raises(PdfError) as caught:
        read_pdf_text(path, memory_limit=512 * 2**20, time_limit=60)
    message = str(caught.value).lower()
    assert any(word in message for word in ("memory", "allocate", "killed")), message
    # The parent is alive and still parses PDFs.
    ok = tmp_path / "ok.pdf"
    ok.write_bytes(minimal_pdf([["still here"]]))
    assert read_pdf_text(ok).pages[0].text == "still here"


def test_a_slow_parse_is_stopped_at_the_time_limit():
    with pytest.raises(PdfError, match=r"longer than 0\.5 s"):
        read_pdf_text(JRC, time_limit=0.5)


def test_a_broken_pdf_gives_a_clean_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n%%EOF\n")
    with pytest.raises(PdfError):
        read_pdf_text(path)


def test_plain_text_documents_have_pages():
    document = Document.from_text(["one", "two"])
    assert document.page(2).text == "two"
    assert document.page(3) is None
    assert os.environ.get("CM_NEVER_SET") is None
