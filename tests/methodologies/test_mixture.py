"""``estimate.mixture`` (methodologies/mixture.py), hand-worked.

Two plants, capacities 3 and 1 Mt/a: weights 0.75 and 0.25. SEE 2.2 [1.9, 2.5] and
0.6 [0.5, 0.7] → mean 0.75·2.2 + 0.25·0.6 = 1.8 t/t. σ = (p95 − p05) / (2 · 1.6449):
0.18238 and 0.06079. The 5 % quantile lies in the low plant's mass (which holds 25 %):
F(x) = 0.25·Φ((x − 0.6)/0.06079) = 0.05 → Φ = 0.2 → x = 0.6 − 0.8416·0.06079 = 0.54884;
the 95 % quantile: 0.25 + 0.75·Φ((x − 2.2)/0.18238) = 0.95 → Φ = 0.93333 →
x = 2.2 + 1.5011·0.18238 = 2.47378.
"""

from __future__ import annotations

import pytest

import methodologies
from methodologies.errors import CaseError

A = {
    "estimate": 1,
    "installation": "A",
    "tier": "modelled",
    "capacity_t": 3e6,
    "see_direct_t_per_t": 2.0,
    "see_indirect_t_per_t": 0.2,
    "see_total_t_per_t": 2.2,
    "p05_t_per_t": 1.9,
    "p95_t_per_t": 2.5,
}
B = {
    **A,
    "estimate": 2,
    "installation": "B",
    "tier": "disclosed",
    "capacity_t": 1e6,
    "see_direct_t_per_t": 0.3,
    "see_indirect_t_per_t": 0.3,
    "see_total_t_per_t": 0.6,
    "p05_t_per_t": 0.5,
    "p95_t_per_t": 0.7,
}


def test_mixture_of_two_plants_by_hand():
    r = methodologies.run_case({"methodology": "estimate.mixture", "components": [B, A]})
    assert r["weights"] == {"A": 0.75, "B": 0.25}
    assert r["see_total_t_per_t"] == pytest.approx(1.8)
    assert r["see_direct_t_per_t"] == pytest.approx(1.575)
    assert r["interval_low_t_per_t"] == pytest.approx(0.54884, abs=2e-5)
    assert r["interval_high_t_per_t"] == pytest.approx(2.47378, abs=2e-5)
    assert r["tier"] == "modelled"  # the worst component's rung
    assert "A modelled" in r["reason"] and "× 0.7500" in r["reason"]
    # Recomputes byte for byte from its trace; component order does not matter.
    assert methodologies.recompute(r["trace"])[1] == r["trace_sha256"]
    again = methodologies.run_case({"methodology": "estimate.mixture", "components": [A, B]})
    assert again["trace_sha256"] == r["trace_sha256"]


def test_point_values_and_one_component():
    point = {**A, "p05_t_per_t": None, "p95_t_per_t": None}
    r = methodologies.run_case({"methodology": "estimate.mixture", "components": [point]})
    assert r["interval_low_t_per_t"] == r["interval_high_t_per_t"] == 2.2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"capacity_t": 0}, "components[0].capacity_t"),
        ({"tier": "guess"}, "components[0].tier"),
        ({"p05_t_per_t": 3.0}, "components[0].p05_t_per_t"),
        ({"colour": "red"}, "components[0]"),
    ],
)
def test_a_malformed_component_is_refused_naming_it(change, where):
    with pytest.raises(CaseError) as err:
        methodologies.run_case({"methodology": "estimate.mixture", "components": [{**A, **change}]})
    assert where in str(err.value)


def test_default_without_markup_is_the_published_total():
    """IR 2025/2621 Annex I, Türkiye CN 7208: total 2.4275; with the 2026 mark-up 2.6703."""
    case = {"methodology": "cbam.default", "cn_code": "72085120", "origin": "TR", "year": 2026}
    marked = methodologies.run_case(case)
    plain = methodologies.run_case({**case, "without_markup": True})
    assert (marked["see_total_t_per_t"], plain["see_total_t_per_t"]) == (2.6703, 2.4275)
    assert plain["markup"] == 0.0 and "without the mark-up" in plain["reason"]
    assert "without_markup" not in marked["trace"]["case"]  # earlier traces keep their bytes
    assert methodologies.recompute(plain["trace"])[1] == plain["trace_sha256"]
