"""cbam.certificates: SEFA = CBAM_y × CSCF_y × BM_g (+ Σ m_i × SEFA_i with actual data);
certificates = M × max(0, SEE − SEFA − carbon price deduction).

Benchmarks marked "hypothetical" and every CSCF below are made-up inputs; the others are
read from the bundled IR 2025/2620 table and checked against the Commission's workbook
(``fixtures/cbam/benchmarks_IR2025-2620.xlsx``, sheet Benchmarks, row given).  The CBAM
factors are the schedule of docs/method-cbam.md (Directive 2003/87/EC Art. 10a(1a)).
Arithmetic by hand in the comments.
"""

from __future__ import annotations

import json

import pytest
from numpy.testing import assert_allclose

from methodologies import METHODOLOGIES, recompute, run_case
from methodologies.certificates import CBAM_FACTOR_BY_YEAR, cbam_factor
from methodologies.errors import CaseError
from methodologies.trace import canonical_bytes

BASE = {
    "methodology": "cbam.certificates",
    "year": 2026,
    "see_total_t_per_t": 2.0,
    "see_tier": "verified",
    "mass_t": 100,
    "benchmark_t_per_t": 1.5,
    "benchmark_column": "A",
    "benchmark_source": "hypothetical benchmark for a test",
    "cscf": 1.0,
    "cscf_source": "hypothetical CSCF for a test",
    "price_eur_per_t": 80,
}


@pytest.mark.parametrize(
    ("year", "factor"),
    [
        (2026, 0.975),
        (2027, 0.95),
        (2028, 0.90),
        (2029, 0.775),
        (2030, 0.515),
        (2031, 0.39),
        (2032, 0.265),
        (2033, 0.14),
        (2034, 0.0),
        (2040, 0.0),
    ],
)
def test_the_cbam_factor_schedule_of_design_section_4(year, factor):
    assert cbam_factor(year) == factor


def test_certificates_and_cost_by_hand_2026():
    # SEFA = 0.975 × 1.0 × 1.5 = 1.4625 t/t; c = 2.0 − 1.4625 = 0.5375 t/t;
    # C = 100 × 0.5375 = 53.75 certificates; cost = 53.75 × 80 = 4300 EUR.
    r = run_case(BASE)
    assert_allclose(r["sefa_t_per_t"], 1.4625, rtol=1e-15)
    assert_allclose(r["certificates_per_t"], 0.5375, rtol=1e-14)
    assert_allclose(r["certificates"], 53.75, rtol=1e-14)
    assert_allclose(r["cost_eur"], 4300.0, rtol=1e-14)
    assert r["cbam_factor"] == 0.975 and r["benchmark_column"] == "A"
    sources = {f["source"] for f in r["trace"]["factors"]}
    assert "hypothetical benchmark for a test" in sources


def test_certificates_by_hand_2030_with_a_cscf_and_column_b():
    # SEFA = 0.515 × 0.9 × 1.5 = 0.69525; c = 1.0 − 0.69525 = 0.30475;
    # C = 250 × 0.30475 = 76.1875; no price → cost null.
    case = {
        **BASE,
        "year": 2030,
        "see_total_t_per_t": 1.0,
        "cscf": 0.9,
        "mass_t": 250,
        "see_tier": "default",
        "benchmark_column": "B",
    }
    del case["price_eur_per_t"]
    r = run_case(case)
    assert_allclose(r["sefa_t_per_t"], 0.69525, rtol=1e-14)
    assert_allclose(r["certificates_per_t"], 0.30475, rtol=1e-13)
    assert_allclose(r["certificates"], 76.1875, rtol=1e-13)
    assert r["cost_eur"] is None


def test_no_certificates_when_see_is_below_the_adjustment():
    # SEFA = 1.4625 > SEE 1.0 → max(0, −0.4625) = 0.
    r = run_case({**BASE, "see_total_t_per_t": 1.0})
    assert r["certificates_per_t"] == 0.0 and r["certificates"] == 0.0
    assert r["cost_eur"] == 0.0 and "nothing due" in r["reason"]


def test_from_2034_every_tonne_of_see_needs_a_certificate():
    # CBAM factor 0: SEFA = 0; C = 100 × 2.0 = 200; cost 200 × 80 = 16000 EUR.
    r = run_case({**BASE, "year": 2034})
    assert r["sefa_t_per_t"] == 0.0 and r["certificates"] == 200.0 and r["cost_eur"] == 16000.0


def test_the_trace_recomputes_and_the_methodology_is_registered():
    assert "cbam.certificates" in METHODOLOGIES
    r = run_case(BASE)
    data, sha = recompute(json.loads(canonical_bytes(r["trace"])))
    assert data == canonical_bytes(r["trace"]) and sha == r["trace_sha256"]
    assert [s["formula_id"] for s in r["trace"]["steps"]] == [
        "cbam.certificates.sefa_good",
        "cbam.certificates.sefa",
        "cbam.certificates.per_tonne",
        "cbam.certificates.count",
        "cbam.certificates.cost",
    ]
    assert set(CBAM_FACTOR_BY_YEAR) == set(range(2026, 2034))


@pytest.mark.parametrize(
    ("change", "key", "unit"),
    [
        ({"benchmark_t_per_t": None}, "benchmark_t_per_t", "tCO2e/t"),
        ({"cscf": None}, "cscf", "fraction"),
        ({"cscf": 1.2}, "cscf", "[0, 1]"),
        ({"benchmark_source": ""}, "benchmark_source", "citation"),
        ({"benchmark_column": "C"}, "benchmark_column", "'A'"),
        ({"year": 2025}, "year", ">= 2026"),
        ({"price_eur_per_t": -1}, "price_eur_per_t", "EUR/tCO2e"),
        ({"mass_t": "100"}, "mass_t", "in t"),
    ],
)
def test_malformed_cases_name_the_key_and_unit(change, key, unit):
    case = {**BASE, **change}
    case = {k: v for k, v in case.items() if v is not None}
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key and unit in exc.value.expected


# --------------------------------------------------------------------------- issue #15 item 8

TABLE_CASE = {
    "methodology": "cbam.certificates",
    "year": 2026,
    "see_total_t_per_t": 2.0,
    "see_tier": "verified",
    "mass_t": 100,
    "cn_code": "72081000",
    "cscf": 1.0,
    "cscf_source": "hypothetical CSCF for a test",
    "price_eur_per_t": 80,
}


def test_the_benchmark_comes_from_the_bundled_table_in_the_column_of_the_tier():
    # Workbook row 146-148: CN 7208 10 00, column A 0.044 (every route), column B by
    # route: C 1.37, D 0.481, E 0.072.
    actual = run_case(TABLE_CASE)
    assert actual["benchmark_column"] == "A" and actual["benchmark_t_per_t"] == 0.044
    # SEFA = 0.975 × 0.044 = 0.0429; c = 2.0 − 0.0429 = 1.9571; C = 195.71.
    assert_allclose(actual["sefa_t_per_t"], 0.0429, rtol=1e-14)
    assert_allclose(actual["certificates"], 195.71, rtol=1e-14)
    default = run_case({**TABLE_CASE, "see_tier": "default", "route": "C"})
    assert default["benchmark_column"] == "B" and default["benchmark_t_per_t"] == 1.37
    # SEFA = 0.975 × 1.37 = 1.33575; c = 2.0 − 1.33575 = 0.66425; C = 66.425.
    assert_allclose(default["certificates"], 66.425, rtol=1e-13)
    assert "(EU) 2025/2620" in default["trace"]["case"]["benchmark_source"]
    assert "route (C)" in default["trace"]["case"]["benchmark_source"]


def test_a_benchmark_column_that_is_not_the_tiers_is_an_error():
    # Column A with a default-value SEE (and B with actual data) used to be accepted.
    with pytest.raises(CaseError) as exc:
        run_case({**BASE, "see_tier": "default", "benchmark_column": "A"})
    assert exc.value.key == "benchmark_column" and "'B'" in exc.value.expected
    with pytest.raises(CaseError) as exc:
        run_case({**BASE, "see_tier": "disclosed", "benchmark_column": "B"})
    assert exc.value.key == "benchmark_column" and "'A'" in exc.value.expected
    with pytest.raises(CaseError) as exc:
        run_case({k: v for k, v in BASE.items() if k != "see_tier"})
    assert exc.value.key == "see_tier"


def test_a_route_dependent_benchmark_needs_the_route():
    with pytest.raises(CaseError) as exc:
        run_case({**TABLE_CASE, "see_tier": "default"})
    assert exc.value.key == "route" and "(C), (D), (E)" in exc.value.reason
    with pytest.raises(CaseError) as exc:
        run_case({k: v for k, v in TABLE_CASE.items() if k != "cn_code"})
    assert exc.value.key == "cn_code"


def test_the_precursor_term_of_equation_4_for_a_complex_good_on_actual_data():
    # Good 7208 10 00 on actual data: BM_g (A) = 0.044 → SEFA_g = 0.975 × 0.044 = 0.0429.
    # Precursor 7207 11 14 (slab, route C), m = 1.05 t/t, column B: BM = 1.364 (workbook
    # row 95) → SEFA_i = 0.975 × 1.364 = 1.3299; m × SEFA_i = 1.396395.
    # Precursor with its own benchmark (hypothetical, column A): m = 0.1, BM 0.2 →
    # 0.1 × 0.975 × 0.2 = 0.0195.
    # SEFA = 0.0429 + 1.396395 + 0.0195 = 1.458795; c = 2.0 − 1.458795 = 0.541205;
    # C = 54.1205.
    case = {
        **TABLE_CASE,
        "precursors": [
            {"cn_code": "7207 11 14", "mass_t_per_t": 1.05, "route": "C"},
            {
                "cn_code": "26011200",
                "mass_t_per_t": 0.1,
                "benchmark_column": "A",
                "benchmark_t_per_t": 0.2,
                "benchmark_source": "hypothetical benchmark for a test",
            },
        ],
    }
    r = run_case(case)
    assert_allclose(r["sefa_good_t_per_t"], 0.0429, rtol=1e-14)
    assert_allclose(r["sefa_precursors_t_per_t"], 1.396395 + 0.0195, rtol=1e-14)
    assert_allclose(r["sefa_t_per_t"], 1.458795, rtol=1e-14)
    assert_allclose(r["certificates"], 54.1205, rtol=1e-13)
    assert "cbam.certificates.sefa_precursors" in [s["formula_id"] for s in r["trace"]["steps"]]
    _, sha = recompute(json.loads(canonical_bytes(r["trace"])))
    assert sha == r["trace_sha256"]


def test_precursors_are_refused_with_default_values_whose_benchmark_includes_them():
    case = {
        **TABLE_CASE,
        "see_tier": "default",
        "route": "C",
        "precursors": [{"cn_code": "72071114", "mass_t_per_t": 1.05, "route": "C"}],
    }
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == "precursors" and "column B already includes" in exc.value.expected


def test_the_carbon_price_paid_in_the_country_of_origin_is_deducted():
    # Reg. 2023/956 Art. 9.  BASE: SEFA = 1.4625 (see above); paid 8 EUR/t of good at a
    # certificate price of 80 EUR/tCO2e → d = 0.1 t/t; c = 2.0 − 1.4625 − 0.1 = 0.4375;
    # C = 43.75; cost = 3500 EUR (4300 without the deduction).
    r = run_case(
        {**BASE, "carbon_price_paid_eur_per_t": 8, "carbon_price_source": "certified receipt"}
    )
    assert_allclose(r["carbon_price_deduction_t_per_t"], 0.1, rtol=1e-15)
    assert_allclose(r["certificates"], 43.75, rtol=1e-13)
    assert_allclose(r["cost_eur"], 3500.0, rtol=1e-13)
    assert "certified receipt" in {f["source"] for f in r["trace"]["factors"]}
    # A price paid above the remaining obligation leaves nothing due, never a credit.
    big = run_case({**BASE, "carbon_price_paid_eur_per_t": 80, "carbon_price_source": "x"})
    assert big["certificates"] == 0.0 and big["cost_eur"] == 0.0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"carbon_price_paid_eur_per_t": 8}, "carbon_price_source"),
        ({"carbon_price_source": "receipt"}, "carbon_price_paid_eur_per_t"),
        (
            {"carbon_price_paid_eur_per_t": 8, "carbon_price_source": "r", "price_eur_per_t": None},
            "price_eur_per_t",
        ),
        ({"precursors": [{"cn_code": "72071114", "route": "C"}]}, "precursors[0].mass_t_per_t"),
        ({"precursors": [{"cn_code": "7207", "mass_t_per_t": 1}]}, "precursors[0].cn_code"),
        ({"precursors": [{"cn_code": "72071114", "mass_t_per_t": 1}]}, "precursors[0].route"),
    ],
)
def test_malformed_deductions_and_precursors_name_the_key(change, key):
    case = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key
