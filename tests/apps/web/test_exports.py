"""CSV and XLSX exports: a cell a spreadsheet would read as a formula is neutralised in both
formats, for any text (OWASP "CSV injection": cells starting with = + - @ TAB CR), and the
XLSX is a valid workbook produced as a stream."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.web.exports import FORMULA_STARTS, csv_stream, neutralise
from apps.web.xlsx import column_letter, xlsx_stream

# Text that starts like a formula, and any text at all.
formula_like = st.builds(
    lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), st.text(max_size=30)
)
any_text = st.one_of(formula_like, st.text(max_size=60))
_ILLEGAL_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def read_csv(cells: list[str]) -> list[str]:
    text = "".join(csv_stream(["value"], [[c] for c in cells]))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [row[0] for row in rows[1:]]


def read_xlsx(cells: list[object]) -> list[object]:
    data = b"".join(xlsx_stream(["value"], [[c] for c in cells]))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [row[0].value for row in sheet.iter_rows(min_row=2)], [
        row[0].data_type for row in sheet.iter_rows(min_row=2)
    ]


def excel_unescape(text: str) -> str:
    """How Excel reads ``_xHHHH_`` in a string (ECMA-376 Part 1 §22.9.2.19)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


@settings(max_examples=300, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=5))
def test_no_csv_cell_reads_back_as_a_formula(cells):
    read = read_csv(cells)
    assert read == [neutralise(c) for c in cells]
    for original, value in zip(cells, read, strict=True):
        assert not value.startswith(FORMULA_STARTS), value
        # Only formula-like text is changed, and only by the leading apostrophe.
        assert value == original or value == "'" + original


@settings(max_examples=200, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=5))
def test_no_xlsx_cell_reads_back_as_a_formula(cells):
    values, types = read_xlsx(cells)
    assert all(t != "f" for t in types)
    for original, value in zip(cells, values, strict=True):
        expected = _ILLEGAL_IN_XML.sub("\ufffd", neutralise(original))
        value = excel_unescape(value or "")
        assert value == expected
        assert not value.startswith(FORMULA_STARTS), value


def test_numbers_stay_numbers_in_both_formats():
    assert read_csv(["-3"]) == ["'-3"]  # text that looks like a negative number is text
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
