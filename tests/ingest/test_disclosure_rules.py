"""The rule-based extractor against a real report.

Ground truth: Koolen, D. & Vidovic, D. (2022), *Greenhouse gas intensities of the EU steel
industry and its trading partners*, JRC129297, © EU, CC BY 4.0 —
fixtures/disclosures/JRC129297_01.pdf, **PDF page 34 (printed page 31), Tables A3 and
A4**, tonne CO2 per tonne steel. The values below were read off that page; blank cells of
the PDF are ``None`` (Belarus and Switzerland have no integrated-route values).
"""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from ingest.disclosure import RuleExtractor, read_pdf_text
from ingest.disclosure.pdf_text import Document
from tests.ingest.test_disclosure_pdf_text import JRC, minimal_pdf

COLUMNS = ("Scope 1 & Upstream", "Scope 1", "Scope 2", "Total")

# PDF page 34, Table A3: the entire iron and steel industry.
TABLE_A3 = {
    "EU": (1.04, 1.03, 0.11, 1.15),
    "Belarus": (0.07, 0.07, 0.26, 0.33),
    "Brazil": (1.71, 1.83, 0.04, 1.75),
    "China": (1.58, 1.58, 0.12, 1.70),
    "India": (2.70, 2.86, 0.28, 2.97),
    "Japan": (1.55, 1.55, 0.14, 1.69),
    "Korea": (1.34, 1.34, 0.16, 1.50),
    "Norway": (0.44, 0.44, 0.06, 0.50),
    "Russia": (1.98, 2.12, 0.33, 2.30),
    "Serbia": (1.86, 1.39, 0.25, 2.11),
    "South Africa": (2.82, 2.96, 1.29, 4.11),
    "Switzerland": (0.08, 0.08, 0.02, 0.10),
    "Taiwan": (1.23, 1.25, 0.18, 1.41),
    "Turkey": (0.70, 0.65, 0.18, 0.88),
    "Ukraine": (2.13, 2.23, 0.20, 2.33),
    "United Kingdom": (1.60, 1.45, 0.05, 1.65),
    "United States": (0.68, 0.70, 0.21, 0.90),
}

# PDF page 34, Table A4: integrated (BF-BOF) route, then EAF route.
TABLE_A4 = {
    "EU": ((1.77, 1.76, 0.04, 1.81), (0.04, 0.04, 0.20, 0.24)),
    "Belarus": (None, (0.07, 0.07, 0.26, 0.33)),
    "Brazil": ((2.19, 2.34, 0.03, 2.21), (0.05, 0.05, 0.07, 0.12)),
    "China": ((1.76, 1.76, 0.08, 1.84), (0.03, 0.03, 0.49, 0.52)),
    "India": ((3.72, 4.08, 0.11, 3.83), (0.07, 0.07, 0.38, 0.45)),
    "Japan": ((2.05, 2.05, 0.07, 2.12), (0.04, 0.04, 0.36, 0.40)),
    "Korea": ((2.00, 2.00, 0.05, 2.05), (0.03, 0.03, 0.38, 0.41)),
    "Russia": ((2.79, 3.01, 0.21, 3.00), (0.07, 0.07, 0.39, 0.46)),
    "Serbia": ((2.06, 1.54, 0.19, 2.26), (0.06, 0.06, 0.76, 0.82)),
    "South Africa": ((3.57, 3.79, 0.37, 3.94), (0.12, 0.12, 2.62, 2.74)),
    "Switzerland": (None, (0.08, 0.08, 0.02, 0.10)),
    "Taiwan": ((2.02, 2.06, 0.05, 2.07), (0.02, 0.02, 0.39, 0.41)),
    "Turkey": ((2.17, 2.01, 0.03, 2.20), (0.04, 0.04, 0.25, 0.29)),
    "Ukraine": ((2.30, 2.41, 0.19, 2.49), (0.04, 0.04, 0.35, 0.39)),
    "United Kingdom": ((2.05, 1.86, 0.03, 2.08), (0.04, 0.04, 0.13, 0.16)),
    "United States": ((1.94, 1.99, 0.15, 2.09), (0.04, 0.04, 0.24, 0.27)),
}
ROUTES = ("Integrated route", "EAF route")


def expected_cells() -> dict[tuple[str, str, str, str], float]:
    cells = {}
    for country, row in TABLE_A3.items():
        for column, value in zip(COLUMNS, row, strict=True):
            cells[("A3", country, "", column)] = value
    for country, routes in TABLE_A4.items():
        for route, row in zip(ROUTES, routes, strict=True):
            for column, value in zip(COLUMNS, row or (None,) * 4, strict=True):
                if value is not None:
                    cells[("A4", country, route, column)] = value
    return cells


@pytest.fixture(scope="module")
def jrc():
    return read_pdf_text(JRC)


@pytest.fixture(scope="module")
def page34(jrc):
    return RuleExtractor().extract(Document((jrc.page(34),), jrc.sha256))


def found_cells(extraction) -> dict[tuple[str, str, str, str], float]:
    out = {}
    for v in extraction.values:
        c = v.context
        if c.get("table") in ("A3", "A4"):
            out[(c["table"], c["row"], c["group"], c["column"])] = v.value
    return out


def test_it_gets_every_cell_of_tables_a3_and_a4_right(page34):
    """188 cells: Table A3 17 countries × 4 columns, Table A4 14 × 4 integrated and
    16 × 4 EAF (PDF page 34)."""
    expected, found = expected_cells(), found_cells(page34)
    assert len(expected) == 68 + 56 + 64
    right = [key for key, value in expected.items() if found.get(key) == value]
    assert len(right) == len(expected), sorted(set(expected) - set(right))
    assert set(found) == set(expected)  # nothing extra: no values in blank cells


def test_the_worked_example_india_integrated_total(page34):
    """PDF page 34, Table A4: India, integrated route, Total = 3.83 tCO2/t."""
    (india,) = [
        v for v in page34.values if v.field == "Table A4 | India | Integrated route | Total"
    ]
    assert india.value == 3.83
    assert india.unit == "t/t"  # "in tonne CO2 per tonne steel" (the caption)
    assert india.page == 34
    assert india.quote == "India 3.72 4.08 0.11 3.83 0.07 0.07 0.38 0.45"
    assert india.evidence() == {
        "field": "Table A4 | India | Integrated route | Total",
        "value": 3.83,
        "unit": "t/t",
        "page": 34,
        "quote": "India 3.72 4.08 0.11 3.83 0.07 0.07 0.38 0.45",
    }


def test_united_kingdom_wrapped_over_two_lines_is_one_row(jrc, page34):
    rows = {v.context["row"] for v in page34.values if v.context.get("table") == "A4"}
    assert "United Kingdom" in rows
    assert "United" not in rows and "Kingdom" not in rows
    (uk,) = [v for v in page34.values if v.field == "Table A4 | United Kingdom | EAF route | Total"]
    assert uk.value == 0.16
    # The quote is the data line as printed ("Kingdom" is on the next line).
    assert uk.quote == "United 2.05 1.86 0.03 2.08 0.04 0.04 0.13 0.16"
    assert uk.quote in jrc.page(34).text.splitlines()


def test_belarus_and_switzerland_have_eaf_values_only(page34):
    for country in ("Belarus", "Switzerland"):
        routes = {
            v.context["group"]
            for v in page34.values
            if v.context.get("table") == "A4" and v.context["row"] == country
        }
        assert routes == {"EAF route"}


def test_totals_add_up_as_the_footnote_says(page34):
    """'*Total = Scope 1 & Upstream + Scope 2' (PDF page 34): every row agrees within the
    rounding of the printed numbers, so nothing is flagged; Scope 1 + Scope 2 would not
    (India integrated: 4.08 + 0.11 = 4.19 ≠ 3.83)."""
    assert page34.flags == []
    found = found_cells(page34)
    for (table, country, route, column), total in found.items():
        if column == "Total":
            parts = found[(table, country, route, "Scope 1 & Upstream")]
            parts += found[(table, country, route, "Scope 2")]
            assert_allclose(total, parts, atol=0.015)


def test_a_total_that_does_not_add_up_is_flagged():
    lines = [
        "Table 1. Emission intensity in tonne CO2 per tonne steel.",
        [(200, "Scope 1"), (260, "Scope 2"), (320, "Total*")],
        [(72, "Plant A"), (205, "1.00"), (265, "0.20"), (325, "1.20")],
        [(72, "Plant B"), (205, "1.00"), (265, "0.20"), (325, "1.90")],
        "*Total = Scope 1 + Scope 2",
        "Source: company.",
    ]
    page = _page_from(lines)
    extraction = RuleExtractor().extract(page)
    assert [f.kind for f in extraction.flags] == ["sum_mismatch"]
    flagged = extraction.values[extraction.flags[0].index]
    assert flagged.field == "Table 1 | Plant B | Total" and flagged.value == 1.9


def _page_from(lines: list[str]) -> Document:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.pdf"
        path.write_bytes(minimal_pdf([lines]))
        return read_pdf_text(path)


def test_labelled_numbers_outside_tables_are_extracted():
    document = _page_from(["Crude steel production: 12,345 kt", "Our purpose: better steel"])
    values = RuleExtractor().extract(document).values
    assert [(v.field, v.value, v.unit, v.page) for v in values] == [
        ("Crude steel production", 12345.0, "kt", 1)
    ]
    assert values[0].quote == "Crude steel production: 12,345 kt"


def test_the_whole_report_yields_tables_and_only_quotes_from_its_pages(jrc):
    extraction = RuleExtractor().extract(jrc)
    assert extraction.extractor == "rules"
    texts = {p.number: p.text for p in jrc.pages}
    assert all(v.quote in texts[v.page] for v in extraction.values)
    assert found_cells(extraction) == found_cells(RuleExtractor().extract(jrc))  # deterministic


# PDF page 35 (printed page 32), Table A5, "CO2 emission intensity of the process steps of the
# integrated route in tonne CO2 per tonne of product": the United States row as printed.
# The process steps head the columns (Basic oxygen furnace over its Scope 1, Scope 2,
# Upstream and Total*), the column headers are set on their side.
A5_UNITED_STATES = {
    ("Coke", "Scope 1"): 0.88,
    ("Coke", "Scope 2"): 0.01,
    ("Sinter", "Scope 1"): 0.86,
    ("Sinter", "Scope 2"): 0.02,
    ("Pellet", "Scope 1"): 0.10,
    ("Pellet", "Scope 2"): 0.02,
    ("Blast furnace", "Scope 1"): 0.37,
    ("Blast furnace", "Scope 2"): 0.08,
    ("Basic oxygen furnace", "Scope 1"): 0.06,
    ("Basic oxygen furnace", "Scope 2"): 0.02,
    ("Basic oxygen furnace", "Upstream"): 0.00,
    ("Basic oxygen furnace", "Total"): 0.08,
}


@pytest.fixture(scope="module")
def page35(jrc):
    return RuleExtractor().extract(Document((jrc.page(35),), jrc.sha256))


def test_table_a5_field_names_read_as_the_table_shows_them(page35):
    """Regression (issue #15 item 19): the turned headers gave fields such as
    "Table A5 | United States | m a e r t s p U"."""
    us = {v.field: v.value for v in page35.values if v.context["row"] == "United States"}
    assert us == {
        f"Table A5 | United States | {step} | {column}": value
        for (step, column), value in A5_UNITED_STATES.items()
    }
    assert all(v.unit == "t/t" for v in page35.values)
    assert not any(" e p o c S" in v.field or "m a e r t s p U" in v.field for v in page35.values)
    # 14 rows; Korea has no pellet plant, Serbia and South Africa fewer steps: 150 cells
    assert len(page35.values) == 150


def test_table_a5_totals_are_checked_against_the_footnote(page35):
    """Footnote "*Total = Scope 1 + Scope 2 + Upstream", per process step: for the basic
    oxygen furnace of the EU 0.13 + 0.01 + 0.00 = 0.14; every row adds up within the
    rounding of its four printed numbers (4 × 0.005), so nothing is flagged."""
    cells = {(v.context["row"], v.context["group"], v.context["column"]): v.value
             for v in page35.values}  # fmt: skip
    bof = "Basic oxygen furnace"
    rows = {row for row, group, column in cells if group == bof and column == "Total"}
    assert len(rows) == 14
    for row in rows:
        parts = sum(cells[(row, bof, c)] for c in ("Scope 1", "Scope 2", "Upstream"))
        assert abs(cells[(row, bof, "Total")] - parts) <= 4 * 0.005 + 1e-9, row
    assert cells[("EU", bof, "Total")] == 0.14
    assert page35.flags == []


def test_table_a2_energy_carriers_read_as_printed(jrc):
    """PDF page 33, Table A2 (net energy balance, GJ per tonne): its carrier headers are set
    on their side; Coke plant row: Total 6.54, Coke −30.10, Coke oven gas −5.83."""
    extraction = RuleExtractor().extract(Document((jrc.page(33),), jrc.sha256))
    coke = {v.context["column"]: v.value for v in extraction.values
            if v.context["row"] == "Coke plant GJ/t coke"}  # fmt: skip
    assert list(coke) == [
        "Total", "Coke", "Coal", "Tar", "Benzole", "Electricity", "Steam", "Natural gas",
        "Coke oven gas", "Blast furnace gas", "BOS gas",
    ]  # fmt: skip
    assert (coke["Total"], coke["Coke"], coke["Coke oven gas"]) == (6.54, -30.10, -5.83)
