"""cbam.installation: SEE = (AttrEm + Σ M_i × SEE_i) / AL, direct and indirect apart.

Expected numbers are worked by hand in the comments (IR 2025/2547 Annex III; docs/method-cbam.md).
"""

from __future__ import annotations

import copy

import pytest
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies.errors import CaseError

#: The example case of docs/interfaces.md.
DESIGN_CASE = {
    "methodology": "cbam.installation",
    "good": {"cn_code": "7208", "activity_level_t": 1000},
    "direct": {
        "attributed_emissions_t": 1500,
        "waste_gas_exported_tj": 0,
        "waste_gas_ef_t_per_tj": 0,
    },
    "electricity": {"consumed_mwh": 400, "ef_t_per_mwh": 0.5},
    "precursors": [
        {
            "cn_code": "7203",
            "mass_t": 1100,
            "origin": "IN",
            "see_direct_t_per_t": 0.9,
            "see_indirect_t_per_t": 0.1,
        }
    ],
}


def design_case(**changes) -> dict:
    case = copy.deepcopy(DESIGN_CASE)
    case.update(changes)
    return case


def test_the_design_example_by_hand():
    # AttrEm_dir   = 1500 − 0 × 0                = 1500 t
    # AttrEm_indir = 400 MWh × 0.5 t/MWh         = 200 t
    # precursor 7203 (DRI, Annex II) from IN: direct 1100 × 0.9 = 990 t; indirect dropped
    # SEE_dir   = (1500 + 990) / 1000 = 2.49 t/t
    # SEE_indir = (200 + 0) / 1000    = 0.2 t/t (reported; 7208 is direct-only)
    # SEE_total = SEE_dir             = 2.49 t/t
    r = run_case(DESIGN_CASE)
    assert_allclose(r["see_direct_t_per_t"], 2.49, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 0.2, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 2.49, rtol=1e-15)
    assert_allclose(r["precursor_direct_emissions_t"], 990.0, rtol=1e-15)
    assert r["precursor_indirect_emissions_t"] == 0.0
    assert r["direct_only"] is True
    assert r["tier"] == "disclosed"


def test_an_eu_origin_precursor_counts_zero():
    # Same case, precursor made in Germany: SEE_dir = (1500 + 0) / 1000 = 1.5 t/t.
    case = design_case()
    case["precursors"][0]["origin"] = "DE"
    r = run_case(case)
    assert_allclose(r["see_direct_t_per_t"], 1.5, rtol=1e-15)
    assert r["precursor_direct_emissions_t"] == 0.0
    assert "EU member state" in r["reason"]


def test_a_cement_good_counts_direct_and_indirect_and_carries_clinker_indirect():
    # Grey Portland cement 2523 29 00, AL 1000 t; DirEm 100 t; 50 MWh × 0.4 = 20 t;
    # clinker 2523 10 00 (not Annex II) from TR: 800 t × 0.85 = 680 t direct,
    # 800 t × 0.05 = 40 t indirect (carried).
    # SEE_dir = (100 + 680) / 1000 = 0.78; SEE_indir = (20 + 40) / 1000 = 0.06;
    # SEE_total = 0.84 t/t.
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 29 00", "activity_level_t": 1000},
        "direct": {"attributed_emissions_t": 100},
        "electricity": {"consumed_mwh": 50, "ef_t_per_mwh": 0.4},
        "precursors": [
            {
                "cn_code": "25231000",
                "mass_t": 800,
                "origin": "TR",
                "see_direct_t_per_t": 0.85,
                "see_indirect_t_per_t": 0.05,
            }
        ],
    }
    r = run_case(case)
    assert r["direct_only"] is False
    assert_allclose(r["see_direct_t_per_t"], 0.78, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 0.06, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 0.84, rtol=1e-15)


def test_annex_ii_precursor_indirect_is_dropped_and_others_are_carried():
    # Steel 7208, AL 100 t, DirEm 150 t, no electricity. Precursors:
    #   7203 DRI (Annex II):            10 t × (2.0, 0.5) → direct 20, indirect dropped
    #   2601 12 00 sintered ore (not):  50 t × (0.2, 0.02) → direct 10, indirect 1
    #   7202 41 ferro-chromium: in scope, so Annex II (Reg. 2023/956 Annex II excepts only
    #   the out-of-scope ferro-alloys and 7204): 2 t × (3.0, 4.0) → direct 6, indirect dropped
    # SEE_dir = (150 + 20 + 10 + 6) / 100 = 1.86; SEE_indir = (0 + 1 + 0) / 100 = 0.01.
    # 7208 is direct-only, but the sinter's indirect 1 t counts (IR 2025/2547 Annex I
    # pt 3.1): SEE_indir,counted = 0.01, reported only = 0 / 100; total = 1.87.
    # (Before issue #15 ferro-chromium carried its 8 t and the sinter's 1 t was dropped.)
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 100},
        "direct": {"attributed_emissions_t": 150},
        "precursors": [
            {
                "cn_code": "7203",
                "mass_t": 10,
                "origin": "IN",
                "see_direct_t_per_t": 2.0,
                "see_indirect_t_per_t": 0.5,
            },
            {
                "cn_code": "26011200",
                "mass_t": 50,
                "origin": "BR",
                "see_direct_t_per_t": 0.2,
                "see_indirect_t_per_t": 0.02,
            },
            {
                "cn_code": "72024100",
                "mass_t": 2,
                "origin": "ZA",
                "see_direct_t_per_t": 3.0,
                "see_indirect_t_per_t": 4.0,
            },
        ],
    }
    r = run_case(case)
    assert_allclose(r["see_direct_t_per_t"], 1.86, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 0.01, rtol=1e-15)
    assert_allclose(r["see_indirect_counted_t_per_t"], 0.01, rtol=1e-15)
    assert r["see_indirect_reported_only_t_per_t"] == 0.0
    assert_allclose(r["see_total_t_per_t"], 1.87, rtol=1e-15)
    assert r["direct_only"] is True
    steps = {s["formula_id"]: s["value"] for s in r["trace"]["steps"]}
    assert_allclose(steps["cbam.installation.precursor[1]"], [10.0, 1.0], rtol=1e-15)


def test_exported_waste_gas_is_deducted():
    # IR 2025/2547 Annex III A.2.3, Equation 54: WG_corr,exp = V × NCV × EF_NG × Corr_η
    # with the standard Corr_η = 0,667 when none is given: 10 TJ × 56.1 (EF_NG, Annex II
    # point G) × 0.667 = 374.187 t; AttrEm_dir = 1500 − 374.187 = 1125.813 t;
    # SEE_dir = (1125.813 + 990) / 1000 = 2.115813 t/t.  (The old code deducted 561 t.)
    case = design_case()
    case["direct"] = {
        "attributed_emissions_t": 1500,
        "waste_gas_exported_tj": 10,
        "waste_gas_ef_t_per_tj": 56.1,
    }
    r = run_case(case)
    assert_allclose(r["attributed_direct_emissions_t"], 1125.813, rtol=1e-15)
    assert_allclose(r["see_direct_t_per_t"], 2.115813, rtol=1e-15)
    assert any(f["name"] == "CORR_ETA_STANDARD" for f in r["trace"]["factors"])


@pytest.mark.parametrize(
    ("mutate", "key", "unit"),
    [
        (lambda c: c["good"].update(activity_level_t=0), "good.activity_level_t", "t"),
        (lambda c: c.pop("direct"), "direct.attributed_emissions_t", "tCO2e"),
        (lambda c: c["electricity"].update(consumed_mwh="400"), "electricity.consumed_mwh", "MWh"),
        (lambda c: c["precursors"][0].pop("mass_t"), "precursors[0].mass_t", "t"),
        (lambda c: c["precursors"][0].update(origin="India"), "precursors[0].origin", "ISO 3166"),
        (lambda c: c.update(precursor=[]), "precursor", "one of"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(mutate, key, unit):
    case = design_case()
    mutate(case)
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
    assert unit in exc.value.expected


def test_imported_waste_gas_has_no_efficiency_correction():
    # IR 2025/2547 Annex III A.2.3: WG_corr,imp = V × NCV × EF_NG (Equation 53, no Corr_η);
    # WG_corr,exp = V × NCV × EF_NG × Corr_η (Equation 54).  With 4 TJ imported, 10 TJ
    # exported, EF_NG 56.1 and Corr_η 0.5:
    #   AttrEm_dir = 1500 + 4 × 56.1 − 10 × 56.1 × 0.5 = 1500 + 224.4 − 280.5 = 1443.9 t.
    # (The old code corrected both: 1500 + 112.2 − 280.5 = 1331.7 t.)
    case = design_case()
    case["direct"] = {
        "attributed_emissions_t": 1500,
        "waste_gas_imported_tj": 4,
        "waste_gas_exported_tj": 10,
        "waste_gas_ef_t_per_tj": 56.1,
        "waste_gas_corr_eta": 0.5,
    }
    r = run_case(case)
    assert_allclose(r["attributed_direct_emissions_t"], 1443.9, rtol=1e-15)
    assert not any(f["name"] == "CORR_ETA_STANDARD" for f in r["trace"]["factors"])


def test_negative_attributed_direct_emissions_are_set_to_zero():
    # IR 2025/2547 Annex III A.3, Equation 55: "Where AttrEm_Dir is calculated to have a
    # negative value, it shall be set to zero."  DirEm 1500 − heat exported 2000 → 0, so
    # SEE_dir = (0 + 1100 × 0.9) / 1000 = 0.99 t/t (the old code gave (−500 + 990) / 1000).
    case = design_case()
    case["direct"] = {"attributed_emissions_t": 1500, "heat_exported_emissions_t": 2000}
    r = run_case(case)
    assert r["attributed_direct_emissions_t"] == 0.0
    assert_allclose(r["see_direct_t_per_t"], 0.99, rtol=1e-15)


@pytest.mark.parametrize(
    ("origin", "rule"), [("NO", "Annex III point 1"), ("CH", "Annex III point 1"), ("FR", "EU")]
)
def test_a_precursor_of_exempt_origin_counts_zero(origin, rule):
    # Reg. 2023/956 Annex IV pt 3 (Reg. 2025/2083): only precursors originating outside
    # the EU and the Annex III pt 1 countries count.  SEE_dir = (1500 + 0) / 1000.
    # (Before issue #15 a Norwegian or Swiss precursor counted 1100 × 0.9 = 990 t.)
    case = design_case()
    case["precursors"][0]["origin"] = origin
    r = run_case(case)
    assert_allclose(r["see_direct_t_per_t"], 1.5, rtol=1e-15)
    assert r["precursor_direct_emissions_t"] == 0.0 and rule in r["reason"]


@pytest.mark.parametrize(
    ("where", "cn_code"),
    [
        ("good", "7204 41 10"),  # ferrous scrap: excepted from Annex I
        ("good", "7202 21 00"),  # ferro-silicon: excepted
        ("good", "7312 10 20"),  # stranded wire: heading 7312 not listed
        ("good", "3105 60 00"),  # P+K fertiliser: excepted
        ("precursor", "7204 10 00"),
        ("precursor", "2601 11 00"),  # non-agglomerated ore: only 2601 12 00 is listed
    ],
)
def test_goods_and_precursors_outside_annex_i_are_refused(where, cn_code):
    case = design_case()
    if where == "good":
        case["good"]["cn_code"] = cn_code
        key = "good.cn_code"
    else:
        case["precursors"][0]["cn_code"] = cn_code
        key = "precursors[0].cn_code"
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key and cn_code.replace(" ", "") in str(exc.value)
    assert "Annex I" in exc.value.expected


def test_a_direct_only_good_with_own_electricity_and_bought_pellets():
    # Pig iron 7201 (Annex II), AL 100 t, DirEm 150 t, 200 MWh × 0.5 = 100 t own indirect;
    # 160 t of pellets 2601 12 00 from BR with SEE (0.1, 0.05) → direct 16 t, indirect 8 t.
    # SEE_dir = 166 / 100 = 1.66; SEE_indir = (100 + 8) / 100 = 1.08, of which counted
    # (the pellets', IR 2025/2547 Annex I pt 3.1) 0.08 and reported only (own) 1.0;
    # SEE_total = 1.66 + 0.08 = 1.74.  (Before issue #15: total 1.66.)
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7201", "activity_level_t": 100},
        "direct": {"attributed_emissions_t": 150},
        "electricity": {"consumed_mwh": 200, "ef_t_per_mwh": 0.5},
        "precursors": [
            {
                "cn_code": "2601 12 00",
                "mass_t": 160,
                "origin": "BR",
                "see_direct_t_per_t": 0.1,
                "see_indirect_t_per_t": 0.05,
            }
        ],
    }
    r = run_case(case)
    assert_allclose(r["see_direct_t_per_t"], 1.66, rtol=1e-15)
    assert_allclose(r["see_indirect_t_per_t"], 1.08, rtol=1e-15)
    assert_allclose(r["see_indirect_counted_t_per_t"], 0.08, rtol=1e-15)
    assert_allclose(r["see_indirect_reported_only_t_per_t"], 1.0, rtol=1e-15)
    assert_allclose(r["see_total_t_per_t"], 1.74, rtol=1e-15)
    steps = {s["formula_id"]: s["value"] for s in r["trace"]["steps"]}
    assert_allclose(steps["cbam.installation.indirect_channels"], [0.08, 1.0], rtol=1e-15)


def test_a_good_outside_annex_ii_counts_all_its_indirect():
    # Clinker-based cement 2523 29 00 (not Annex II), AL 100 t, DirEm 60 t, 10 MWh × 0.5
    # = 5 t; 75 t of clinker from TR (0.8, 0.02) → 60 t direct, 1.5 t indirect.
    # SEE_dir = 1.2; SEE_indir = counted = 0.065; reported only 0; total 1.265.
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "2523 29 00", "activity_level_t": 100},
        "direct": {"attributed_emissions_t": 60},
        "electricity": {"consumed_mwh": 10, "ef_t_per_mwh": 0.5},
        "precursors": [
            {
                "cn_code": "2523 10 00",
                "mass_t": 75,
                "origin": "TR",
                "see_direct_t_per_t": 0.8,
                "see_indirect_t_per_t": 0.02,
            }
        ],
    }
    r = run_case(case)
    assert r["direct_only"] is False
    assert_allclose(r["see_indirect_counted_t_per_t"], 0.065, rtol=1e-15)
    assert r["see_indirect_reported_only_t_per_t"] == 0.0
    assert_allclose(r["see_total_t_per_t"], 1.265, rtol=1e-15)
