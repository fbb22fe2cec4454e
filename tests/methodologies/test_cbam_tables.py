"""The bundled official tables: IR 2025/2621 Annexes I–IV and the IR 2025/2620 benchmarks.

Expected numbers are read by hand from the Official Journal text of IR 2025/2621
(OJ L, 2025/2621, 31.12.2025; page numbers given per test) and from the Commission's
benchmark workbook (``fixtures/cbam/benchmarks_IR2025-2620.xlsx``, sheet Benchmarks,
row numbers given per test).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from methodologies import cbam_tables as tables
from methodologies.cbam_tables import TableLookupError

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures" / "cbam"
DATA = ROOT / "methodologies" / "data"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- Annex II


@pytest.mark.parametrize(
    ("origin", "expected", "printed_as"),
    [
        ("CN", 0.605, "China"),  # OJ p. 2350
        ("BR", 0.096, "Brazil"),  # OJ p. 2350
        ("CD", 0.0, "Congo, Democratic Republic of"),  # OJ p. 2350
        ("IN", 0.726, "India"),  # OJ p. 2351
        ("KR", 0.475, "Korea, Republic of (South Korea)"),  # OJ p. 2351
        ("XK", 0.909, "Kosovo"),  # OJ p. 2351
        ("RU", 0.366, "Russian Federation"),  # OJ p. 2352
        ("ZA", 0.963, "South Africa"),  # OJ p. 2352
        ("TR", 0.420, "Türkiye"),  # OJ p. 2353
        ("US", 0.358, "United States"),  # OJ p. 2353
        ("VN", 0.581, "Viet Nam"),  # OJ p. 2353
    ],
)
def test_annex_ii_gives_the_printed_country_factor(origin, expected, printed_as):
    factor = tables.grid_factor(origin)
    assert_allclose(factor.value, expected, rtol=0, atol=0)
    assert factor.row == printed_as
    assert factor.unit == "tCO2e/MWh"
    assert not factor.fallback
    assert "2025/2621" in factor.source and "Annex II" in factor.source


def test_a_country_annex_ii_does_not_list_takes_other_countries_and_territories():
    # Antarctica is not in Annex II; "Other countries and territories 0,465" (OJ p. 2353).
    factor = tables.grid_factor("AQ")
    assert_allclose(factor.value, 0.465, rtol=0, atol=0)
    assert factor.fallback
    assert factor.row == "Other countries and territories"


def test_annex_ii_holds_every_printed_row_once():
    rows = tables.annex_ii_rows()
    # 126 countries and territories plus "Other countries and territories" (OJ pp. 2350-3).
    assert len(rows) == 127
    assert len({r["iso2"] for r in rows}) == 127
    assert rows[0]["country"] == "Albania" and rows[-1]["iso2"] == "OTHER"


@pytest.mark.parametrize("origin", ["DE", "FR", "NO", "CH", "IS", "LI"])
def test_eu_and_exempt_origins_have_no_electricity_default(origin):
    with pytest.raises(TableLookupError, match=f"origin {origin}: goods from the EU"):
        tables.grid_factor(origin)
    with pytest.raises(TableLookupError, match="Annex III"):
        tables.imported_electricity_factor(origin)


def test_annexes_ii_and_iii_carry_the_iea_licence_notice():
    stored = json.loads((DATA / "cbam_electricity_factors_IR2025-2621.json").read_text("utf-8"))
    notice = tables.iea_licence_notice()
    assert notice == stored["licence_notice"]
    assert "CC BY NC SA" in notice and "non-commercial purposes only" in notice
    # Exactly as the act prints it above Annex II (OJ p. 2350), lines joined.
    text = (FIXTURES / "IR_2025-2621_annexes_II-IV.txt").read_text("utf-8")
    printed = " ".join(line.strip() for line in text.splitlines()[3:8])
    assert printed == notice
    assert set(stored) == {"source", "unit", "licence_notice", "annex_ii", "annex_iii"}


# --------------------------------------------------------------------------- Annex III


@pytest.mark.parametrize(
    ("origin", "expected"),
    [("RS", 1.041), ("UA", 0.907), ("GB", 0.430), ("BA", 1.148), ("AL", 0.0), ("MA", 0.907)],
)
def test_annex_iii_gives_the_printed_factor_for_imported_electricity(origin, expected):
    # OJ p. 2354.
    factor = tables.imported_electricity_factor(origin)
    assert_allclose(factor.value, expected, rtol=0, atol=0)
    assert not factor.fallback


def test_electricity_from_a_country_annex_iii_does_not_list_takes_the_union_factor():
    # Reg. 2023/956 Annex IV pt 4.2.2; "European Union 0,612" (OJ p. 2354).
    factor = tables.imported_electricity_factor("US")
    assert_allclose(factor.value, 0.612, rtol=0, atol=0)
    assert factor.fallback and factor.row == "European Union"
    assert len(tables.annex_iii_rows()) == 18


# --------------------------------------------------------------------------- Annex IV


def test_annex_iv_gives_the_highest_default_and_the_marked_up_value_of_the_year():
    # OJ p. 2355: "2523 10 00 Grey clinker 1,440 1,584 1,728 1,872 (A)".
    grey = tables.unknown_origin_precursor_default("2523 10 00", 2026, variant="Grey clinker")
    assert_allclose(grey["highest"].value, 1.440, rtol=0, atol=0)
    assert_allclose(grey["marked_up"].value, 1.584, rtol=0, atol=0)
    assert tables.annex_iv_route("25231000", "Grey clinker") == "A"
    white = tables.unknown_origin_precursor_default("25231000", 2027, variant="white")
    assert_allclose(white["marked_up"].value, 1.692, rtol=0, atol=0)  # 1,410 → 1,692


def test_annex_iv_refuses_to_guess_between_clinker_variants():
    with pytest.raises(TableLookupError, match="White clinker; Grey clinker"):
        tables.unknown_origin_precursor_default("25231000", 2026)


def test_annex_iv_takes_the_2028_column_for_later_years_and_the_heading_for_subcodes():
    # OJ p. 2363: "2804 10 00 Hydrogen 26,640 29,304 31,968 34,632".
    h2 = tables.unknown_origin_precursor_default("28041000", 2031)
    assert_allclose(h2["marked_up"].value, 34.632, rtol=0, atol=0)
    # OJ p. 2369: "7210 ... 8,250 9,075 9,900 10,725 (C)"; CN 7210 41 00 falls under it.
    flat = tables.unknown_origin_precursor_default("72104100", 2026)
    assert_allclose([flat["highest"].value, flat["marked_up"].value], [8.25, 9.075])
    assert tables.annex_iv_route("72104100") == "C"


def test_annex_iv_keeps_the_commissions_marked_up_values_as_printed():
    # OJ p. 2362: "7606 ... 4,986 5,485 5,984 6,482 (K)": 4.986 × 1.2 = 5.9832, printed
    # 5,984 (the Commission marked up its unrounded value).  The printed figure is kept.
    sheets = tables.unknown_origin_precursor_default("7606", 2027)
    assert_allclose(sheets["marked_up"].value, 5.984, rtol=0, atol=0)
    # OJ p. 2372: "7224 90 02 Semi-finished products of tool steel 10 11 12 13 (F)".
    tool = tables.unknown_origin_precursor_default("72249002", 2028)
    assert_allclose([tool["highest"].value, tool["marked_up"].value], [10.0, 13.0])


def test_annex_iv_has_a_line_for_every_cn_line_of_other_countries():
    rows = tables.annex_iv_rows()
    assert len(rows) == 260  # 258 CN codes; clinker and hydraulic cement twice
    with (DATA / "cbam_default_values_IR2025-2621.csv").open(newline="", encoding="utf-8") as fh:
        other = {r["cn_code_digits"] for r in csv.DictReader(fh) if r["iso2"] == "OTHER"}
    assert {r["cn_code"] for r in rows} == other
    with pytest.raises(TableLookupError, match="cn_code 28030000: no row"):
        tables.unknown_origin_precursor_default("28030000", 2026)


# --------------------------------------------------------------------------- benchmarks


@pytest.mark.parametrize(
    ("cn", "column", "route", "expected", "sheet_row"),
    [
        ("25231000", "A", "A", 0.666, 4),  # grey clinker
        ("25231000", "B", "B", 0.859, 5),  # white clinker
        ("25232100", "B", None, 0.859, 6),  # white Portland cement: A is 0
        ("28041000", "A", None, 5.089, 13),  # hydrogen
        ("28080000", "B", None, 0.582, 15),  # nitric acid: B includes the ammonia
        ("72081000", "A", "C", 0.044, 146),  # one column-A value for every route
        ("72081000", "B", "C", 1.37, 146),
        ("72081000", "B", "E", 0.072, 148),
        ("72052100", "B", "F(1)", 1.46, 75),
        ("72052100", "B", "J(2)", 0.82, 82),
    ],
)
def test_benchmarks_come_from_the_commissions_workbook(cn, column, route, expected, sheet_row):
    bm = tables.benchmark(cn, column, route)
    assert_allclose(bm.value, expected, rtol=0, atol=0)
    assert "2025/2620" in bm.source
    row = [r for r in tables.benchmark_rows() if r["cn_code"] == cn and r["column"] == column]
    assert any(int(r["sheet_row"]) == sheet_row for r in row)


def test_a_route_dependent_benchmark_needs_the_route():
    with pytest.raises(TableLookupError, match=r"several routes \(\(C\), \(D\), \(E\)\)"):
        tables.benchmark("72081000", "B")
    with pytest.raises(TableLookupError, match="more than one row matches"):
        tables.benchmark("72052100", "B", "F")
    with pytest.raises(TableLookupError, match="8-digit"):
        tables.benchmark("7208", "B", "C")
    with pytest.raises(TableLookupError, match="expected 'A' or 'B'"):
        tables.benchmark("72081000", "C")


# --------------------------------------------------------------------------- provenance


def test_the_bundled_annex_tables_are_what_the_script_reads_from_the_official_files():
    make = _script("make_annex_tables")
    data = make.build(
        FIXTURES / "IR_2025-2621_annexes_II-IV.txt", FIXTURES / "benchmarks_IR2025-2620.xlsx"
    )
    stored = json.loads((DATA / "cbam_electricity_factors_IR2025-2621.json").read_text("utf-8"))
    assert data["electricity"] == stored
    for rows, path in (
        (data["annex_iv"], make.PRECURSORS),
        (data["benchmarks"], make.BENCHMARKS),
    ):
        with path.open(newline="", encoding="utf-8") as fh:
            assert [{k: str(v) for k, v in r.items()} for r in rows] == list(csv.DictReader(fh))


def test_the_bundled_default_values_are_the_workbook_of_ir_2025_2621():
    make = _script("make_defaults_table")
    rows = make.read_workbook(FIXTURES / "default_values_IR2025-2621.xlsx")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(make.HEADER)
    writer.writerows(rows)
    bundled = (DATA / "cbam_default_values_IR2025-2621.csv").read_bytes()
    assert out.getvalue().encode("utf-8") == bundled
    # Hand-picked against the OJ text: Albania grey clinker "0,870 0 0,870 0,957 1,044
    # 1,131 (A)" (OJ p. 5).
    albania = [r for r in rows if r[0] == "Albania" and r[4] == "Grey clinker"]
    assert albania == [
        ["Albania", "Cement", "2523 10 00", "25231000", "Grey clinker", "0.87", "0", "0.87",
         "0.957", "1.044", "1.131", "True", "A", "AL"]
    ]  # fmt: skip
