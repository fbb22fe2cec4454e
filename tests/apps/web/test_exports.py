"""CSV and XLSX exports: no segment of any text a spreadsheet could make a cell reads as a
formula, in either format (OWASP "CSV injection": a cell starting with = + - @ TAB CR; a
spreadsheet may start a cell after , ; | TAB or a line break); the change is exactly
reversible; every CSV field is quoted after a byte-order mark; the XLSX is a valid
workbook produced as a stream.

The dangerous starts and separators are written here, independently of the code."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.common.exports import csv_stream, neutralise, restore
from apps.common.xlsx import column_letter, xlsx_stream

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (",", ";", "|", "\t", "\r", "\n")
SPLIT = re.compile(r"[,;|\t\r\n]")

# Text with formulas after separators, spaces and quotes, and any text at all.
piece = st.one_of(
    st.sampled_from(DANGEROUS + SEPARATORS + (" ", '"', "'", "a", "1")), st.text(max_size=4)
)
formula_like = st.lists(piece, max_size=12).map("".join)
any_text = st.one_of(formula_like, st.text(max_size=60))
_ILLEGAL_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def no_formula(text: str) -> bool:
    """No piece of ``text`` between separators starts like a formula, after the spaces and
    quotes a spreadsheet skips."""
    return not any(s.lstrip(' "').startswith(DANGEROUS) for s in [text, *SPLIT.split(text)])


def read_csv(cells: list[str], **dialect) -> list[list[str]]:
    text = "".join(csv_stream(["value"], [[c] for c in cells]))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), **dialect))


def read_xlsx(cells: list[object]) -> list[object]:
    data = b"".join(xlsx_stream(["value"], [[c] for c in cells]))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [row[0].value for row in sheet.iter_rows(min_row=2)], [
        row[0].data_type for row in sheet.iter_rows(min_row=2)
    ]


def excel_unescape(text: str) -> str:
    """How Excel reads ``_xHHHH_`` in a string (ECMA-376 Part 1 §22.9.2.19)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_neutralising_is_exactly_reversible_and_leaves_no_formula(text):
    safe = neutralise(text)
    assert no_formula(safe), repr(safe)
    assert restore(safe) == text
    assert safe.replace("'", "") == text.replace("'", "")  # only apostrophes are added


def test_a_formula_after_a_semicolon_is_neutralised():
    assert neutralise('Imp;=HYPERLINK("x")') == 'Imp;\'=HYPERLINK("x")'
    assert neutralise("a, -1") == "a,' -1"
    assert neutralise("plain-text, 2026-03-02") == "plain-text, 2026-03-02"


@settings(max_examples=300, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=5))
def test_no_csv_cell_reads_back_as_a_formula_whatever_the_delimiter(cells):
    read = [row[0] for row in read_csv(cells)[1:]]
    assert read == [neutralise(c) for c in cells]
    assert [restore(v) for v in read] == cells
    for delimiter in (",", ";", "|", "\t"):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            for row in read_csv(cells, delimiter=delimiter, quoting=quoting, escapechar=None):
                assert all(no_formula(cell) for cell in row), (delimiter, row)


def test_every_csv_field_is_quoted():
    text = "".join(csv_stream(["a", "b"], [["x", 1.5], [None, "y"]]))
    assert text == '\ufeff"a","b"\r\n"x","1.5"\r\n"","y"\r\n'


@settings(max_examples=200, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=5))
def test_no_xlsx_cell_reads_back_as_a_formula(cells):
    values, types = read_xlsx(cells)
    assert all(t != "f" for t in types)
    for original, value in zip(cells, values, strict=True):
        expected = _ILLEGAL_IN_XML.sub("\ufffd", neutralise(original))
        value = excel_unescape(value or "")
        assert value == expected
        assert no_formula(value), repr(value)


def test_numbers_stay_numbers_in_both_formats():
    assert read_csv(["-3"])[1] == ["'-3"]  # text that looks like a negative number is text
    values, types = read_xlsx([-3.5, 12, None, True])
    assert values == [-3.5, 12, None, True]
    assert types[:2] == ["n", "n"]


def test_the_xlsx_is_streamed_in_pieces_as_rows_arrive():
    consumed = []

    def rows():
        for i in range(20_000):
            consumed.append(i)
            yield [i, f"row {i}"]

    pieces, read_when = [], []
    for piece in xlsx_stream(["a", "b"], rows()):
        pieces.append(piece)
        read_when.append(len(consumed))
    # Bytes leave before the last row is read: the sheet is never whole in memory.
    assert len(pieces) >= 3 and read_when[1] < 20_000, read_when
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(pieces))).active
    assert sheet.max_row == 20_001
    assert [c.value for c in sheet[20_001]] == [19_999, "row 19999"]


def test_column_letters_follow_the_spreadsheet_alphabet():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]
