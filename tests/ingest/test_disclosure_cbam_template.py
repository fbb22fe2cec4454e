"""The CBAM communication template's product summary (ingest/disclosure/cbam_template.py).

The Commission's template is not available offline. The workbook here is generated in the
layout of its "Summary_Products" sheet as dumped in GordanVasilic/CBAMCalc
(ExcelAnalysis/Summary_Products/raw_data.csv): title in B2, header row 8 from column D,
the template's example in row 9 ("Ex." in C9), numbered rows from row 10. The example
row's values (72071919, SEE 0.915 / 0.396 / 1.311 tCO2e/t, embedded electricity 0.281
MWh/t) are the template's own; the filled rows are invented.
"""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook

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


def template(path, rows=ROWS, sheet_name="Summary_Products"):
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
