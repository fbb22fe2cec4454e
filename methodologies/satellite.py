"""``satellite.activity`` — an activity index from a facility's own satellite signal, and the
reconciliation of disclosed production against it (docs/design.md §1, §3).

Stated as a method, not claimed as truth: the index says how far a period's signal sits
between the facility's quiet level and its usual level; it is not calibrated against metered
production, and a flag asks for a look, it never replaces a disclosed value (docs/design.md §2).

Observations are per-scene zonal statistics over the facility's footprint (for example the
coverage-weighted mean thermal signal of :mod:`methodologies.zonal`), in one signal unit.

Model::

    baseline (the facility's own history, scenes h_1..h_m):
        B10 = P10(h),  B50 = median(h)       (numpy.percentile, linear interpolation)
    period (scenes x_1..x_n):
        x̄ = mean(x)
        s = sd(x, ddof=1) / √n               (n ≥ 2; with n = 1, s = sd(h, ddof=1))
    activity index      A = (x̄ − B10) / (B50 − B10)                  [1]
    its uncertainty     σ_A = s / (B50 − B10)                          [1]
    expected production E = A × P_ref                                  [t]
                        σ_E = √((σ_A·P_ref)² + (A·σ_ref)²)             [t]

``P_ref`` (``reference_production_t``) is the production at the facility's usual level
(A = 1) for a period of the same length, for example its verified production in the baseline
years, with uncertainty σ_ref. A = 0 is the quiet level (10th percentile of its own history).

Reconciliation::

    σ = √(σ_D² + σ_E²),  z = (D − E) / σ,  flagged when |z| > k   (k = 2 by default)

D is the disclosed production [t] with its uncertainty σ_D. k = 2 flags about 5 % of honest
disclosures if the errors were Gaussian and σ were right; it is a screening threshold.

Case::

    {"methodology": "satellite.activity", "facility_id": "WRI1019881", "period": "2025-Q1",
     "signal_unit": "K",
     "baseline_observations": [...], "period_observations": [...],
     "reference_production_t": 250000, "reference_production_sigma_t": 10000,
     "disclosed_production_t": 240000, "disclosed_sigma_t": 5000, "k": 2}

(``reference_production_sigma_t``, ``disclosed_sigma_t`` default 0; ``disclosed_production_t``
optional; ``k`` default 2; at least 3 baseline observations.)
Outputs: ``baseline_p10``, ``baseline_median``, ``period_mean``, ``activity_index``,
``activity_index_sigma``, ``expected_production_t``, ``expected_production_sigma_t``; with a
disclosure also ``disclosed_production_t``, ``combined_sigma_t``, ``z_score``, ``flagged``;
and ``validation`` (the statement above).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from methodologies.errors import CaseError, MethodologyError
from methodologies.spec import GOOD_T, CaseSpec, Range, Recorder

METHODOLOGY_ID = "satellite.activity"
VERSION = "1"
SUMMARY = (
    "Activity index from a facility's own satellite signal (baseline P10..median) and "
    "reconciliation of disclosed production: flag |z| > k"
)
#: Flag threshold on |z| [1] (a screening choice, see the module docstring).
K_DEFAULT = 2.0
#: Baseline percentiles [%]: quiet level and usual level.
BASELINE_LOW_PERCENTILE = 10.0
BASELINE_MID_PERCENTILE = 50.0
METHOD_SOURCE = "Carbon Manifest satellite.activity v1: a stated method, not a calibrated model"
VALIDATION = (
    "stated as a method, not claimed as truth: the activity index is not calibrated against "
    "metered production; a flag asks for review and never replaces the disclosed value"
)
MIN_BASELINE = 3


@dataclass(frozen=True)
class Reconciliation:
    """Disclosed D and satellite-implied E production [t], σ [t], z = (D − E)/σ, k, flag."""

    disclosed_t: Any
    expected_t: Any
    sigma_t: Any
    z_score: Any
    k: float
    flagged: Any


def baseline_levels(history: Any) -> tuple[float, float]:
    """(B10, B50): the 10th percentile and the median of a facility's own history [signal]."""
    h = np.asarray(history, dtype=float)
    low, mid = np.percentile(h, [BASELINE_LOW_PERCENTILE, BASELINE_MID_PERCENTILE])
    return float(low), float(mid)


def activity_index(period_mean: Any, low: float, mid: float) -> Any:
    """A = (x̄ − B10) / (B50 − B10) [1]; raises when the baseline has no spread."""
    if not mid > low:
        raise MethodologyError(
            f"baseline_observations: median {mid} is not above the 10th percentile {low}; "
            "the history has no spread to scale the index (expected a varying signal)"
        )
    return (np.asarray(period_mean, dtype=float) - low) / (mid - low)


def period_sigma(period: Any, history: Any) -> float:
    """Standard error of the period mean [signal]: sd(x)/√n, or sd(history) for one scene."""
    x = np.asarray(period, dtype=float)
    if len(x) >= 2:
        return float(np.std(x, ddof=1) / np.sqrt(len(x)))
    return float(np.std(np.asarray(history, dtype=float), ddof=1))


def expected_production(
    index: Any, index_sigma: Any, reference_t: Any, reference_sigma_t: Any = 0.0
) -> tuple[Any, Any]:
    """(E, σ_E) [t]: E = A × P_ref, σ_E = √((σ_A·P_ref)² + (A·σ_ref)²)."""
    e = np.asarray(index) * reference_t
    s = np.hypot(np.asarray(index_sigma) * reference_t, np.asarray(index) * reference_sigma_t)
    return e, s


def combined_sigma(disclosed_sigma_t: Any, expected_sigma_t: Any) -> Any:
    """σ = √(σ_D² + σ_E²) [t] (independent errors)."""
    return np.hypot(disclosed_sigma_t, expected_sigma_t)


def reconcile(
    disclosed_production_t: Any,
    expected_production_t: Any,
    sigma: Any,
    k: float = K_DEFAULT,
) -> Reconciliation:
    """Flag when |D − E| > k·σ; arrays broadcast. σ must be > 0."""
    d = np.asarray(disclosed_production_t, dtype=float)
    e = np.asarray(expected_production_t, dtype=float)
    s = np.asarray(sigma, dtype=float)
    if np.any(~(s > 0)):
        raise MethodologyError("sigma: the combined uncertainty must be > 0 (expected t > 0)")
    z = (d - e) / s
    flagged = np.abs(z) > k
    if z.ndim == 0:
        return Reconciliation(float(d), float(e), float(s), float(z), float(k), bool(flagged))
    return Reconciliation(d, e, s, z, float(k), flagged)


def _numbers(case: Mapping[str, Any], key: str, minimum: int) -> list[float]:
    values = case.get(key)
    if not isinstance(values, list) or len(values) < minimum:
        raise CaseError(key, f"a list of at least {minimum} numbers", "missing or too short")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise CaseError(f"{key}[{i}]", "a finite number", f"got {v!r}")
        out.append(float(v))
    return out


def _number(case: Mapping[str, Any], key: str, default: float | None, positive: bool) -> Any:
    v = case.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise CaseError(key, "a finite number", f"got {v!r}")
    if v < 0 or (positive and v == 0):
        raise CaseError(key, "a number > 0" if positive else "a number >= 0", f"got {v!r}")
    return float(v)


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The case with defaults filled in; raises :class:`CaseError` naming the bad key."""
    known = {
        "methodology",
        "facility_id",
        "period",
        "signal_unit",
        "baseline_observations",
        "period_observations",
        "reference_production_t",
        "reference_production_sigma_t",
        "disclosed_production_t",
        "disclosed_sigma_t",
        "k",
    }
    extra = sorted(set(case) - known)
    if extra:
        raise CaseError(extra[0], "one of " + ", ".join(sorted(known)), "unknown key")
    norm = {
        "methodology": METHODOLOGY_ID,
        "facility_id": str(case.get("facility_id", "")),
        "period": str(case.get("period", "")),
        "signal_unit": str(case.get("signal_unit", "")),
        "baseline_observations": _numbers(case, "baseline_observations", MIN_BASELINE),
        "period_observations": _numbers(case, "period_observations", 1),
        "reference_production_t": _number(case, "reference_production_t", None, True),
        "reference_production_sigma_t": _number(case, "reference_production_sigma_t", 0.0, False),
        "k": _number(case, "k", K_DEFAULT, True),
    }
    if norm["reference_production_t"] is None:
        raise CaseError("reference_production_t", "t > 0", "missing")
    if case.get("disclosed_production_t") is not None:
        norm["disclosed_production_t"] = _number(case, "disclosed_production_t", None, False)
        norm["disclosed_sigma_t"] = _number(case, "disclosed_sigma_t", 0.0, False)
    return norm


def compute(case: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs plus ``trace`` and ``trace_sha256`` (see the module docstring)."""
    norm = normalise_case(case)
    unit = norm["signal_unit"] or "signal"
    history, period = norm["baseline_observations"], norm["period_observations"]
    low, mid = baseline_levels(history)
    x_mean = float(np.mean(period))
    s = period_sigma(period, history)
    a = float(activity_index(x_mean, low, mid))
    sa = s / (mid - low)
    p_ref, s_ref = norm["reference_production_t"], norm["reference_production_sigma_t"]
    e, se = (float(v) for v in expected_production(a, sa, p_ref, s_ref))
    rec = Recorder()
    rec.input("baseline_observations", history, unit)
    rec.input("period_observations", period, unit)
    rec.input("reference_production_t", p_ref, "t")
    rec.input("reference_production_sigma_t", s_ref, "t")
    rec.factor("k", norm["k"], "1", METHOD_SOURCE)
    rec.factor("baseline_low_percentile", BASELINE_LOW_PERCENTILE, "%", METHOD_SOURCE)
    rec.factor("baseline_mid_percentile", BASELINE_MID_PERCENTILE, "%", METHOD_SOURCE)
    rec.step("satellite.baseline_p10", "B10 = P10(history)", {"n": len(history)}, low, unit)
    rec.step("satellite.baseline_median", "B50 = median(history)", {}, mid, unit)
    rec.step("satellite.period_mean", "x̄ = mean(period)", {"n": len(period)}, x_mean, unit)
    rec.step("satellite.period_sigma", "s = sd(period)/√n (n ≥ 2) else sd(history)",
             {"n": len(period)}, s, unit)  # fmt: skip
    rec.step("satellite.activity_index", "A = (x̄ − B10) / (B50 − B10)",
             {"x_mean": x_mean, "b10": low, "b50": mid}, a, "1")  # fmt: skip
    rec.step("satellite.activity_index_sigma", "σ_A = s / (B50 − B10)", {"s": s}, sa, "1")
    rec.step(
        "satellite.expected_production",
        "E = A × P_ref; σ_E = √((σ_A·P_ref)² + (A·σ_ref)²)",
        {"a": a, "sigma_a": sa, "p_ref_t": p_ref, "sigma_ref_t": s_ref},
        [e, se],
        "t",
    )
    outputs: dict[str, Any] = {
        "facility_id": norm["facility_id"],
        "period": norm["period"],
        "baseline_p10": low,
        "baseline_median": mid,
        "period_mean": x_mean,
        "activity_index": a,
        "activity_index_sigma": sa,
        "expected_production_t": e,
        "expected_production_sigma_t": se,
        "validation": VALIDATION,
    }
    if "disclosed_production_t" in norm:
        d = rec.input("disclosed_production_t", norm["disclosed_production_t"], "t")
        sd = rec.input("disclosed_sigma_t", norm["disclosed_sigma_t"], "t")
        sigma = float(combined_sigma(sd, se))
        r = reconcile(d, e, sigma, norm["k"])
        rec.step(
            "satellite.reconcile",
            "σ = √(σ_D² + σ_E²); z = (D − E)/σ; flagged = |z| > k",
            {"d_t": d, "e_t": e, "sigma_t": sigma, "k": norm["k"]},
            r.z_score,
            "1",
        )
        outputs.update(
            disclosed_production_t=d, combined_sigma_t=sigma, z_score=r.z_score, flagged=r.flagged
        )
    return rec.seal(METHODOLOGY_ID, VERSION, outputs, norm)


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute(case)


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        "reference_production_t": GOOD_T,
        "reference_production_sigma_t": GOOD_T,
        "disclosed_production_t": GOOD_T,
        "disclosed_sigma_t": GOOD_T,
        "k": Range(0.5, 10.0, "1 (coverage factor)"),
    },
)
