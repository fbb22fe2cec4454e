"""cbam.certificates: SEFA = CBAM_y × CSCF_y × BM_g; certificates = M × max(0, SEE − SEFA).

The benchmarks and CSCF below are HYPOTHETICAL inputs (the engine ships no IR 2025/2620
table); the CBAM factors are the schedule of DESIGN.md §4 (Directive 2003/87/EC Art.
10a(1a)).  Arithmetic by hand in the comments.
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
    assert r["cost_eur"] == 0.0 and "no certificates" in r["reason"]


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
