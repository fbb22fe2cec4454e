"""The customs declaration reader: aliases, dialects, dates, row errors, XLSX, bad files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook

from ingest.base import AmbiguousColumns, IngestError, MissingColumns, UnreadableFile
from ingest.customs import COLUMN_ALIASES, read_customs
from ingest.customs.reader import COLUMNS, MassUnitUnknown

HEADER = [
    "declaration_id",
    "line",
    "date",
    "cn_code",
    "origin",
    "exporter",
    "importer",
    "net_mass_kg",
    "statistical_value_eur",
    "supplementary_units",
    "procedure",
    "installation_id",
    "importer_eori",
]
ROW = [
    "D1",
    "1",
    "2026-01-15",
    "7208 10 00",
    "CN",
    "Shanghai Steel",
    "EU Importer",
    "25000",
    "12345.50",
    "3",
    "4000",
    "INST-1",
    "DE123456789012345",
]


def write(path, header, rows, *, delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def row(**changes):
    values = dict(zip(HEADER, ROW, strict=True))
    values.update(changes)
    return [values[name] for name in HEADER]


def errors_of(meta):
    return [(e.line, e.field) for e in meta["errors"]]


def test_it_reads_canonical_columns_with_their_types(tmp_path):
    path = write(
        tmp_path / "d.csv",
        HEADER,
        [
            ROW,
            row(
                line="2",
                statistical_value_eur="",
                importer="",
                importer_eori="",
                installation_id="",
            ),
        ],
    )
    data, meta = read_customs(path)
    assert list(data.columns) == COLUMNS
    assert data["importer_eori"].tolist() == ["DE123456789012345", ""]
    first = data.iloc[0]
    assert (first["declaration_id"], first["line"], first["cn_code"], first["origin"]) == (
        "D1",
        1,
        "72081000",
        "CN",
    )
    assert first["date"] == pd.Timestamp("2026-01-15")
    assert_allclose(first["net_mass_t"], 25.0)
    assert first["mass_unit"] == "kg"
    assert_allclose(first["statistical_value_eur"], 12345.5)
    assert (first["exporter"], first["importer"], first["procedure"], first["installation_id"]) == (
        "Shanghai Steel",
        "EU Importer",
        "4000",
        "INST-1",
    )
    assert np.isnan(data.iloc[1]["statistical_value_eur"])
    assert data.iloc[1]["importer"] == "" and data.iloc[1]["installation_id"] == ""
    assert data["source_line"].tolist() == [2, 3]
    assert data["line"].dtype == np.int64 and data["source_line"].dtype == np.int64
    assert data["net_mass_t"].dtype == np.float64
    assert data["statistical_value_eur"].dtype == np.float64
    assert pd.api.types.is_datetime64_dtype(data["date"])
    assert meta | {"errors": None} == meta | {
        "source": "customs",
        "path": str(path),
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "decimal": "point",
        "rows_read": 2,
        "rows_accepted": 2,
        "rows_rejected": 0,
        "duplicates": 0,
        "ignored_columns": [],
        "errors": None,
    }
    assert meta["errors"] == []


ALIASES = [
    (field, alias)
    for field, names in COLUMN_ALIASES.items()
    for alias in names
    if field not in ("net_mass_kg", "net_mass_t", "net_mass", "mass_unit")
]


@pytest.mark.parametrize(("field", "alias"), ALIASES)
def test_every_header_alias_maps_to_its_field(tmp_path, field, alias):
    header = [alias if name == field else name for name in HEADER]
    data, meta = read_customs(write(tmp_path / "d.csv", header, [ROW]))
    assert meta["columns"][field] == alias
    assert meta["errors"] == [] and len(data) == 1
    expected = {
        "declaration_id": "D1",
        "line": 1,
        "date": pd.Timestamp("2026-01-15"),
        "cn_code": "72081000",
        "origin": "CN",
        "exporter": "Shanghai Steel",
        "importer": "EU Importer",
        "statistical_value_eur": 12345.5,
        "supplementary_units": 3.0,
        "procedure": "4000",
        "installation_id": "INST-1",
        "importer_eori": "DE123456789012345",
    }
    assert data.iloc[0][field] == expected[field]


@pytest.mark.parametrize(
    "header", ["Declaration ID", "DECLARATION_NUMBER", "declaration-number", "Mrn", " decl id "]
)
def test_header_matching_ignores_case_spaces_underscores_and_punctuation(tmp_path, header):
    _, meta = read_customs(write(tmp_path / "d.csv", [header, *HEADER[1:]], [ROW]))
    assert meta["columns"]["declaration_id"] == header.strip()


@pytest.mark.parametrize(
    ("alias", "mass", "tonnes", "unit"),
    [(alias, "25000", 25.0, "kg") for alias in COLUMN_ALIASES["net_mass_kg"]]
    + [(alias, "25", 25.0, "t") for alias in COLUMN_ALIASES["net_mass_t"]],
)
def test_the_mass_unit_comes_from_the_header(tmp_path, alias, mass, tonnes, unit):
    header = [alias if name == "net_mass_kg" else name for name in HEADER]
    data, meta = read_customs(write(tmp_path / "d.csv", header, [row(net_mass_kg=mass)]))
    assert meta["errors"] == []
    assert_allclose(data.iloc[0]["net_mass_t"], tonnes)
    assert data.iloc[0]["mass_unit"] == unit


@pytest.mark.parametrize("mass_header", COLUMN_ALIASES["net_mass"])
@pytest.mark.parametrize("unit_header", COLUMN_ALIASES["mass_unit"])
def test_or_from_a_separate_unit_column(tmp_path, mass_header, unit_header):
    header = [*HEADER[:7], mass_header, unit_header, *HEADER[8:]]
    rows = [
        [*ROW[:7], mass, unit, *ROW[8:]]
        for mass, unit in [
            ("25000", "kg"),
            ("25", "t"),
            ("25000", "KGM"),
            ("25", "TNE"),
            ("25", "tonnes"),
            ("25", "lb"),
        ]
    ]
    for i, r in enumerate(rows):
        r[1] = str(i + 1)
    data, meta = read_customs(write(tmp_path / "d.csv", header, rows))
    assert_allclose(data["net_mass_t"], [25.0] * 5)
    assert data["mass_unit"].tolist() == ["kg", "t", "kg", "t", "t"]
    assert [(e.line, e.field, e.reason) for e in meta["errors"]] == [
        (7, "mass_unit", "mass unit 'lb' must be kg or t")
    ]


def test_a_negative_or_zero_mass_in_a_tonnes_column_is_refused(tmp_path):
    # A net mass is a quantity of goods (Reg. 2023/956 Art. 6(2)(a): "the total quantity
    # of each type of goods ... expressed in tonnes"): it cannot be negative or zero, whatever
    # the unit.  The kg column is checked above; here the unit comes from the header (t).
    header = [name if name != "net_mass_kg" else "net_mass_t" for name in HEADER]
    rows = [
        row(net_mass_kg="2.5"),
        row(line="2", net_mass_kg="-2.5"),
        row(line="3", net_mass_kg="-0"),
        row(line="4", net_mass_kg="-1e-3"),
    ]
    data, meta = read_customs(write(tmp_path / "d.csv", header, rows))
    assert data["source_line"].tolist() == [2]
    assert_allclose(data["net_mass_t"], [2.5])
    assert [(e.line, e.field, e.value, e.reason) for e in meta["errors"]] == [
        (3, "net_mass_t", "-2.5", "net mass must be > 0"),
        (4, "net_mass_t", "-0", "net mass must be > 0"),
        (5, "net_mass_t", "-1e-3", "net mass must be > 0"),
    ]


def test_a_negative_mass_with_a_unit_column_in_tonnes_is_refused(tmp_path):
    header = [*HEADER[:7], "net mass", "unit", *HEADER[8:]]
    rows = [[*ROW[:7], "-25", "t", *ROW[8:]], [*ROW[:7], "25", "TNE", *ROW[8:]]]
    rows[1][1] = "2"
    data, meta = read_customs(write(tmp_path / "d.csv", header, rows))
    assert data["source_line"].tolist() == [3]
    assert_allclose(data["net_mass_t"], [25.0])
    assert [(e.line, e.field, e.value, e.reason) for e in meta["errors"]] == [
        (2, "net_mass", "-25", "net mass must be > 0")
    ]


def test_a_negative_mass_in_a_tonnes_column_of_a_workbook_is_refused(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["MRN", "Goods item", "Date", "CN code", "Origin", "Exporter", "Net mass (t)"])
    sheet.append(["D1", 1, dt.date(2026, 3, 2), "7208", "CN", "S", -12.5])
    sheet.append(["D1", 2, dt.date(2026, 3, 2), "7208", "CN", "S", 12.5])
    workbook.save(tmp_path / "d.xlsx")
    data, meta = read_customs(tmp_path / "d.xlsx")
    assert data["source_line"].tolist() == [3]
    assert_allclose(data["net_mass_t"], [12.5])
    assert [(e.line, e.field, e.reason) for e in meta["errors"]] == [
        (2, "net_mass_t", "net mass must be > 0")
    ]


def test_a_net_mass_without_a_unit_is_refused(tmp_path):
    header = [name if name != "net_mass_kg" else "net mass" for name in HEADER]
    with pytest.raises(MassUnitUnknown, match="net mass"):
        read_customs(write(tmp_path / "d.csv", header, [ROW]))


@pytest.mark.parametrize(
    ("delimiter", "value"),
    [(",", "12345.50"), (";", "12345,50"), ("\t", "12345.50"), ("|", "12345.50")],
)
def test_it_sniffs_the_delimiter(tmp_path, delimiter, value):
    rows = [
        row(statistical_value_eur=value),
        row(line="2", exporter="Acme, Inc.", statistical_value_eur=value),
    ]
    path = write(tmp_path / "d.csv", HEADER, rows, delimiter=delimiter)
    data, meta = read_customs(path)
    assert meta["delimiter"] == delimiter
    assert meta["errors"] == []
    assert_allclose(data["statistical_value_eur"].iloc[0], 12345.5)
    assert data["exporter"].tolist() == ["Shanghai Steel", "Acme, Inc."]


def test_utf8_with_a_bom(tmp_path):
    path = write(tmp_path / "d.csv", HEADER, [row(exporter="Türk Çelik")], encoding="utf-8-sig")
    data, meta = read_customs(path)
    assert meta["encoding"] == "utf-8-sig"
    assert meta["columns"]["declaration_id"] == "declaration_id"
    assert data.iloc[0]["exporter"] == "Türk Çelik"


def test_latin1_is_the_fallback(tmp_path):
    path = write(
        tmp_path / "d.csv",
        HEADER,
        [row(exporter="Aciérie Générale", origin="Türkiye")],
        delimiter=";",
        encoding="latin-1",
    )
    data, meta = read_customs(path)
    assert meta["encoding"] == "latin-1"
    assert data.iloc[0]["exporter"] == "Aciérie Générale"
    assert data.iloc[0]["origin"] == "TR"


def test_a_semicolon_file_uses_the_decimal_comma(tmp_path):
    header = [name if name != "net_mass_kg" else "net_mass_t" for name in HEADER]
    rows = [
        row(net_mass_kg="1.234,5", statistical_value_eur="1.234.567,89"),
        row(line="2", net_mass_kg="12,5", statistical_value_eur="100"),
        row(line="3", net_mass_kg="1.234", statistical_value_eur=""),
    ]
    data, meta = read_customs(write(tmp_path / "d.csv", header, rows, delimiter=";"))
    assert meta["decimal"] == "comma"
    assert_allclose(data["net_mass_t"], [1234.5, 12.5, 1234.0])
    assert_allclose(data["statistical_value_eur"].iloc[:2], [1234567.89, 100.0])


def test_a_decimal_comma_is_detected_in_a_tab_file(tmp_path):
    rows = [row(statistical_value_eur="12,5"), row(line="2", statistical_value_eur="1.000,25")]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows, delimiter="\t"))
    assert meta["decimal"] == "comma"
    assert_allclose(data["statistical_value_eur"], [12.5, 1000.25])


def test_a_decimal_point_is_detected_in_a_semicolon_file(tmp_path):
    rows = [row(statistical_value_eur="12.5"), row(line="2", statistical_value_eur="1,000.25")]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows, delimiter=";"))
    assert meta["decimal"] == "point"
    assert_allclose(data["statistical_value_eur"], [12.5, 1000.25])


def test_a_number_written_the_other_way_is_an_error_not_a_guess(tmp_path):
    rows = [
        row(statistical_value_eur="12,5"),
        row(line="2", statistical_value_eur="7.5"),
        row(line="3", statistical_value_eur="1,320"),
    ]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows, delimiter=";"))
    assert meta["decimal"] == "comma"
    assert_allclose(data["statistical_value_eur"], [12.5, 1.32])
    assert [(e.line, e.field, e.value) for e in meta["errors"]] == [
        (3, "statistical_value_eur", "7.5")
    ]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-01-15", "2026-01-15"),
        ("15/01/2026", "2026-01-15"),
        ("15.01.2026", "2026-01-15"),
        ("15-01-2026", "2026-01-15"),
        ("5/1/2026", "2026-01-05"),
        ("2026-01-15T08:30:00", "2026-01-15"),
        ("2026-01-15 08:30", "2026-01-15"),
    ],
)
def test_dates_are_iso_or_day_first(tmp_path, text, day):
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, [row(date=text)]))
    assert meta["errors"] == []
    assert data.iloc[0]["date"] == pd.Timestamp(day)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/2026", "date '31/02/2026' does not exist"),
        ("01/15/2026", "date '01/15/2026' does not exist"),  # month first is not accepted
        ("2026/01/15", "date '2026/01/15' is not a date (write 2026-01-15 or 15/01/2026)"),
        ("15/01/26", "date '15/01/26' is not a date (write 2026-01-15 or 15/01/2026)"),
        ("", "date is empty"),
    ],
)
def test_impossible_or_unknown_dates_are_row_errors(tmp_path, text, reason):
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, [row(date=text)]))
    assert data.empty
    assert [(e.line, e.field, e.reason) for e in meta["errors"]] == [(2, "date", reason)]


def test_each_bad_field_is_reported_by_line_and_valid_rows_are_kept(tmp_path):
    rows = [
        row(),  # line 2: valid
        row(line="2", net_mass_kg=""),  # 3
        row(line="3", net_mass_kg="-5"),  # 4
        row(line="4", net_mass_kg="0"),  # 5
        row(line="5", net_mass_kg="abc"),  # 6
        row(line="6", date="31/02/2026"),  # 7
        row(line="7", cn_code="72A8"),  # 8
        row(line="8", origin="Atlantis"),  # 9
        row(declaration_id="", line="1"),  # 10
        row(declaration_id="D2", line="1.5"),  # 11
        row(declaration_id="D2", line="0"),  # 12
        row(),  # 13: repeats D1 line 1 of line 2
        row(line="9", exporter=""),  # 14
        row(line="10", origin="Atlantis", net_mass_kg="-1", date="yesterday"),  # 15
        row(line="11", cn_code="7601", origin="Türkiye"),  # 16: valid
        row(line="12", statistical_value_eur="12a"),  # 17
        row(line="13", origin=""),  # 18
    ]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows))
    assert data["source_line"].tolist() == [2, 16]
    assert data["origin"].tolist() == ["CN", "TR"]
    found = [(e.line, e.field, e.value, e.reason) for e in meta["errors"]]
    assert found == [
        (3, "net_mass_kg", "", "net mass is empty"),
        (4, "net_mass_kg", "-5", "net mass must be > 0"),
        (5, "net_mass_kg", "0", "net mass must be > 0"),
        (6, "net_mass_kg", "abc", "net mass 'abc' is not a number"),
        (7, "date", "31/02/2026", "date '31/02/2026' does not exist"),
        (8, "cn_code", "72A8", "CN code '72A8' must have 4, 6 or 8 digits"),
        (9, "origin", "Atlantis", "unknown country 'Atlantis'"),
        (10, "declaration_id", "", "declaration id is empty"),
        (11, "line", "1.5", "line '1.5' must be a whole number >= 1"),
        (12, "line", "0", "line '0' must be a whole number >= 1"),
        (13, "line", "1", "duplicate: declaration 'D1' line 1 already on line 2"),
        (14, "exporter", "", "exporter is empty"),
        (
            15,
            "date",
            "yesterday",
            "date 'yesterday' is not a date (write 2026-01-15 or 15/01/2026)",
        ),
        (15, "origin", "Atlantis", "unknown country 'Atlantis'"),
        (15, "net_mass_kg", "-1", "net mass must be > 0"),
        (17, "statistical_value_eur", "12a", "statistical value '12a' is not a number"),
        (18, "origin", "", "country of origin is empty"),
    ]
    assert (meta["rows_read"], meta["rows_accepted"], meta["rows_rejected"]) == (17, 2, 15)
    assert meta["duplicates"] == 1


def test_the_first_of_two_equal_keys_is_kept(tmp_path):
    rows = [row(net_mass_kg="1000"), row(line="2"), row(net_mass_kg="2000")]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows))
    assert data["source_line"].tolist() == [2, 3]
    assert_allclose(data["net_mass_t"], [1.0, 25.0])
    assert errors_of(meta) == [(4, "line")] and meta["duplicates"] == 1


def test_a_missing_required_column_names_the_file_the_field_and_the_columns(tmp_path):
    header = [name for name in HEADER if name != "origin"]
    path = write(
        tmp_path / "d.csv", header, [[v for n, v in zip(HEADER, ROW, strict=True) if n != "origin"]]
    )
    with pytest.raises(MissingColumns) as info:
        read_customs(path)
    message = str(info.value)
    assert str(path) in message and "origin" in message and "'exporter'" in message
    assert info.value.missing == ["origin"]


def test_a_missing_mass_column_is_named(tmp_path):
    header = [name for name in HEADER if name != "net_mass_kg"]
    path = write(tmp_path / "d.csv", header, [])
    with pytest.raises(MissingColumns, match="net mass"):
        read_customs(path)


def test_two_columns_with_the_same_name_are_ambiguous(tmp_path):
    path = write(tmp_path / "d.csv", [*HEADER, "CN Code"], [[*ROW, "7601"]])
    with pytest.raises(AmbiguousColumns, match="cn_code"):
        read_customs(path)


def test_the_preferred_alias_wins_and_the_other_column_is_ignored(tmp_path):
    path = write(tmp_path / "d.csv", [*HEADER, "hs_code", "remarks"], [[*ROW, "720810", "x"]])
    data, meta = read_customs(path)
    assert data.iloc[0]["cn_code"] == "72081000"
    assert meta["ignored_columns"] == ["remarks", "hs_code"]


def test_line_numbers_are_physical_lines_across_quoted_line_breaks_and_blank_lines(tmp_path):
    text = (
        "\n".join(
            [
                ",".join(HEADER),
                ",".join(ROW[:5]) + ',"Ohio\nValley Steel",' + ",".join(ROW[6:]),
                "",
                "   ",
                ",".join(row(line="2", origin="Atlantis")),
            ]
        )
        + "\n"
    )
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    data, meta = read_customs(path)
    assert data.iloc[0]["exporter"] == "Ohio\nValley Steel"
    assert data["source_line"].tolist() == [2]
    assert errors_of(meta) == [(6, "origin")]
    assert meta["rows_read"] == 2


def test_a_row_with_too_many_fields_is_an_error_and_the_others_are_kept(tmp_path):
    text = (
        "\n".join(
            [
                ",".join(HEADER),
                ",".join(ROW),
                ",".join([*row(line="2"), "extra"]),
                ",".join(row(line="3")),
                ",".join(row(line="4")) + ",",
            ]
        )
        + "\n"
    )
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    data, meta = read_customs(path)
    assert data["source_line"].tolist() == [2, 4, 5]  # a trailing empty field is tolerated
    assert [(e.line, e.field, e.reason) for e in meta["errors"]] == [
        (3, "row", "14 fields, the header has 13")
    ]
    assert meta["rows_read"] == 4 and meta["rows_rejected"] == 1


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path):
    rows = [",".join(row(line=str(i))) for i in range(2, 40)]
    text = "\n".join([",".join(HEADER), ",".join(ROW[:5]) + ',"Ohio', *rows]) + "\n"
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    data, meta = read_customs(path)
    assert data.empty
    assert [(e.line, e.field) for e in meta["errors"]] == [(2, "row")]
    assert "quote that is never closed" in meta["errors"][0].reason


def test_a_file_with_only_a_header_has_no_rows(tmp_path):
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, []))
    assert data.empty and list(data.columns) == COLUMNS
    assert (meta["rows_read"], meta["errors"]) == (0, [])


def test_it_reads_xlsx_with_row_numbers(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "MRN",
            "Goods item",
            "Date of acceptance",
            "Commodity code",
            "Country of origin",
            "Consignor",
            "Consignee",
            "Net mass (kg)",
            "Value",
        ]
    )
    sheet.append(["D1", 1, dt.datetime(2026, 3, 2), 72081000, "China", "S", "I", 1000000, 500000.5])
    sheet.append(["D1", 2, dt.date(2026, 3, 2), "7601 10 00", "IN", "H", "I", 250000.0, None])
    sheet.append([])  # row 4: blank
    sheet.append(["D2", 1, "31/02/2026", "7208", "Atlantis", "P", "I", -5, None])
    sheet.append(["D2", 2.0, "2026-04-01", "7208", "AQ", "P", "I", 2000, None])
    workbook.save(tmp_path / "d.xlsx")
    data, meta = read_customs(tmp_path / "d.xlsx")
    assert meta["format"] == "xlsx" and meta["sheet"] == sheet.title
    assert data["source_line"].tolist() == [2, 3, 6]
    assert data["cn_code"].tolist() == ["72081000", "76011000", "7208"]
    assert data["origin"].tolist() == ["CN", "IN", "AQ"]
    assert data["line"].tolist() == [1, 2, 2]
    assert_allclose(data["net_mass_t"], [1000.0, 250.0, 2.0])
    assert data["date"].tolist() == [pd.Timestamp("2026-03-02")] * 2 + [pd.Timestamp("2026-04-01")]
    assert_allclose(data["statistical_value_eur"].iloc[0], 500000.5)
    assert errors_of(meta) == [(5, "date"), (5, "origin"), (5, "net_mass_kg")]


def _xlsx_bytes(tmp_path):
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(ROW)
    workbook.save(tmp_path / "good.xlsx")
    return (tmp_path / "good.xlsx").read_bytes()


@pytest.mark.parametrize(
    "kind",
    [
        "truncated xlsx",
        "binary csv",
        "empty",
        "missing",
        "zip that is not a workbook",
        "random bytes as xlsx",
    ],
)
def test_a_file_that_cannot_be_read_raises_an_error_naming_it(tmp_path, kind):
    path = tmp_path / ("bad.xlsx" if "xlsx" in kind or "zip" in kind else "bad.csv")
    if kind == "truncated xlsx":
        path.write_bytes(_xlsx_bytes(tmp_path)[:700])
    elif kind == "binary csv":
        path.write_bytes(b"\x00\x01\x02\xff" * 100)
    elif kind == "empty":
        path.write_bytes(b"  \n")
    elif kind == "zip that is not a workbook":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hello")
    elif kind == "random bytes as xlsx":
        path.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(UnreadableFile) as info:
        read_customs(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, IngestError)


def test_no_django_is_imported_by_the_readers():
    code = (
        "import importlib, pkgutil, sys, ingest; "
        "[importlib.import_module('ingest.' + m.name) "
        " for m in pkgutil.iter_modules(ingest.__path__)]; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]; "
        "sys.exit(repr(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_it_parses_and_validates_a_large_simple_file_quickly(tmp_path):
    n = 200_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "declaration_id": [f"26NL{i // 3:012d}" for i in range(n)],
            "line": np.arange(n) % 3 + 1,
            "date": pd.Series(
                pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
            ).dt.strftime("%d/%m/%Y"),
            "cn_code": rng.choice(["72081000", "7601", "28041000", "2523 10 00"], n),
            "origin": rng.choice(["US", "CN", "IN", "TR"], n),
            "exporter": "Ohio Valley Steel Works (fictional)",
            "importer": "Rotterdam Metals Trading B.V. (fictional)",
            "net_mass_kg": rng.integers(1000, 2_000_000, n),
            "statistical_value_eur": rng.integers(100, 10**7, n) / 100,
        }
    )
    path = tmp_path / "large.csv"
    frame.to_csv(path, index=False, sep=";", decimal=",")
    data, meta = read_customs(path)
    assert len(data) == n and meta["errors"] == []
    assert_allclose(data["net_mass_t"].sum(), frame["net_mass_kg"].sum() / 1000)
    # Speed is measured in benchmarks/customs_ingest.py, not asserted here.


def test_supplementary_units_are_read_when_declared(tmp_path):
    path = tmp_path / "su.csv"
    path.write_text(
        "declaration_id,line,date,cn_code,origin,exporter,net_mass_kg,supplementary unit\n"
        "S1,1,2026-01-02,73089098,CN,X,1000,12\n"
        "S1,2,2026-01-02,73089098,CN,X,1000,\n"
        "S1,3,2026-01-02,73089098,CN,X,1000,-1\n",
        encoding="utf-8",
    )
    data, meta = read_customs(path)
    assert list(data["supplementary_units"].fillna(-9)) == [12.0, -9.0]
    assert [(e.line, e.field) for e in meta["errors"]] == [(4, "supplementary_units")]


def test_lines_of_eu_or_annex_iii_origin_are_rejected_naming_the_rule(tmp_path):
    # Reg. (EU) 2023/956 Art. 2 and Annex III pt 1: goods originating in Iceland,
    # Liechtenstein, Norway or Switzerland are outside the Regulation; EU goods are not
    # imports.  'ZZ' is no ISO 3166-1 code: an unknown country, never 'Other countries'.
    # (Before issue #15 all of these lines were accepted.)
    rows = [
        row(),  # 2: CN, valid
        row(line="2", origin="Norway"),  # 3
        row(line="3", origin="CH"),  # 4
        row(line="4", origin="IS"),  # 5
        row(line="5", origin="Liechtenstein"),  # 6
        row(line="6", origin="DE"),  # 7
        row(line="7", origin="EL"),  # 8: the EU's code for Greece
        row(line="8", origin="ZZ"),  # 9
    ]
    data, meta = read_customs(write(tmp_path / "d.csv", HEADER, rows))
    assert data["source_line"].tolist() == [2]
    found = {e.line: (e.field, e.value, e.reason) for e in meta["errors"]}
    assert found[3] == (
        "origin",
        "Norway",
        "origin NO is listed in Reg. (EU) 2023/956 Annex III point 1: the CBAM Regulation "
        "does not apply to goods originating there (Art. 2)",
    )
    for line, code in ((4, "CH"), (5, "IS"), (6, "LI")):
        assert f"origin {code} is listed in Reg. (EU) 2023/956 Annex III point 1" in found[line][2]
    assert (
        found[7][2] == "origin DE is an EU member state: its goods are not imports into the Union"
    )
    assert found[8][2].startswith("origin GR is an EU member state")
    assert found[9] == ("origin", "ZZ", "unknown country 'ZZ'")
    assert (meta["rows_accepted"], meta["rows_rejected"]) == (1, 7)


def test_the_importer_eori_is_checked_row_by_row(tmp_path):
    """An EORI is a two-letter country code and 1 to 15 letters or digits: a bad one is a
    row error naming the line and field, the other rows are kept; case is folded; an EORI
    without a name names the importer."""
    path = write(
        tmp_path / "d.csv",
        HEADER,
        [
            row(line="1", importer_eori=" de12ab "),
            row(line="2", importer_eori="D123"),
            row(line="3", importer_eori="DE1234567890123456"),  # 16 after the country
            row(line="4", importer_eori="ZZ123"),
            row(line="5", importer="", importer_eori="FR99"),
            row(line="6", importer_eori=""),
        ],
    )
    data, meta = read_customs(path)
    assert data["line"].tolist() == [1, 5, 6]
    assert data["importer_eori"].tolist() == ["DE12AB", "FR99", ""]
    assert data["importer"].tolist() == ["EU Importer", "FR99", "EU Importer"]
    assert errors_of(meta) == [(3, "importer_eori"), (4, "importer_eori"), (5, "importer_eori")]
    reasons = [e.reason for e in meta["errors"]]
    assert "EORI 'D123' must be a two-letter country code followed by 1 to 15" in reasons[0]
    assert "DE1234567890123456" in reasons[1]
    assert reasons[2] == "EORI 'ZZ123' does not start with a known country code (ZZ)"
    assert (meta["rows_accepted"], meta["rows_rejected"]) == (3, 3)
