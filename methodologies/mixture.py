"""``estimate.mixture`` — the capacity-weighted mixture of several plants' estimates.

A shipment whose declaration names no installation, from an exporter linked to several
plants able to make its good, came from one of them; which one is unknown. Its best
estimate is then the mixture of the plants' estimates, each weighted by its capacity
(docs/design.md, the two figures of a shipment).

Case (JSON)::

    {"methodology": "estimate.mixture",
     "components": [
        {"estimate": 12,                    # the component estimate's id
         "installation": "P100000120001",   # the plant it is of
         "tier": "modelled",                # its rung
         "capacity_t": 2500000,             # the weight basis [t/a], > 0
         "see_direct_t_per_t": 1.9,
         "see_indirect_t_per_t": 0.1,       # or null
         "see_total_t_per_t": 2.0,
         "p05_t_per_t": 1.6,                # or null: a point value
         "p95_t_per_t": 2.4}, ...]}

Formulas:

- weight ``w_i = capacity_i / Σ capacity``;
- ``SEE = Σ w_i · SEE_i`` (direct, indirect and total alike; indirect is null when any
  component's is);
- uncertainty: the SEE of a tonne of the good is a draw from the mixture distribution
  ``F(x) = Σ w_i · Φ((x − SEE_i) / σ_i)``, each component normal with
  ``σ_i = (p95_i − p05_i) / (2 · 1.6448536)`` (its stated 90 % interval; a component
  without an interval is a point mass, its term a step). ``p05``/``p95`` are the 5 %
  and 95 % quantiles of ``F``, found by bisection to 1e-9 tCO2e/t and rounded to 6
  decimals. The interval is thus wide when the plants differ (e.g. a blast-furnace and
  a scrap-EAF plant), narrow when they agree.
- tier: the worst rung among the components (a mixture is no better than its parts).

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``interval_low_t_per_t``, ``interval_high_t_per_t``, ``weights`` (installation →
weight), ``tier`` and ``reason``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from methodologies.errors import CaseError
from methodologies.spec import GOOD_T, SEE, CaseSpec, seal_outputs
from methodologies.trace import input_item, step_item

METHODOLOGY_ID = "estimate.mixture"
VERSION = "1.0.0"
SUMMARY = "Capacity-weighted mixture of several plants' estimates, with its 90 % interval"
UNIT = "tCO2e/t"
Z95 = 1.6448536269514722
_RANK = {"verified": 0, "disclosed": 1, "modelled": 2, "default": 3}
_KEYS = (
    "estimate",
    "installation",
    "tier",
    "capacity_t",
    "see_direct_t_per_t",
    "see_indirect_t_per_t",
    "see_total_t_per_t",
    "p05_t_per_t",
    "p95_t_per_t",
)


def _number(value: Any, where: str, *, positive: bool = False, null: bool = False) -> Any:
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CaseError(where, "a finite number", f"got {value!r}")
    if positive and value <= 0:
        raise CaseError(where, "a number > 0", f"got {value!r}")
    return float(value)


#: Plausible ranges of the components (methodologies.plausibility): the same SEE and
#: tonnage ranges as every other methodology's.
SPEC = CaseSpec(
    {},
    ranges={
        "components[*].capacity_t": GOOD_T,
        "components[*].see_direct_t_per_t": SEE,
        "components[*].see_indirect_t_per_t": SEE,
        "components[*].see_total_t_per_t": SEE,
        "components[*].p05_t_per_t": SEE,
        "components[*].p95_t_per_t": SEE,
    },
)


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised case: components sorted by installation, numbers as floats."""
    components = case.get("components")
    if not isinstance(components, list) or not components:
        raise CaseError("components", "a non-empty list of component estimates", "missing")
    out = []
    for i, c in enumerate(components):
        where = f"components[{i}]"
        if not isinstance(c, Mapping):
            raise CaseError(where, "an object", f"got {type(c).__name__}")
        extra = set(c) - set(_KEYS)
        if extra:
            raise CaseError(where, f"only the keys {', '.join(_KEYS)}", f"got {sorted(extra)}")
        tier = c.get("tier")
        if tier not in _RANK:
            raise CaseError(f"{where}.tier", "verified, disclosed, modelled or default", repr(tier))
        low = _number(c.get("p05_t_per_t"), f"{where}.p05_t_per_t", null=True)
        high = _number(c.get("p95_t_per_t"), f"{where}.p95_t_per_t", null=True)
        if (low is None) != (high is None) or (low is not None and low > high):
            raise CaseError(f"{where}.p05_t_per_t", "p05 ≤ p95, both or neither", f"{low}, {high}")
        out.append(
            {
                "estimate": int(c.get("estimate") or 0),
                "installation": str(c.get("installation") or ""),
                "tier": tier,
                "capacity_t": _number(c.get("capacity_t"), f"{where}.capacity_t", positive=True),
                "see_direct_t_per_t": _number(
                    c.get("see_direct_t_per_t"), f"{where}.see_direct_t_per_t"
                ),
                "see_indirect_t_per_t": _number(
                    c.get("see_indirect_t_per_t"), f"{where}.see_indirect_t_per_t", null=True
                ),
                "see_total_t_per_t": _number(
                    c.get("see_total_t_per_t"), f"{where}.see_total_t_per_t"
                ),
                "p05_t_per_t": low,
                "p95_t_per_t": high,
            }
        )
    out.sort(key=lambda c: (c["installation"], c["estimate"]))
    return {"components": out, "methodology": METHODOLOGY_ID}


def _cdf(x: float, parts: list[tuple[float, float, float]]) -> float:
    total = 0.0
    for w, mu, sigma in parts:
        if sigma > 0:
            total += w * 0.5 * (1.0 + math.erf((x - mu) / (sigma * math.sqrt(2.0))))
        elif x >= mu:
            total += w
    return total


def mixture_quantile(q: float, parts: list[tuple[float, float, float]]) -> float:
    """The ``q`` quantile of Σ w·N(μ, σ) (σ = 0: a point mass), by bisection."""
    lo = min(mu - 8 * sigma for _, mu, sigma in parts)
    hi = max(mu + 8 * sigma for _, mu, sigma in parts)
    for _ in range(200):
        mid = (lo + hi) / 2
        if _cdf(mid, parts) >= q:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-9:
            break
    return round(hi, 6)


def mix(components: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The outputs of the mixture of normalised components (see the module docstring)."""
    capacity = sum(c["capacity_t"] for c in components)
    weights = [c["capacity_t"] / capacity for c in components]
    direct = sum(w * c["see_direct_t_per_t"] for w, c in zip(weights, components, strict=True))
    total = sum(w * c["see_total_t_per_t"] for w, c in zip(weights, components, strict=True))
    indirect = (
        None
        if any(c["see_indirect_t_per_t"] is None for c in components)
        else sum(w * c["see_indirect_t_per_t"] for w, c in zip(weights, components, strict=True))
    )
    parts = [
        (
            w,
            c["see_total_t_per_t"],
            0.0 if c["p05_t_per_t"] is None else (c["p95_t_per_t"] - c["p05_t_per_t"]) / (2 * Z95),
        )
        for w, c in zip(weights, components, strict=True)
    ]
    tier = max((c["tier"] for c in components), key=_RANK.__getitem__)
    return {
        "see_direct_t_per_t": direct,
        "see_indirect_t_per_t": indirect,
        "see_total_t_per_t": total,
        "interval_low_t_per_t": mixture_quantile(0.05, parts),
        "interval_high_t_per_t": mixture_quantile(0.95, parts),
        "weights": {c["installation"]: w for c, w in zip(components, weights, strict=True)},
        "tier": tier,
        "direct_only": False,
    }


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    norm = normalise_case(case)
    components = norm["components"]
    outputs = mix(components)
    outputs["reason"] = (
        f"Capacity-weighted mixture of {len(components)} plants' estimates ("
        + ", ".join(
            f"{c['installation']} {c['tier']} {c['see_total_t_per_t']!r} t/t × "
            f"{outputs['weights'][c['installation']]:.4f}"
            for c in components
        )
        + f"): {outputs['see_total_t_per_t']:.4f} tCO2e/t, 90 % interval "
        f"{outputs['interval_low_t_per_t']}–{outputs['interval_high_t_per_t']}; tier "
        f"{outputs['tier']} (the worst component's)."
    )
    inputs = [
        input_item(
            f"component {c['installation']} (estimate {c['estimate']})",
            c["see_total_t_per_t"],
            UNIT,
            uncertainty=None
            if c["p05_t_per_t"] is None
            else {"p05": c["p05_t_per_t"], "p95": c["p95_t_per_t"]},
        )
        for c in components
    ] + [input_item(f"capacity {c['installation']}", c["capacity_t"], "t/a") for c in components]
    steps = [
        step_item(
            "mixture.weights",
            "w_i = capacity_i / Σ capacity",
            {c["installation"]: c["capacity_t"] for c in components},
            outputs["weights"],
            "1",
        ),
        step_item(
            "mixture.see_total",
            "SEE = Σ w_i · SEE_i",
            {c["installation"]: c["see_total_t_per_t"] for c in components},
            outputs["see_total_t_per_t"],
            UNIT,
        ),
        step_item(
            "mixture.interval",
            "p05, p95 = quantiles of Σ w_i · N(SEE_i, ((p95_i − p05_i) / 3.2897)²)",
            {"weights": outputs["weights"]},
            [outputs["interval_low_t_per_t"], outputs["interval_high_t_per_t"]],
            UNIT,
        ),
    ]
    return seal_outputs(
        methodology_id=METHODOLOGY_ID,
        version=VERSION,
        inputs=inputs,
        factors=[],
        steps=steps,
        outputs=outputs,
        case=norm,
    )
