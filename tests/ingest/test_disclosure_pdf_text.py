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
    as ``[(x, text), ...]`` puts each text at its x (a table row); a cell
    ``(x, text, (a, b, c, d))`` sets the text with that matrix (``(0, 1, -1, 0)``: turned
    90° anticlockwise, reading bottom to top).

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
                for x, text, *matrix in cells:
                    a, b, c, d = matrix[0] if matrix else (1, 0, 0, 1)
                    ops.append(f"{a} {b} {c} {d} {x} {y} Tm ({_escape(text)}) Tj")
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


@pytest.fixture(scope="module")
def jrc_pages():
    # ~15 s of CPU; the default 60 s wall-clock limit is too tight when the suite runs in
    # parallel (xdist) on a busy 2-core machine. The limits have tests of their own.
    return read_pdf_text(JRC, time_limit=240)


def test_it_reads_the_jrc_report_page_34(jrc_pages):
    """PDF page 34 (printed page 31) of Koolen & Vidovic (2022), JRC129297."""
    document = jrc_pages
    assert len(document.pages) == 38
    text = document.page(34).text
    assert "Table A4. CO2 emission intensity per production route" in text
    assert "India 3.72 4.08 0.11 3.83 0.07 0.07 0.38 0.45" in text.splitlines()


# cos 90° in floating point (6.1e-17), as a PDF writer that turns text by 90° computes it
# (PDF numbers have no exponent): pdfminer's "upright" test a·d > 0 then passes although
# the text runs upwards.
EPS = "0.00000000000000006123234"


def test_rotated_headers_read_in_their_own_direction(tmp_path):
    """Regression (issue #15 item 19): column headers set on their side came out as single
    letters in reverse ("m a e r t s p U"). Each is one word, read as the table shows it."""
    up, up_float = (0, 1, -1, 0), (EPS, 1, -1, EPS)
    down, upside_down = (0, -1, 1, 0), (-1, 0, 0, -1)
    path = tmp_path / "rotated.pdf"
    path.write_bytes(
        minimal_pdf(
            [
                [
                    [(150, "Scope 1", up), (180, "Upstream", up_float), (210, "Total*", up_float)],
                    [(240, "Downwards", down), (400, "Upside down", upside_down)],
                    "EU 0.13 0.01 0.14",
                ]
            ]
        )
    )
    page = read_pdf_text(path).pages[0]
    rotated = [w for line in page.lines for w in line.words if w.direction != "ltr"]
    assert sorted((w.x0, w.text, w.direction) for w in rotated)[:4] == [
        (pytest.approx(150 - 10, abs=3), "Scope 1", "btt"),
        (pytest.approx(180 - 10, abs=3), "Upstream", "btt"),
        (pytest.approx(210 - 10, abs=3), "Total*", "btt"),
        (pytest.approx(240, abs=3), "Downwards", "ttb"),
    ]
    assert [(w.text, w.direction) for w in rotated if w.x1 > 300] == [("Upside down", "rtl")]
    assert "Scope 1 Upstream Total*" in page.text.splitlines()
    assert "EU 0.13 0.01 0.14" in page.text.splitlines()  # horizontal lines stay as they were
    # a rotated word stands upright on the page: taller than wide
    upstream = rotated[1]
    assert upstream.bottom - upstream.top > 3 * (upstream.x1 - upstream.x0)


def test_the_jrc_table_a5_headers_read_as_printed(jrc_pages):
    """PDF page 35 (printed page 32), Table A5: its column headers are set on their side."""
    lines = jrc_pages.page(35).text.splitlines()
    assert "Coke Sinter Pellet Blast furnace Basic oxygen furnace" in lines
    assert "Scope 1 Scope 2 " * 5 + "Upstream Total*" in lines
    assert not any(" e p o c S" in line or "m a e r t s p U" in line for line in lines)
    assert "United States 0.88 0.01 0.86 0.02 0.10 0.02 0.37 0.08 0.06 0.02 0.00 0.08" in lines


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
