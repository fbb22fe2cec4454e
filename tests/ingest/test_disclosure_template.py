"""Our disclosure template, CSV and XLSX (ingest/disclosure/template.py), on the filled
example in fixtures/disclosures/ (template_example.csv, and template_example.xlsx written
from it by make_template_xlsx.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook

from ingest.base import MissingColumns
from ingest.disclosure import read_disclosure, read_template
from ingest.disclosure.template import to_disclosure
from ingest.disclosure.units import UnitError, convert

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "disclosures"
HEADER = "section,item,field,value,unit\n"
MINIMAL = (
    HEADER + "installation,,id,X1,\ninstallation,,name,Works,\ninstallation,,country,TR,\n"
    "period,,start,2025-01-01,\nperiod,,end,2025-12-31,\n"
    "goods,1,cn_code,7208,\ngoods,1,production,10,kt\n"
)


def value_of(data, section, item, field):
    row = data[(data.section == section) & (data.item == item) & (data.field == field)]
    assert len(row) == 1, (section, item, field)
    return row.iloc[0]


@pytest.mark.parametrize("name", ["template_example.csv", "template_example.xlsx"])
def test_the_example_is_read_and_normalised(name):
    data, meta = read_template(FIXTURES / name)
    assert meta["errors"] == []
    assert meta["rows_read"] == meta["rows_accepted"] == 37
    # The numbers of the example, converted by hand to the canonical units.
    expected = {
        ("goods", "1", "production"): (1.2e6, "t"),  # 1.2 Mt
        ("goods", "2", "production"): (85_000, "t"),  # "85,000" t
        ("fuel", "coke", "amount"): (410_000, "t"),  # 410 kt
        ("fuel", "coke", "ncv"): (0.0282, "TJ/t"),  # 28.2 GJ/t
        ("fuel", "coke", "ef"): (107, "t/TJ"),  # tCO2/TJ
        ("fuel", "coke", "carbon_content"): (0.87, "fraction"),  # 87 %
        ("fuel", "gas", "amount"): (52_000, "1000 Nm3"),  # 52000 × 1000 Nm³
        ("fuel", "gas", "ncv"): (0.036, "TJ/1000 Nm3"),  # 36 GJ/1000 Nm³
        ("electricity", "grid", "consumed"): (310_000, "MWh"),  # 310 GWh
        ("electricity", "grid", "ef"): (0.71, "t/MWh"),  # 710 kg CO2/MWh
        ("heat", "1", "exported"): (20, "TJ"),  # 20000 GJ
        ("precursor", "pig-iron", "mass"): (250_000, "t"),  # 250 kt
        ("precursor", "pig-iron", "see_direct"): (1.9, "t/t"),
        ("precursor", "pig-iron", "see_indirect"): (0.12, "t/t"),  # tCO2e/t
    }
    for key, (number, unit) in expected.items():
        row = value_of(data, *key)
        assert_allclose(row.value, number, rtol=1e-12)
        assert row.unit == unit
    assert value_of(data, "installation", "1", "country").text == "IN"
    assert value_of(data, "goods", "1", "cn_code").text == "72085120"
    assert value_of(data, "electricity", "solar", "source").text == "ppa"
    assert value_of(data, "verifier", "1", "date").text == "2026-03-15"


def test_every_value_carries_its_cell_or_line_and_quote():
    xlsx, _ = read_template(FIXTURES / "template_example.xlsx")
    row = value_of(xlsx, "goods", "1", "production")
    assert (row.cell, row.quote) == ("Disclosure!D9", "1.2 Mt")
    csv, _ = read_template(FIXTURES / "template_example.csv")
    row = value_of(csv, "goods", "1", "production")
    assert (row.cell, row.line, row.quote) == ("", 9, "1.2 Mt")
    disclosure = to_disclosure(xlsx)
    assert disclosure["goods"][0]["production"] == {
        "value": 1.2e6,
        "unit": "t",
        "cell": "Disclosure!D9",
        "quote": "1.2 Mt",
    }
    assert disclosure["installation"]["country"]["value"] == "IN"
    assert [p["item"] for p in disclosure["precursor"]] == ["pig-iron"]


def test_read_disclosure_gives_the_json_summary_values():
    _, meta = read_disclosure(FIXTURES / "template_example.csv")
    assert meta["extractor"] == "template"
    assert {
        "field": "goods[1].production",
        "value": 1.2e6,
        "unit": "t",
        "line": 9,
        "quote": "1.2 Mt",
    } in meta["values"]


def test_an_unknown_unit_in_xlsx_names_the_sheet_and_cell(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for line in MINIMAL.splitlines():
        sheet.append(line.split(","))
    sheet.append(["fuel", "coal", "name", "Coal", ""])
    sheet.append(["fuel", "coal", "amount", 12, "bananas"])
    path = tmp_path / "d.xlsx"
    workbook.save(path)
    data, meta = read_template(path)
    error, missing = meta["errors"]
    assert (missing.line, missing.reason) == (None, "fuel item 'coal' has no amount")
    assert error.line == 10 and error.field == "fuel.amount.unit" and error.value == "bananas"
    assert error.reason.startswith("cell Data!E10: unit 'bananas' is not known")
    assert len(data) == 8  # the valid rows are kept


def test_errors_in_csv_name_the_line_and_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        MINIMAL
        + "fuel,coal,name,Coal,\n"
        + "fuel,coal,amount,12,MWh/t\n"  # line 10: not a unit of amount
        + "electricity,grid,consumed,1.5.3,MWh\n"  # line 11: not a number
        + "electricity,grid,source,wind,\n"  # line 12: not a choice
        + "precursor,p,cn_code,72,\n"  # line 13: bad CN code
        + "precursor,p,origin,Atlantis,\n"  # line 14
        + "goods,1,colour,red,\n"  # line 15: unknown field
        + "goods,1,production,11,t\n"  # line 16: duplicate
        + "fuel,coal,carbon_content,1.4,fraction\n"  # line 17: > 1
    )
    _, meta = read_template(path)
    by_line = {e.line: e for e in meta["errors"] if e.line}
    assert (
        by_line[10].reason
        == "line 10, column unit: unit 'MWh/t' is not a unit of t or 1000 Nm3 or TJ"
    )
    assert by_line[11].reason == "line 11, column value: '1.5.3' is not a number"
    assert by_line[12].reason.startswith("line 12, column value: must be one of")
    assert by_line[13].reason == "line 13, column value: CN code '72' must have 4, 6 or 8 digits"
    assert by_line[14].reason == "line 14, column value: unknown country 'Atlantis'"
    assert by_line[15].field == "goods.colour"
    assert by_line[16].reason.endswith("already given on row 8")
    assert "fraction must be <= 1" in by_line[17].reason
    # Records left incomplete by the bad rows are reported without a line.
    missing = {(e.field, e.reason) for e in meta["errors"] if e.line is None}
    assert ("fuel.amount", "fuel item 'coal' has no amount") in missing
    assert ("precursor.mass", "precursor item 'p' has no mass") in missing


def test_a_file_without_the_template_columns_cannot_be_read(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(MissingColumns):
        read_template(path)


@pytest.mark.parametrize(
    ("number", "unit", "allowed", "expected"),
    [
        (1.2, "kt", ("t",), (1200, "t")),
        (3, "Mt", ("t",), (3e6, "t")),
        (500, "kg", ("t",), (0.5, "t")),
        (2, "GWh", ("MWh",), (2000, "MWh")),
        (1000, "kWh", ("MWh",), (1, "MWh")),
        (1000, "GJ", ("TJ",), (1, "TJ")),
        (2000, "Nm³", ("1000 Nm3",), (2, "1000 Nm3")),
        (3, "1000 Nm³", ("1000 Nm3",), (3, "1000 Nm3")),
        (85, "%", ("fraction",), (0.85, "fraction")),
        (0.85, "fraction", ("fraction",), (0.85, "fraction")),
        (1.9, "tCO2/t", ("t/t",), (1.9, "t/t")),
        (56.1, "tCO2/TJ", ("t/TJ",), (56.1, "t/TJ")),
        (0.4, "t/MWh", ("t/MWh",), (0.4, "t/MWh")),
        (400, "kg/MWh", ("t/MWh",), (0.4, "t/MWh")),
        (400, "kg CO2e/MWh", ("t/MWh",), (0.4, "t/MWh")),
    ],
)
def test_units_are_normalised_with_pint(number, unit, allowed, expected):
    converted = convert(number, unit, allowed)
    assert_allclose(converted.value, expected[0], rtol=1e-12)
    assert converted.unit == expected[1]


def test_a_unit_of_the_wrong_dimension_is_an_error():
    with pytest.raises(UnitError, match="not a unit of t"):
        convert(1, "MWh", ("t",))
    with pytest.raises(UnitError, match="not known"):
        convert(1, "kt per furlong", ("t",))
