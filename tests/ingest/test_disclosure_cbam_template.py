"""The CBAM communication template's product summary (ingest/disclosure/cbam_template.py).

Two kinds of workbook:

- the Commission's own five filled examples (v2.1), copied verbatim into
  fixtures/cbam/official/template_examples/ (attribution in fixtures/cbam/README.md);
- small workbooks generated in the layout of its "Summary_Products" sheet (as dumped in
  GordanVasilic/CBAMCalc, ExcelAnalysis/Summary_Products/raw_data.csv, and as the
  examples have it): title in B2, header row 8 from column D, the template's example in
  row 9 ("Ex." in C9), numbered rows from row 10, hidden helper rows below the table
  (column A "ausblenden", cells FALSE) and hidden helper columns right of it (row 1
  "ausblenden"). The example row's values (72071919, SEE 0.915 / 0.396 / 1.311 tCO2e/t,
  embedded electricity 0.281 MWh/t) are the template's own; the filled rows are invented.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook, load_workbook

from ingest.base import MissingColumns
from ingest.disclosure import read_cbam_template, read_disclosure

HEADER = [
    "Production process from which the products arise",
    "Type of aggregated good or precursor",
    "CN Codes",
    "CN Name",
    "Product name \n(used for communication with reporting declarant, e.g. on invoices)",
    "SEE (direct)",
    "SEE (indirect)",
    "SEE (total)",
    "Unit",
    "Share of emissions by default value",
    "Source for electricity EF",
    "Embedded electricity (MWh/t)",
    "The main reducing agent of the precursor, if known",
    "Steel mill identification number",
    "% Mn",
]
EXAMPLE = [
    "Example process A",
    "Iron or steel products",
    "72071919",
    "Semi-finished products of iron or non-alloy steel ...",
    "Example name A",
    0.915,
    0.396,
    1.311,
    "tCO2e/t",
    0,
    "D.4.1",
    0.281,
    "Coal or coke",
    "623108",
    0.1395,
]
ROWS = [
    ["BF-BOF", "Flat-rolled products", "7208 51 20", "Plates", "HR plate", 1.95, 0.21, 2.16,
     "tCO2e/t", 0, "D.4.1", 0.38],
    ["BF-BOF", "Crude steel", "72071111", "Slabs", "Slab", 1.81, "0,18", 1.99, "tCO2e/t",
     "25%", "Grid mix", 0.3],
    ["EAF", "Crude steel", "720718", "Billets", "Billet", 0.35, 0.40, None, "tCO2e/t", 0.5,
     "PPA", 0.55],
    ["EAF", "Crude steel", "72", "Bad code", "x", 0.35, 0.40, 0.75, "tCO2e/t", 0, "", 0.5],
]  # fmt: skip


EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures/cbam/official/template_examples"


def template(path, rows=ROWS, sheet_name="Summary_Products", helpers=False):
    workbook = Workbook()
    workbook.active.title = "A_InstData"
    workbook.active["B2"] = "Installation data"
    sheet = workbook.create_sheet(sheet_name)
    sheet["A1"] = "ausblenden"
    sheet["B2"] = "Summary of products"
    sheet["D6"] = "Please click on this link for further guidance on how to complete this section."
    for offset, label in enumerate(HEADER):
        sheet.cell(row=8, column=4 + offset, value=label)
    sheet["C9"] = "Ex."
    for offset, cell in enumerate(EXAMPLE):
        sheet.cell(row=9, column=4 + offset, value=cell)
    for n in range(1, 21):
        sheet.cell(row=9 + n, column=3, value=n)
    for n, row in enumerate(rows, start=1):
        for offset, cell in enumerate(row):
            sheet.cell(row=9 + n, column=4 + offset, value=cell)
    if helpers:
        # As in the Commission's examples: rows 111-… hidden, marked in column A, holding
        # FALSE / n.a. in the table's columns; a hidden helper column (row 1 "ausblenden")
        # repeating a header label, as the examples' column BK does.
        for r in range(111, 131):
            sheet.cell(row=r, column=1, value="ausblenden")
            sheet.cell(row=r, column=3, value=r - 110)
            for c in (6, 8, 9, 10):  # F (CN code), H, I (SEE direct), J (SEE indirect)
                sheet.cell(row=r, column=c, value=False if c != 10 else "n.a.")
            sheet.row_dimensions[r].hidden = True
        sheet.cell(row=1, column=60, value="ausblenden")
        sheet.cell(row=8, column=60, value="CN Codes")
        sheet.cell(row=10, column=60, value="TRUE")
        sheet.column_dimensions["BH"].hidden = True
        # a row hidden by the sheet alone (no marker): not data either
        sheet.cell(row=140, column=6, value="not-a-code")
        sheet.row_dimensions[140].hidden = True
    workbook.save(path)
    return path


def test_it_reads_the_products_and_skips_the_example(tmp_path):
    data, meta = read_cbam_template(template(tmp_path / "cbam.xlsx"))
    assert meta["sheet"] == "Summary_Products" and meta["header_row"] == 8
    assert meta["columns"]["cn_code"] == "F" and meta["columns"]["see_direct"] == "I"
    assert list(data.cn_code) == ["72085120", "72071111", "720718"]
    assert "72071919" not in set(data.cn_code)  # the template's example row
    assert_allclose(data.see_direct_t_per_t, [1.95, 1.81, 0.35])
    assert_allclose(data.see_indirect_t_per_t, [0.21, 0.18, 0.40])  # "0,18": decimal comma
    assert_allclose(data.see_total_t_per_t, [2.16, 1.99, float("nan")])
    assert_allclose(data.default_share, [0, 0.25, 0.5])  # "25%" is 0.25
    assert_allclose(data.embedded_electricity_mwh_per_t, [0.38, 0.3, 0.55])
    assert list(data.electricity_source) == ["D.4.1", "Grid mix", "PPA"]
    assert data.cells[0]["see_direct"] == "Summary_Products!I10"
    assert list(data.source_line) == [10, 11, 12]


def test_a_bad_row_is_reported_with_its_cell(tmp_path):
    _, meta = read_cbam_template(template(tmp_path / "cbam.xlsx"))
    (error,) = meta["errors"]
    assert error.line == 13 and error.field == "cn_code"
    assert error.reason == "Summary_Products!F13: CN code '72' must have 4, 6 or 8 digits"
    assert (meta["rows_read"], meta["rows_accepted"], meta["rows_rejected"]) == (4, 3, 1)


def test_the_header_is_found_wherever_it_is(tmp_path):
    """Summary_Communication repeats the table lower down; any sheet will do."""
    path = template(tmp_path / "cbam.xlsx", sheet_name="Summary_Communication")
    data, meta = read_cbam_template(path)
    assert meta["sheet"] == "Summary_Communication" and len(data) == 3


def test_read_disclosure_recognises_the_template(tmp_path):
    _, meta = read_disclosure(template(tmp_path / "cbam.xlsx"))
    assert meta["extractor"] == "cbam_template"
    assert {
        "field": "72085120.see_direct",
        "value": 1.95,
        "unit": "t/t",
        "cell": "Summary_Products!I10",
        "quote": "1.95",
    } in meta["values"]


def test_a_workbook_without_the_summary_cannot_be_read(tmp_path):
    path = tmp_path / "other.xlsx"
    workbook = Workbook()
    workbook.active["A1"] = "nothing here"
    workbook.save(path)
    with pytest.raises(MissingColumns):
        read_cbam_template(path)


def test_hidden_helper_rows_and_columns_are_not_data(tmp_path):
    """Regression (issue #15 item 16): the template's hidden helper rows read TRUE/FALSE/n.a.
    and were reported as ~700 row errors per file; they are not data."""
    data, meta = read_cbam_template(template(tmp_path / "cbam.xlsx", helpers=True))
    assert list(data.cn_code) == ["72085120", "72071111", "720718"]
    (error,) = meta["errors"]  # the genuinely bad visible row, and nothing else
    assert error.reason == "Summary_Products!F13: CN code '72' must have 4, 6 or 8 digits"
    assert (meta["rows_read"], meta["rows_accepted"], meta["rows_rejected"]) == (4, 3, 1)
    assert meta["hidden_rows_skipped"] == 21
    assert meta["columns"]["cn_code"] == "F"  # not the hidden helper column BH


# The figures each example states in its Summary_Products sheet (cached values of the
# Commission's own formulas, read with openpyxl data_only=True): row 10 onwards, CN code in
# column F, SEE direct / indirect / total in I / J / K [tCO2e/t].
EXAMPLE_PRODUCTS = {
    "1_CBAM_SEE_V2.1_Example_Cement.xlsx": [("25232900", 0.785215, 0.122243)],
    "2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace.xlsx": [
        (cn, 1.538976, 0.203554) for cn in ("72081000", "72122000", "72139120", "73021028")
    ],
    "3_CBAM_SEE_V2.1_Example_Steel_2_EAF_alloys.xlsx": [
        ("72189911", 1.001490, 1.378424),
        ("73041100", 1.439606, 1.731482),
        ("72191310", 1.439606, 1.731482),
        ("72210010", 1.439606, 1.731482),
    ],
    "5_CBAM_SEE_V2.1_Example_Fertilizer.xlsx": [("31052010", 0.309635, 0.053877)],
    "6_CBAM_SEE_V2.1_Example_Aluminium.xlsx": [
        ("76011010", 1.555, 6.15),
        ("76051900", 1.698080, 6.911947),
    ],
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_PRODUCTS))
def test_the_commissions_examples_read_without_a_false_error(name):
    data, meta = read_cbam_template(EXAMPLES / name)
    assert meta["errors"] == []
    assert meta["sheet"] == "Summary_Products" and meta["header_row"] == 8
    expected = EXAMPLE_PRODUCTS[name]
    assert list(data.cn_code) == [cn for cn, _, _ in expected]
    assert list(data.source_line) == list(range(10, 10 + len(expected)))
    assert_allclose(data.see_direct_t_per_t, [d for _, d, _ in expected], atol=5e-7)
    assert_allclose(data.see_indirect_t_per_t, [i for _, _, i in expected], atol=5e-7)
    # SEE (total) = direct + indirect, the template's own sum (column K = I + J, computed by
    # Excel from unrounded intermediates: equal to ~1e-11)
    assert_allclose(
        data.see_total_t_per_t, data.see_direct_t_per_t + data.see_indirect_t_per_t, rtol=1e-10
    )
    assert meta["hidden_rows_skipped"] == 204  # rows 111-314 of the examples


def test_a_bad_value_typed_into_a_real_template_is_still_reported(tmp_path):
    """The Commission's blast-furnace example with a bad CN code and a text SEE typed into
    the visible product row 14, and a product typed into hidden row 150: the two visible
    mistakes are reported with their cells, the hidden row is not read."""
    path = tmp_path / "bf.xlsx"
    shutil.copy(EXAMPLES / "2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace.xlsx", path)
    with pytest.warns(UserWarning):  # openpyxl drops the template's Excel extensions
        workbook = load_workbook(path, data_only=True)  # keeps the cached values on save
    sheet = workbook["Summary_Products"]
    assert not sheet.row_dimensions[14].hidden and sheet.row_dimensions[150].hidden
    sheet["F14"], sheet["I14"], sheet["J14"] = "7208 5", "about two", 0.2
    sheet["F150"], sheet["I150"], sheet["J150"] = "72081000", 9.9, 9.9
    workbook.save(path)
    data, meta = read_cbam_template(path)
    assert [(e.line, e.field, e.value) for e in meta["errors"]] == [
        (14, "cn_code", "7208 5"),
        (14, "see_direct", "about two"),
    ]
    assert meta["errors"][1].reason == "Summary_Products!I14: not a number"
    assert len(data) == 4 and 9.9 not in set(data.see_direct_t_per_t)
