"""The IR 2025/2621 default-value reader, on the published table."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook

from ingest.base import IngestError, MissingColumns, RowError
from ingest.cbam_defaults import read_cbam_defaults
from ingest.cbam_defaults.reader import COLUMNS


@pytest.fixture(scope="module")
def table(defaults_csv):
    return read_cbam_defaults(defaults_csv)


def _one(data, origin, cn_code):
    rows = data[(data["origin"] == origin) & (data["cn_code"] == cn_code)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_it_reads_every_published_row_but_the_one_without_a_total(table, defaults_csv):
    data, meta = table
    # 10,932 data lines (shared/data/README.md §1a). One row has no total and no marked-up
    # values: Taiwan, Iron and steel (not hydrogen), CN 7218, line 8293. It is dropped, with
    # one error per empty field.
    assert meta["rows_read"] == 10_932
    assert meta["rows_accepted"] == len(data) == 10_931
    assert meta["rows_rejected"] == 1
    assert meta["errors"] == [
        RowError(8293, "total_t_per_t", "", "total_t_per_t is empty"),
        RowError(8293, "dv_2026", "", "dv_2026 is empty"),
        RowError(8293, "dv_2027", "", "dv_2027 is empty"),
        RowError(8293, "dv_2028", "", "dv_2028 is empty"),
    ]
    # Chile, CN 7306 11 00, line 2239 has a total but no 2026 value: kept, with a warning.
    assert [(w.line, w.field) for w in meta["warnings"]] == [(2239, "dv_2026")]
    chile = _one(data, "CL", "73061100")
    assert np.isnan(chile["dv_2026"])
    assert_allclose(chile["total_t_per_t"], 2.95)
    assert meta["source"] == "defaults" and meta["format"] == "csv"
    assert meta["path"] == str(defaults_csv)


def test_it_counts_countries_and_cn_codes(table):
    _, meta = table
    # 119 country sheets + "Other countries and territories"; 263 distinct codes published,
    # one of which (7218) appears only on the dropped Taiwan row.
    assert meta["countries"] == 119
    assert meta["other_countries"] is True
    assert meta["cn_codes"] == 262


def test_it_gives_the_worked_examples_of_the_data_readme(table):
    data, _ = table
    # shared/data/README.md §1a worked examples.
    china = _one(data, "CN", "7208")
    assert_allclose(china["direct_t_per_t"], 3.1869)
    assert_allclose(china["dv_2026"], 3.5056)
    assert china["country"] == "China"
    india = _one(data, "IN", "7601")
    assert_allclose(india["total_t_per_t"], 1.87)
    assert_allclose(india["direct_t_per_t"], 1.87)
    assert np.isnan(india["indirect_t_per_t"])
    assert not india["indirect_applicable"]


def test_the_published_total_is_kept_even_when_it_is_not_direct_plus_indirect(table):
    data, _ = table
    # shared/data/README.md §1a: the US row for 28142000 does not add up; use the total.
    us = _one(data, "US", "28142000")
    assert us["indirect_applicable"]
    assert not np.isclose(us["direct_t_per_t"] + us["indirect_t_per_t"], us["total_t_per_t"])


def test_columns_dtypes_and_origins(table):
    data, _ = table
    assert list(data.columns) == COLUMNS
    for column in (
        "direct_t_per_t",
        "indirect_t_per_t",
        "total_t_per_t",
        "dv_2026",
        "dv_2027",
        "dv_2028",
    ):
        assert data[column].dtype == np.float64
    assert data["indirect_applicable"].dtype == bool
    assert data["source_line"].dtype == np.int64
    assert data["source_line"].min() == 2 and data["source_line"].is_monotonic_increasing
    assert set(data.loc[data["country"] == "_Other Countries and Territorie", "origin"]) == {
        "OTHER"
    }
    assert set(data.loc[data["country"] == "Democratic Republic of the Cong", "origin"]) == {"CD"}
    assert data["cn_code"].str.fullmatch(r"\d{4}|\d{6}|\d{8}").all()
    grey = data[(data["origin"] == "AL") & (data["cn_code"] == "25231000")]
    assert grey["cn_code_as_published"].tolist() == ["2523 10 00"]
    # Indirect values are NaN exactly where the annex gives none.
    assert (data["indirect_t_per_t"].isna() == ~data["indirect_applicable"]).all()


def _rows(defaults_csv, count=40):
    with defaults_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(count)]
    return header, rows


def _write(path, header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_a_decimal_comma_is_rejected_never_read_as_a_thousands_separator(defaults_csv, tmp_path):
    header, rows = _rows(defaults_csv)
    total = header.index("total_tco2e_per_t")
    rows[4][total] = "1,320"  # line 6; hand-pasted copies of the annex write this for 1.320
    rows[9][header.index("direct_tco2e_per_t")] = "0,87"  # line 11
    data, meta = read_cbam_defaults(_write(tmp_path / "comma.csv", header, rows))
    assert len(data) == 38
    assert [(e.line, e.field, e.value) for e in meta["errors"]] == [
        (6, "total_t_per_t", "1,320"),
        (11, "direct_t_per_t", "0,87"),
    ]
    assert "comma" in meta["errors"][0].reason
    assert not (data["total_t_per_t"] > 100).any()


def test_bad_values_are_row_errors_and_other_rows_are_kept(defaults_csv, tmp_path):
    header, rows = _rows(defaults_csv)
    rows[0][header.index("country")] = "Atlantis"  # line 2
    rows[1][header.index("cn_code_as_published")] = "25A3 10 00"  # line 3
    rows[2][header.index("direct_tco2e_per_t")] = "N/A"  # line 4: required
    rows[3][header.index("indirect_tco2e_per_t")] = "N/A"  # line 5: fine, means none
    rows[4][header.index("total_tco2e_per_t")] = "-1.2"  # line 6
    rows[5][header.index("indirect_applicable")] = "maybe"  # line 7
    data, meta = read_cbam_defaults(_write(tmp_path / "bad.csv", header, rows))
    assert [(e.line, e.field) for e in meta["errors"]] == [
        (2, "country"),
        (3, "cn_code"),
        (4, "direct_t_per_t"),
        (6, "total_t_per_t"),
        (7, "indirect_applicable"),
    ]
    assert meta["errors"][0].reason == "unknown country 'Atlantis'"
    assert meta["errors"][1].reason == "CN code '25A3 10 00' must have 4, 6 or 8 digits"
    assert len(data) == 35 and 5 in set(data["source_line"])


def test_it_reads_the_same_table_from_xlsx(defaults_csv, tmp_path):
    header, rows = _rows(defaults_csv, count=60)
    numeric = {i for i, name in enumerate(header) if name.endswith(("_per_t", "markup"))}
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([float(v) if i in numeric and v else (v or None) for i, v in enumerate(row)])
    workbook.save(tmp_path / "defaults.xlsx")

    from_xlsx, meta = read_cbam_defaults(tmp_path / "defaults.xlsx")
    from_csv, _ = read_cbam_defaults(_write(tmp_path / "defaults.csv", header, rows))
    assert meta["format"] == "xlsx" and meta["errors"] == []
    assert from_xlsx.equals(from_csv)


def test_a_missing_column_names_the_file_and_the_columns_found(defaults_csv, tmp_path):
    header, rows = _rows(defaults_csv, count=3)
    drop = header.index("total_tco2e_per_t")
    path = _write(
        tmp_path / "short.csv",
        [h for i, h in enumerate(header) if i != drop],
        [[v for i, v in enumerate(r) if i != drop] for r in rows],
    )
    with pytest.raises(MissingColumns) as info:
        read_cbam_defaults(path)
    message = str(info.value)
    assert str(path) in message and "total_t_per_t" in message and "'country'" in message
    assert isinstance(info.value, IngestError)
