"""``methodologies.satellite``: activity index, its uncertainty, reconciliation and trace.
Expected numbers are worked by hand from the formulas in the module docstring."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies.errors import CaseError, MethodologyError
from methodologies.satellite import (
    VALIDATION,
    activity_index,
    baseline_levels,
    combined_sigma,
    reconcile,
    run,
)
from methodologies.trace import canonical_bytes, sha256_hex

# History 0..10 K above background: P10 = 1, median = 5 (numpy linear percentiles).
HISTORY = [float(v) for v in range(11)]
CASE = {
    "methodology": "satellite.activity",
    "facility_id": "WRI1019881",
    "period": "2025-Q1",
    "signal_unit": "K",
    "baseline_observations": HISTORY,
    "period_observations": [4.0, 5.0, 6.0],
    "reference_production_t": 1000.0,
    "reference_production_sigma_t": 0.0,
    "disclosed_production_t": 1500.0,
    "disclosed_sigma_t": 100.0,
}


def test_the_index_is_zero_at_the_quiet_level_and_one_at_the_usual_level():
    low, mid = baseline_levels(HISTORY)
    assert (low, mid) == (1.0, 5.0)
    assert_allclose(activity_index([1.0, 5.0, 9.0], low, mid), [0.0, 1.0, 2.0])
    with pytest.raises(MethodologyError, match="no spread"):
        activity_index(3.0, 2.0, 2.0)


def test_reconcile_flags_beyond_k_sigma_and_returns_both_numbers():
    r = reconcile(1500.0, 1000.0, 200.0)
    assert (r.disclosed_t, r.expected_t, r.z_score, r.k, r.flagged) == (1500, 1000, 2.5, 2.0, True)
    assert not reconcile(1300.0, 1000.0, 200.0).flagged  # z = 1.5
    assert not reconcile(1300.0, 1000.0, 100.0, k=3).flagged  # z = 3 is not > 3
    z = reconcile(np.array([900.0, 1500.0]), 1000.0, 100.0)
    assert_allclose(z.z_score, [-1.0, 5.0])
    assert list(z.flagged) == [False, True]
    assert_allclose(combined_sigma(30.0, 40.0), 50.0)


def test_a_case_gives_the_index_its_sigma_and_the_flag():
    out = run(CASE)
    # x̄ = 5 → A = (5 − 1)/(5 − 1) = 1; s = sd([4,5,6])/√3 = 1/√3; σ_A = s/4
    assert_allclose(out["activity_index"], 1.0)
    assert_allclose(out["activity_index_sigma"], 1 / np.sqrt(3) / 4)
    assert_allclose(out["expected_production_t"], 1000.0)
    assert_allclose(out["expected_production_sigma_t"], 1000 / np.sqrt(3) / 4)
    sigma = np.hypot(100.0, 1000 / np.sqrt(3) / 4)
    assert_allclose(out["combined_sigma_t"], sigma)
    assert_allclose(out["z_score"], 500.0 / sigma)
    assert out["flagged"] is True
    assert out["validation"] == VALIDATION
    assert "not claimed as truth" in VALIDATION


def test_the_trace_recomputes_byte_for_byte():
    out = run(CASE)
    trace = out["trace"]
    assert trace["methodology"] == {"id": "satellite.activity", "version": "1"}
    assert sha256_hex(canonical_bytes(trace)) == out["trace_sha256"]
    again = run(trace["case"])
    assert again["trace_sha256"] == out["trace_sha256"]
    assert {f["name"] for f in trace["factors"]} >= {"k"}
    assert [s["formula_id"] for s in trace["steps"]][-1] == "satellite.reconcile"


def test_bad_cases_name_the_key():
    with pytest.raises(CaseError, match="baseline_observations"):
        run({**CASE, "baseline_observations": [1.0, 2.0]})
    with pytest.raises(CaseError, match=r"period_observations\[1\]"):
        run({**CASE, "period_observations": [1.0, "x"]})
    with pytest.raises(CaseError, match="reference_production_t"):
        run({**CASE, "reference_production_t": 0})
