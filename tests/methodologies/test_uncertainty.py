"""Uncertainty: inputs with distributions, Monte Carlo and first-order propagation
(JCGM 100:2008 §5; JCGM 101:2008), integrated with cbam.installation."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from methodologies import run_case
from methodologies import uncertainty as unc
from methodologies.errors import CaseError
from methodologies.trace import canonical_bytes

#: A linear case: SEE_dir = (DirEm + M × SEE_p) / AL with DirEm and SEE_p uncertain.
LINEAR = {
    "methodology": "cbam.installation",
    "good": {"cn_code": "7208", "activity_level_t": 1000},
    "direct": {"attributed_emissions_t": {"value": 1500, "uncertainty": {"relative": 0.1}}},
    "precursors": [
        {
            "cn_code": "7203",
            "mass_t": 1100,
            "origin": "IN",
            "see_direct_t_per_t": {"dist": "normal", "mean": 0.9, "sd": 0.05},
            "see_indirect_t_per_t": 0.1,
        }
    ],
}


def with_settings(case: dict, **kw) -> dict:
    out = copy.deepcopy(case)
    out["uncertainty"] = kw
    return out


def test_distribution_moments_by_hand():
    # uniform(0, 12): mean 6, sd 12/√12 = √12.  triangular(0, 0, 6): mean 2,
    # sd √((0 + 36 + 0 − 0 − 0 − 0)/18) = √2.  lognormal(median 1, gsd e): mean e^(1/2),
    # sd √((e − 1) e).  Relative 5 % of 200: sd 10.  (GUM §4.3.7, §4.3.9.)
    specs = [
        ({"dist": "uniform", "low": 0.0, "high": 12.0}, 6.0, math.sqrt(12)),
        ({"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 6.0}, 2.0, math.sqrt(2)),
        (
            {"dist": "lognormal", "median": 1.0, "gsd": math.e},
            math.exp(0.5),
            math.sqrt((math.e - 1) * math.e),
        ),
        ({"value": 200.0, "uncertainty": {"relative": 0.05}}, 200.0, 10.0),
    ]
    rng = np.random.Generator(np.random.PCG64(3))
    for spec, mean, sd in specs:
        assert_allclose(unc.nominal(spec), mean, rtol=1e-15)
        assert_allclose(unc.standard_deviation(spec), sd, rtol=1e-15)
        draws = unc.sample(spec, rng, 400_000)
        assert_allclose([draws.mean(), draws.std()], [mean, sd], rtol=0.02)


def test_the_linear_case_is_propagated_analytically_and_exactly():
    # SEE = (DirEm + 1100 × SEE_p) / 1000; u(DirEm) = 150, u(SEE_p) = 0.05 →
    # u(SEE) = √((150/1000)² + (1100 × 0.05/1000)²) = √(0.0225 + 0.003025) = √0.025525.
    # Centre (1500 + 990)/1000 = 2.49; interval 2.49 ± 1.6448536269514722 × u.
    r = run_case(LINEAR)
    u = math.sqrt(0.025525)
    assert r["uncertainty_method"] == "first_order" and r["interval"]["exact"] is True
    assert_allclose(r["interval"]["sd"], u, rtol=1e-12)
    assert_allclose(
        [r["interval_low_t_per_t"], r["interval_high_t_per_t"]],
        [2.49 - unc.Z95 * u, 2.49 + unc.Z95 * u],
        rtol=1e-12,
    )
    assert r["see_total_t_per_t"] == 2.49  # the nominal result is unchanged
    item = next(i for i in r["trace"]["inputs"] if i["name"] == "direct.attributed_emissions_t")
    assert item["value"] == 1500.0 and item["uncertainty"]["uncertainty"]["relative"] == 0.1


def test_monte_carlo_interval_brackets_the_analytic_one():
    analytic = run_case(LINEAR)
    mc = run_case(with_settings(LINEAR, method="monte_carlo", seed=11, samples=400_000))
    assert mc["uncertainty_method"] == "monte_carlo"
    u = analytic["interval"]["sd"]
    # The 5 % quantile of 4e5 draws has a standard error ≈ 0.0035 u; allow 0.03 u.
    assert abs(mc["interval_low_t_per_t"] - analytic["interval_low_t_per_t"]) < 0.03 * u
    assert abs(mc["interval_high_t_per_t"] - analytic["interval_high_t_per_t"]) < 0.03 * u


def test_same_seed_gives_identical_bytes_and_a_different_seed_does_not():
    a = run_case(
        with_settings(LINEAR, method="monte_carlo", seed=7, samples=5000, export_samples=True)
    )
    b = run_case(
        with_settings(LINEAR, method="monte_carlo", seed=7, samples=5000, export_samples=True)
    )
    c = run_case(with_settings(LINEAR, method="monte_carlo", seed=8, samples=5000))
    assert canonical_bytes(a["trace"]) == canonical_bytes(b["trace"])
    assert np.array(a["samples_t_per_t"]).tobytes() == np.array(b["samples_t_per_t"]).tobytes()
    assert a["interval_low_t_per_t"] != c["interval_low_t_per_t"]
    assert a["trace_sha256"] != c["trace_sha256"]
    step = next(s for s in a["trace"]["steps"] if s["formula_id"] == "cbam.installation.interval")
    assert step["inputs"]["seed"] == 7 and step["inputs"]["samples"] == 5000


def test_samples_are_exported_beside_the_result_not_in_the_trace():
    r = run_case(with_settings(LINEAR, method="monte_carlo", samples=1000, export_samples=True))
    assert len(r["samples_t_per_t"]) == 1000
    assert "samples_t_per_t" not in canonical_bytes(r["trace"]).decode()
    assert "samples_t_per_t" not in run_case(LINEAR)


def test_a_nonlinear_case_falls_back_to_monte_carlo():
    # An uncertain activity level divides: SEE is not linear in it, so "auto" runs MC.
    case = copy.deepcopy(LINEAR)
    case["good"]["activity_level_t"] = {"dist": "uniform", "low": 950, "high": 1050}
    r = run_case(case)
    assert r["uncertainty_method"] == "monte_carlo"
    assert r["interval"]["seed"] == 0 and r["interval"]["samples"] == 10_000
    assert r["interval_low_t_per_t"] < r["see_total_t_per_t"] < r["interval_high_t_per_t"]
    forced = run_case(with_settings(case, method="analytic"))
    assert forced["uncertainty_method"] == "first_order" and forced["interval"]["exact"] is False


def test_uncertainty_reaches_nested_installations_and_streams():
    case = {
        "methodology": "cbam.installation",
        "good": {"cn_code": "7208", "activity_level_t": 10},
        "direct": {
            "source_streams": [
                {
                    "type": "process",
                    "ad_t": 10,
                    "ef_t_per_t": {"value": 1.0, "uncertainty": {"relative": 0.1}},
                }
            ]
        },
        "precursors": [
            {
                "mass_t": 10,
                "origin": "IN",
                "installation": {
                    "good": {"cn_code": "7201", "activity_level_t": 10},
                    "direct": {"attributed_emissions_t": {"dist": "normal", "mean": 10, "sd": 2}},
                },
            }
        ],
    }
    # SEE = (10 × EF + 10 × (DirEm_B / 10)) / 10 = EF + DirEm_B / 10;
    # u = √(0.1² + 0.2²) = √0.05.
    r = run_case(case)
    assert r["interval"]["exact"] is True
    assert_allclose(r["interval"]["sd"], math.sqrt(0.05), rtol=1e-12)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"dist": "gamma"}, "direct.attributed_emissions_t.dist"),
        ({"dist": "normal", "mean": 1}, "direct.attributed_emissions_t.sd"),
        ({"dist": "uniform", "low": 2, "high": 1}, "direct.attributed_emissions_t"),
        (
            {"value": 1, "uncertainty": {"relative": -0.1}},
            "direct.attributed_emissions_t.uncertainty.relative",
        ),
        (
            {"value": 1, "uncertainty": {"absolute": 0.1}},
            "direct.attributed_emissions_t.uncertainty.absolute",
        ),
        ({"dist": "normal", "mean": -5, "sd": 1}, "direct.attributed_emissions_t"),
    ],
)
def test_malformed_uncertain_inputs_name_the_key(value, key):
    case = copy.deepcopy(LINEAR)
    case["direct"]["attributed_emissions_t"] = value
    with pytest.raises(CaseError) as exc:
        run_case(case)
    assert exc.value.key == key


def test_malformed_settings_name_the_key():
    for settings, key in [
        ({"method": "bayes"}, "uncertainty.method"),
        ({"samples": 5}, "uncertainty.samples"),
        ({"seed": -1}, "uncertainty.seed"),
    ]:
        with pytest.raises(CaseError) as exc:
            run_case(with_settings(LINEAR, **settings))
        assert exc.value.key == key
