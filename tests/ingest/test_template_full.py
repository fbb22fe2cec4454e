"""The whole CBAM communication template, read and recomputed with the engine.

Source: the Commission's five filled examples of template v2.1
(fixtures/cbam/official/template_examples/, attribution in fixtures/cbam/README.md). The
hand-worked numbers below are the workbooks' own input cells."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from openpyxl import load_workbook

from apps.disclosures.template_cases import recompute_template
from ingest.base import IngestError, UnreadableFile
from ingest.disclosure.template_full import (
    TemplateValueError,
    TemplateVersionError,
    read_template_full,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fixtures/cbam/official/template_examples"
CEMENT = EXAMPLES / "1_CBAM_SEE_V2.1_Example_Cement.xlsx"
ALUMINIUM = EXAMPLES / "6_CBAM_SEE_V2.1_Example_Aluminium.xlsx"
PRODUCTS = {
    "1_CBAM_SEE_V2.1_Example_Cement.xlsx": 1,
    "2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace.xlsx": 4,
    "3_CBAM_SEE_V2.1_Example_Steel_2_EAF_alloys.xlsx": 4,
    "5_CBAM_SEE_V2.1_Example_Fertilizer.xlsx": 1,
    "6_CBAM_SEE_V2.1_Example_Aluminium.xlsx": 2,
}


@pytest.fixture(scope="module")
def read():
    cache = {}

    def get(name):
        if name not in cache:
            template = read_template_full(EXAMPLES / name)
            cache[name] = (template, recompute_template(template))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_each_commission_example_reads_whole_and_recomputes_to_its_own_figures(read, name):
    template, result = read(name)
    assert template["version"] == "2.1"
    assert template["errors"] == []
    assert template["installation"]["name"].startswith("Example")
    assert template["period"] == {
        "start": "2023-01-01",
        "end": "2023-12-31",
        "cells": {"start": "A_InstData!I9", "end": "A_InstData!L9"},
    }
    assert template["source_streams"], "B_EmInst (a) has source streams"
    assert len(result["products"]) == PRODUCTS[name]
    assert result["flags"] == []
    for product in result["products"]:
        assert product["agrees"], product
        assert product["see_direct_t_per_t"] == pytest.approx(
            product["template_see_direct_t_per_t"], rel=1e-9
        )
        assert product["see_indirect_t_per_t"] == pytest.approx(
            product["template_see_indirect_t_per_t"], rel=1e-9
        )


def test_cement_by_hand_from_the_workbooks_cells(read):
    """D_Processes!L24 = 1 255 000 / 0.95 t of cement, L54 DirEm 1 037 310 tCO2e, L65
    193 864.47 MWh at L66 0.833 tCO2/MWh, no precursor:
    SEE dir = 1 037 310 / 1 321 052.63 = 0.785 214 7; SEE ind = 161 489.1 / 1 321 052.63
    = 0.122 242 75 tCO2e/t (IR 2025/2547 Annex IV)."""
    template, result = read("1_CBAM_SEE_V2.1_Example_Cement.xlsx")
    (process,) = template["processes"]
    assert process["cells"]["activity_level_t"] == "D_Processes!L24"
    assert process["activity_level_t"] == pytest.approx(1255000 / 0.95)
    assert process["direct_emissions_t"] == 1037310
    (product,) = result["products"]
    assert product["cn_code"] == "25232900"
    assert product["see_direct_t_per_t"] == pytest.approx(1037310 / (1255000 / 0.95), rel=1e-12)
    assert product["see_direct_t_per_t"] == pytest.approx(0.7852147, abs=1e-7)
    assert product["see_indirect_t_per_t"] == pytest.approx(0.12224275, abs=1e-8)


def test_aluminium_forming_carries_its_internal_precursor(read):
    """Primary smelting (D_Processes!L24 200 000 t, DirEm 311 000 t, 3 000 000 MWh at 0.41)
    sends 120 000 t (L32) to the forming steps (113 000 t, DirEm 5 283 t, 105 000 MWh):
    smelting SEE = 311 000 / 200 000 = 1.555 and 1 230 000 / 200 000 = 6.15;
    forming SEE dir = (5 283 + 120 000 × 1.555) / 113 000 = 1.698 079 6,
    SEE ind = (43 050 + 120 000 × 6.15) / 113 000 = 6.911 946 9 tCO2e/t."""
    _template, result = read("6_CBAM_SEE_V2.1_Example_Aluminium.xlsx")
    by_cn = {p["cn_code"]: p for p in result["products"]}
    assert by_cn["76011010"]["see_direct_t_per_t"] == pytest.approx(1.555)
    assert by_cn["76011010"]["see_indirect_t_per_t"] == pytest.approx(6.15)
    forming = by_cn["76051900"]
    assert forming["see_direct_t_per_t"] == pytest.approx((5283 + 120000 * 1.555) / 113000)
    assert forming["see_indirect_t_per_t"] == pytest.approx((43050 + 120000 * 6.15) / 113000)
    # the engine's CBAM count drops the Annex II precursor's indirect: own 43 050 / 113 000
    assert forming["see_indirect_counted_t_per_t"] == pytest.approx(43050 / 113000)


def test_the_eaf_example_reads_purchased_precursors_with_country(read):
    template, _ = read("3_CBAM_SEE_V2.1_Example_Steel_2_EAF_alloys.xlsx")
    fe_ni = next(p for p in template["purchased_precursors"] if p["name"].startswith("FeNi"))
    assert fe_ni["country"] == "JP" and fe_ni["see_direct_t_per_t"] == 3.0
    assert fe_ni["cells"]["see_direct_t_per_t"] == "E_PurchPrec!L93"
    assert fe_ni["consumed_in"][0]["to"] == "EAF incl. continuous casting"


def _edited(tmp_path, source, edits):
    path = tmp_path / source.name
    shutil.copy(source, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl drops the template's Excel extensions
        workbook = load_workbook(path, data_only=True)  # keeps cached values as values
    for (sheet, cell), value in edits.items():
        workbook[sheet][cell] = value
    workbook.save(path)
    return path


def test_a_template_that_disagrees_with_its_inputs_is_flagged_with_the_step(tmp_path):
    """The cement example's stated SEE (direct) changed to 0.9: the inputs still give
    0.785 214 7, so the product does not agree and the flag names the cell, both figures
    and the step."""
    path = _edited(
        tmp_path,
        CEMENT,
        {("Summary_Products", "I10"): 0.9, ("0_Versions", "E39"): "2.1.1"},
    )
    template = read_template_full(path)
    assert template["version"] == "2.1.1"
    result = recompute_template(template)
    (product,) = result["products"]
    assert product["agrees"] is False
    (flag,) = result["flags"]
    assert flag["cell"] == "Summary_Products!I10"
    assert flag["template_t_per_t"] == 0.9
    assert flag["platform_t_per_t"] == pytest.approx(0.7852147, abs=1e-7)
    assert "D_Processes!L24" in flag["step"]


def test_source_streams_are_recomputed_from_their_inputs(read):
    """B_EmInst (a) of the cement example, by hand (IR 2025/2547 Annex II): raw meal
    1 255 000 t × 0.525 tCO2/t = 658 875; coal 88 000 t × 25 GJ/t × 95 tCO2/TJ / 1000 =
    209 000; household waste 25 000 × 20 × 83 / 1000 × (1 − 15 % biomass) = 35 275; heavy
    fuel oil 43 000 × 40 × 78 / 1000 = 134 160 — the template's own figures (AU). Mass
    balance, blast furnace example: coke fines 50 000 t × 0.88 tC/t × 3.664 = 161 216."""
    _template, result = read(CEMENT.name)
    got = {s["name"]: s["emissions_t"] for s in result["source_streams"]}
    assert got == pytest.approx(
        {
            "Raw meal for clinker": 658_875,
            "Coal": 209_000,
            "Household waste": 35_275,
            "Heavy fuel oil": 134_160,
        },
        rel=1e-12,
    )
    assert all(s["agrees"] for s in result["source_streams"])
    for name in sorted(PRODUCTS):
        streams = read(name)[1]["source_streams"]
        assert streams and all(s["agrees"] for s in streams), name
    blast = read("2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace.xlsx")[1]
    (coke,) = [s for s in blast["source_streams"] if s["name"] == "Coke fines"]
    assert coke["emissions_t"] == pytest.approx(161_216, rel=1e-12)
    assert coke["formula"] == "AD × C × 3.664"


def test_a_source_stream_its_inputs_do_not_give_is_flagged_first(tmp_path):
    """The cement example's coal EF changed 95 → 100 tCO2/TJ with its stated emissions
    (AU18, 209 000) and the product's SEE (direct) changed to 0.9: the stream's inputs give
    88 000 × 25 × 100 / 1000 = 220 000 t, a flag of its own; and the product's flag names
    that stream as the first step where the template and its inputs part."""
    path = _edited(tmp_path, CEMENT, {("B_EmInst", "J18"): 100, ("Summary_Products", "I10"): 0.9})
    result = recompute_template(read_template_full(path))
    stream_flag, product_flag = result["flags"]
    assert stream_flag["cell"] == "B_EmInst!AU18"
    assert (stream_flag["template_t"], stream_flag["platform_t"]) == (209_000, 220_000)
    assert "B_EmInst!J18" in stream_flag["step"] and "AD × NCV × EF" in stream_flag["step"]
    assert product_flag["cell"] == "Summary_Products!I10"
    assert product_flag["step"] == stream_flag["step"]
    assert "Coal" in product_flag["reason"]


def test_another_version_is_refused_naming_it_and_those_supported(tmp_path):
    path = _edited(tmp_path, CEMENT, {("0_Versions", "E39"): "3.0"})
    with pytest.raises(TemplateVersionError) as info:
        read_template_full(path)
    assert "template version 3.0 is not supported" in str(info.value)
    assert "2.1, 2.1.1" in str(info.value)


def test_a_formula_without_a_cached_value_is_named(tmp_path):
    path = _edited(tmp_path, CEMENT, {("D_Processes", "L24"): None})
    with pytest.raises(TemplateValueError, match=r"D_Processes!L24 \(total production"):
        read_template_full(path)


def test_a_workbook_that_is_not_a_template_is_refused_naming_the_missing_sheets(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "other.xlsx"
    workbook = Workbook()
    workbook.active["A1"] = "hello"
    workbook.save(path)
    with pytest.raises(UnreadableFile, match=r"not a CBAM communication template: no sheet"):
        read_template_full(path)


def test_a_damaged_workbook_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(CEMENT.read_bytes()[:50_000])  # a zip cut short
    with pytest.raises(IngestError) as info:
        read_template_full(path)
    assert "damaged.xlsx" in str(info.value)


def test_an_oversized_file_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    from ingest.disclosure import safety

    monkeypatch.setitem(safety.MAX_BYTES, "xlsx", 1000)
    with pytest.raises(IngestError, match="exceeds 1000"):
        read_template_full(CEMENT)
