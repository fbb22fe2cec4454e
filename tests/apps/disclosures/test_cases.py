"""The pure mapping of disclosed values to methodology cases (apps/disclosures/cases.py):
plain values in, cases out, no database. Numbers worked by hand below; the CBAM country
factor of India, 0.726 tCO2e/MWh, is IR 2025/2621 Annex II (methodologies.cbam_tables)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from numpy.testing import assert_allclose

import methodologies
from apps.disclosures import cases
from apps.disclosures.cases import Disclosed, Facts, Installation

IN_FACTOR = 0.726  # tCO2e/MWh, IR 2025/2621 Annex II, row "India"


def value(i: int, field: str, number: float | None = None, unit: str = "", text: str = "", **kw):
    return Disclosed(id=i, field=field, value=number, unit=unit, text=text, line=i, **kw)


def steel_works(*extra: Disclosed, goods: tuple = (("1", "72085120", 1000.0),)) -> Facts:
    """One installation in India: the goods given, 100 t of coke (NCV 0.0282 TJ/t, EF
    107 t/TJ), 300 MWh from the grid (stated 0.71 t/MWh) and 100 MWh under a PPA (0 t/MWh)."""
    values = []
    for item, cn, tonnes in goods:
        values.append(value(len(values) + 1, f"goods[{item}].cn_code", text=cn))
        values.append(value(len(values) + 1, f"goods[{item}].production", tonnes, "t"))
    values += [
        value(20, "fuel[coke].amount", 100.0, "t"),
        value(21, "fuel[coke].ncv", 0.0282, "TJ/t"),
        value(22, "fuel[coke].ef", 107.0, "t/TJ"),
        value(23, "electricity[grid].consumed", 300.0, "MWh"),
        value(24, "electricity[grid].source", text="grid"),
        value(25, "electricity[grid].ef", 0.71, "t/MWh"),
        value(26, "electricity[solar].consumed", 100.0, "MWh"),
        value(27, "electricity[solar].source", text="ppa"),
        value(28, "electricity[solar].ef", 0.0, "t/MWh"),
    ]
    by_field = {v.field: v for v in values}
    for v in extra:
        by_field[v.field] = v
    return Facts(
        kind=cases.TEMPLATE,
        cn_code="",
        installation=Installation(identifier="IN-MH-0042", country="IN", routes=("bf_bof",)),
        year=2026,
        values=tuple(by_field.values()),
        measured_grid_note="measured grid intensity 0.7 t/MWh (test)",
    )


def test_a_template_becomes_one_installation_case_with_the_cbam_grid_factor():
    notes: list[str] = []
    [(cn, case, cited, local)] = cases.version_cases(steel_works(), notes)
    assert cn == "72085120"
    assert case["good"] == {"cn_code": "72085120", "activity_level_t": 1000.0}
    assert case["direct"]["source_streams"] == [
        {"type": "combustion", "name": "coke", "ef_t_per_tj": 107.0, "ad_t": 100.0}
        | {"ncv_tj_per_t": 0.0282}
    ]
    # 300 MWh × 0.726 (grid: no PPA, so the CBAM factor, not the stated 0.71) + 100 MWh × 0
    # (PPA: the disclosed factor) = 217.8 t over 400 MWh = 0.5445 t/MWh.
    assert case["electricity"]["consumed_mwh"] == 400.0
    assert_allclose(case["electricity"]["ef_t_per_mwh"], 0.5445, rtol=1e-12)
    grid = next(n for n in local if n.startswith("electricity[grid]"))
    assert f"CBAM country factor {IN_FACTOR:g} t/MWh" in grid
    assert "the disclosed 0.71 t/MWh is not used" in grid
    assert grid.endswith("measured grid intensity 0.7 t/MWh (test)")
    assert any("justified by a power purchase agreement" in n for n in local)
    assert notes == local
    assert {c["field"]: c["line"] for c in cited}["fuel[coke].amount"] == 20

    result = methodologies.run_case(case)
    # Direct: 100 t × 0.0282 TJ/t × 107 t/TJ = 301.74 t over 1000 t = 0.30174 t/t;
    # indirect: 217.8 t / 1000 t = 0.2178 t/t.
    assert_allclose(result["see_direct_t_per_t"], 0.30174, rtol=1e-9)
    assert_allclose(result["see_indirect_t_per_t"], 0.2178, rtol=1e-9)


def test_installation_wide_data_is_allocated_by_each_goods_share_of_production():
    facts = steel_works(goods=(("1", "72085120", 750.0), ("2", "72071111", 250.0)))
    plate, slab = cases.version_cases(facts, [])
    assert plate.case["direct"]["source_streams"][0]["ad_t"] == pytest.approx(75.0)
    assert slab.case["direct"]["source_streams"][0]["ad_t"] == pytest.approx(25.0)
    assert slab.case["electricity"]["consumed_mwh"] == pytest.approx(100.0)
    assert any("750 of 1000 t = 0.75" in n for n in plate.notes)


def test_a_correction_in_another_unit_is_used_and_the_extracted_value_cited():
    corrected = value(
        20,
        "fuel[coke].amount",
        100.0,
        "t",
        status="corrected",
        corrected_value=0.2,
        corrected_unit="kt",
        reason="restated",
    )
    [case] = cases.version_cases(steel_works(corrected), [])
    assert case.case["direct"]["source_streams"][0]["ad_t"] == pytest.approx(200.0)
    cited = next(c for c in case.cited if c["field"] == "fuel[coke].amount")
    assert cited["value"] == pytest.approx(200.0)
    assert cited["extracted"] == {"value": 100.0, "unit": "t"} and cited["reason"] == "restated"


def test_a_precursor_without_see_needs_its_default_rows_and_is_left_out_without_them():
    precursor = (
        value(30, "precursor[pig].cn_code", text="72011011"),
        value(31, "precursor[pig].mass", 250.0, "t"),
        value(32, "precursor[pig].origin", text="CN"),
    )
    facts = steel_works(*precursor)
    defaults, grid = cases.lookups_needed(facts.kind, facts.values)
    assert defaults == {("CN", "72011011")} and grid is True
    [case] = cases.version_cases(facts, [])  # no rows fetched
    assert case.case["precursors"] == []
    assert "precursor[pig]: no SEE and no default; left out" in case.notes


def test_electricity_under_a_ppa_only_needs_no_measured_grid_lookup():
    facts = Facts(
        kind=cases.TEMPLATE,
        cn_code="",
        installation=Installation("X", "IN"),
        year=2026,
        values=(
            value(1, "electricity[solar].consumed", 10.0, "MWh"),
            value(2, "electricity[solar].source", text="ppa"),
            value(3, "electricity[solar].ef", 0.0, "t/MWh"),
        ),
    )
    assert cases.lookups_needed(facts.kind, facts.values) == (set(), False)


def test_a_communicated_see_becomes_a_one_tonne_case():
    facts = Facts(
        kind=cases.CBAM_TEMPLATE,
        cn_code="",
        installation=Installation("IN-MH-0042", "IN"),
        year=2026,
        values=(
            value(1, "72085120.see_direct", 1.9, "t/t"),
            value(2, "72085120.see_indirect", 0.3, "t/t"),
            value(3, "72085120.embedded_electricity", 0.5, "MWh/t"),
        ),
    )
    [(cn, case, cited, notes)] = cases.version_cases(facts, [])
    assert cn == "72085120" and case["good"]["activity_level_t"] == 1.0
    assert [c["field"] for c in cited] == [v.field for v in facts.values]
    assert "indirect SEE entered" not in " ".join(notes)
    assert case["direct"] == {"attributed_emissions_t": 1.9}
    # 0.3 t/t of indirect SEE over 0.5 MWh/t embedded electricity = 0.6 t/MWh.
    assert case["electricity"]["consumed_mwh"] == 0.5
    assert_allclose(case["electricity"]["ef_t_per_mwh"], 0.6)
    result = methodologies.run_case(case)
    assert_allclose(result["see_direct_t_per_t"], 1.9)
    assert_allclose(result["see_indirect_t_per_t"], 0.3)


def test_a_zero_fuel_factor_is_a_finding_naming_the_value_and_its_line():
    facts = steel_works(value(22, "fuel[coke].ef", 0.0, "t/TJ"))
    findings = cases.case_findings(cases.version_cases(facts, []), file="x.csv")
    # The coke was the only source of direct emissions, so the steel good's direct SEE is
    # zero too: two findings (apps/disclosures/plausibility.py).
    fuel = next(f for f in findings if f.get("field") == "fuel[coke].ef")
    assert fuel["line"] == 22 and fuel["value_id"] == 22 and fuel["file"] == "x.csv"
    assert fuel["cn_code"] == "72085120"
    assert len(findings) == 2, findings


def test_the_disclosed_production_is_summed_in_tonnes():
    facts = steel_works(goods=(("1", "72085120", 1000.0),))
    assert cases.disclosed_production_t(facts) == 1000.0
    kilotonnes = Facts(
        kind=cases.TEMPLATE,
        cn_code="",
        installation=Installation("X", "IN"),
        year=2026,
        values=(value(1, "goods[1].production", 40.0, "kt"),),
    )
    assert cases.disclosed_production_t(kilotonnes) == pytest.approx(40_000.0)
    assert (
        cases.disclosed_production_t(Facts("pdf", "7208", Installation("X", "IN"), 2026, ()))
        is None
    )


def test_the_mapping_imports_no_django():
    code = (
        "import sys, apps.disclosures.cases; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]; "
        "sys.exit(repr(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
