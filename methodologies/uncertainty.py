"""Uncertainty of case inputs and its propagation to a result (5–95 % interval).

Not a methodology of its own: a helper that :mod:`methodologies.cbam_installation` (and
any other methodology) uses.  Reference for the methods: JCGM 100:2008 (GUM), §5
(first-order propagation, the "law of propagation of uncertainty") and JCGM 101:2008
(GUM Supplement 1, propagation of distributions by Monte Carlo).

Uncertain inputs.  Wherever a case takes a number it may instead take

- ``{"value": x, "uncertainty": {"relative": r}}``: normal, mean x, one standard
  deviation r × |x| (r a fraction, 0.05 = 5 %);
- ``{"dist": "normal", "mean": m, "sd": s}``;
- ``{"dist": "lognormal", "median": m, "gsd": g}``: ln X ~ N(ln m, ln g), g >= 1 the
  geometric standard deviation;
- ``{"dist": "uniform", "low": a, "high": b}``;
- ``{"dist": "triangular", "low": a, "mode": c, "high": b}``.

The value used for the central (nominal) result is x for the relative form and the
distribution's MEAN otherwise (lognormal: m × exp(ln² g / 2); uniform: (a + b) / 2;
triangular: (a + c + b) / 3).  Parameters are in the unit of the key they replace.

Propagation (``"uncertainty"`` block of a case)::

    {"method": "auto" | "monte_carlo" | "analytic", "seed": 0, "samples": 10000,
     "export_samples": false}

- ``monte_carlo``: every uncertain input gets ``samples`` draws from one
  ``numpy.random.Generator(PCG64(seed))``, inputs drawn one after the other in the
  sorted order of their dotted keys; the vectorised formula runs once on the arrays;
  the interval is ``numpy.quantile(y, [0.05, 0.95])`` (linear interpolation).  Same
  seed, same numpy → bit-identical interval.  No truncation: a normal input may draw
  negative values; choose distributions that cannot (lognormal) where that matters.
- ``analytic``: first-order propagation, u²(y) = Σ_i (∂f/∂x_i)² u²(x_i), with the
  sensitivities ∂f/∂x_i taken as central differences over ±1 u(x_i) (exact when f is
  linear in x_i) and the interval y ± 1.6448536269514722 u(y), the 5 % and 95 %
  quantiles of a normal.  Exact (``exact`` true) when every input is normal and f is
  linear in them (checked numerically: second and mixed differences vanish).
- ``auto`` (default): ``analytic`` when that is exact, else ``monte_carlo``.

Which method ran, its seed and sample count are in the result and the trace; samples,
when ``export_samples`` is true, are returned beside the result, never in the trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.errors import CaseError

#: Standard normal quantile at 0.95 (= −quantile at 0.05); Φ⁻¹(0.95), e.g. NIST/SEMATECH
#: e-Handbook §1.3.6.7.1.  Written out because scipy is not a dependency.
Z95 = 1.6448536269514722
#: Interval levels (5 % and 95 % quantiles).
LEVELS = (0.05, 0.95)
DISTRIBUTIONS = ("normal", "lognormal", "uniform", "triangular")
METHODS = ("auto", "monte_carlo", "analytic")
DEFAULT_SEED = 0
DEFAULT_SAMPLES = 10_000
MAX_SAMPLES = 10_000_000

_DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd"),
    "lognormal": ("median", "gsd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}
_SETTINGS_KEYS = frozenset({"method", "seed", "samples", "export_samples"})


# --------------------------------------------------------------------------- inputs


def is_uncertain(value: object) -> bool:
    """True when ``value`` is an uncertain-number object (relative form or distribution)."""
    return isinstance(value, Mapping) and ("dist" in value or "uncertainty" in value)


def parse_number(
    obj: Mapping[str, Any],
    name: str,
    path: str,
    unit: str,
    *,
    minimum: float | None = None,
    default: Any = cf._MISSING,
) -> float | dict[str, Any]:
    """``obj[name]`` as a float [``unit``] or a normalised uncertain number.

    The nominal value (see the module docstring) is checked against ``minimum``.
    """
    key = cf.join(path, name)
    if name in obj and isinstance(obj[name], Mapping):
        return parse_uncertain(obj[name], key, unit, minimum=minimum)
    return cf.number(obj, name, path, unit, minimum=minimum, default=default)


def parse_uncertain(
    spec: Mapping[str, Any], key: str, unit: str, *, minimum: float | None = None
) -> dict[str, Any]:
    """Normalise an uncertain-number object (idempotent); raises :class:`CaseError`."""
    expected = (
        f"a number in {unit}, or {{'value': x, 'uncertainty': {{'relative': r}}}}, "
        f"or {{'dist': one of {', '.join(DISTRIBUTIONS)}, ...}} in {unit}"
    )
    if "dist" in spec:
        dist = spec["dist"]
        if dist not in _DIST_PARAMS:
            raise CaseError(f"{key}.dist", "one of " + ", ".join(DISTRIBUTIONS), f"got {dist!r}")
        cf.only_keys(spec, frozenset({"dist", *_DIST_PARAMS[dist]}), key)
        out: dict[str, Any] = {"dist": dist}
        for p in _DIST_PARAMS[dist]:
            out[p] = cf.number(spec, p, key, unit if p != "gsd" else "1 (factor >= 1)")
        _check_params(out, key, unit)
    elif "uncertainty" in spec:
        cf.only_keys(spec, frozenset({"value", "uncertainty"}), key)
        unc = cf.mapping(spec["uncertainty"], f"{key}.uncertainty")
        cf.only_keys(unc, frozenset({"relative"}), f"{key}.uncertainty")
        out = {
            "uncertainty": {
                "relative": cf.number(
                    unc, "relative", f"{key}.uncertainty", "1 (fraction, 1 sd)", minimum=0.0
                )
            },
            "value": cf.number(spec, "value", key, unit),
        }
    else:
        raise CaseError(key, expected, f"got {dict(spec)!r}")
    if minimum is not None and nominal(out) < minimum:
        raise CaseError(key, f"a nominal value >= {minimum:g} in {unit}", f"got {nominal(out)!r}")
    return out


def _check_params(spec: Mapping[str, Any], key: str, unit: str) -> None:
    dist = spec["dist"]
    bad = {
        "normal": lambda s: s["sd"] < 0,
        "lognormal": lambda s: s["median"] <= 0 or s["gsd"] < 1,
        "uniform": lambda s: s["low"] > s["high"],
        "triangular": lambda s: not s["low"] <= s["mode"] <= s["high"],
    }[dist](spec)
    if bad:
        rules = {
            "normal": "sd >= 0",
            "lognormal": "median > 0 and gsd >= 1",
            "uniform": "low <= high",
            "triangular": "low <= mode <= high",
        }
        raise CaseError(
            key, f"{dist} parameters in {unit} with {rules[dist]}", f"got {dict(spec)!r}"
        )


def nominal(value: float | Mapping[str, Any]) -> float:
    """Central value of a number or uncertain number [its unit] (module docstring)."""
    if not isinstance(value, Mapping):
        return value
    if "value" in value:
        return value["value"]
    return mean(value)


def mean(spec: Mapping[str, Any]) -> float:
    """Mean of a distribution [its unit]."""
    dist = spec["dist"]
    if dist == "normal":
        return spec["mean"]
    if dist == "lognormal":
        return spec["median"] * math.exp(math.log(spec["gsd"]) ** 2 / 2)
    if dist == "uniform":
        return (spec["low"] + spec["high"]) / 2
    return (spec["low"] + spec["mode"] + spec["high"]) / 3


def standard_deviation(value: float | Mapping[str, Any]) -> float:
    """Standard uncertainty u(x) [its unit]: the standard deviation of the distribution
    (GUM §4.3; uniform (b − a)/√12, triangular √((a²+b²+c²−ab−ac−bc)/18))."""
    if not isinstance(value, Mapping):
        return 0.0
    if "value" in value:
        return abs(value["value"]) * value["uncertainty"]["relative"]
    dist = value["dist"]
    if dist == "normal":
        return value["sd"]
    if dist == "lognormal":
        s2 = math.log(value["gsd"]) ** 2
        return value["median"] * math.sqrt((math.exp(s2) - 1) * math.exp(s2))
    a, b = value["low"], value["high"]
    if dist == "uniform":
        return (b - a) / math.sqrt(12)
    c = value["mode"]
    return math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)


def is_normal(value: Mapping[str, Any]) -> bool:
    """True for the relative form and ``dist: normal``."""
    return "value" in value or value["dist"] == "normal"


def sample(value: Mapping[str, Any], rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` float64 draws of an uncertain number from ``rng`` [its unit]."""
    if "value" in value:
        return rng.normal(value["value"], standard_deviation(value), n)
    dist = value["dist"]
    if dist == "normal":
        return rng.normal(value["mean"], value["sd"], n)
    if dist == "lognormal":
        return rng.lognormal(math.log(value["median"]), math.log(value["gsd"]), n)
    if dist == "uniform":
        return rng.uniform(value["low"], value["high"], n)
    if value["low"] == value["high"]:
        return np.full(n, value["low"], dtype=np.float64)
    return rng.triangular(value["low"], value["mode"], value["high"], n)


def uncertain_leaves(obj: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """Every uncertain number inside a normalised case, by dotted key, keys sorted."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any, at: str) -> None:
        if is_uncertain(node):
            found[at] = node
        elif isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, cf.join(at, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{at}[{i}]")

    walk(obj, path)
    return dict(sorted(found.items()))


def parse_settings(value: object, path: str = "uncertainty") -> dict[str, Any]:
    """The normalised ``uncertainty`` block (defaults filled)."""
    obj = cf.mapping({} if value is None else value, path)
    cf.only_keys(obj, _SETTINGS_KEYS, path)
    method = cf.text(obj, "method", path, " or ".join(METHODS), default="auto")
    if method not in METHODS:
        raise CaseError(cf.join(path, "method"), " or ".join(METHODS), f"got {method!r}")
    seed = cf.integer(obj, "seed", path, "integer >= 0") if "seed" in obj else DEFAULT_SEED
    n = (
        cf.integer(obj, "samples", path, f"integer in [100, {MAX_SAMPLES}]")
        if "samples" in obj
        else DEFAULT_SAMPLES
    )
    if seed < 0:
        raise CaseError(cf.join(path, "seed"), "integer >= 0", f"got {seed!r}")
    if not 100 <= n <= MAX_SAMPLES:
        raise CaseError(cf.join(path, "samples"), f"integer in [100, {MAX_SAMPLES}]", f"got {n!r}")
    export = obj.get("export_samples", False)
    if not isinstance(export, bool):
        raise CaseError(cf.join(path, "export_samples"), "true or false", f"got {export!r}")
    return {"export_samples": export, "method": method, "samples": n, "seed": seed}


# --------------------------------------------------------------------------- propagation

#: ``f(values)``: the vectorised formula; ``values`` maps dotted key → float64 array
#: (all of one length) and ``f`` returns a float64 array of that length.
Model = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Propagation:
    """An interval and how it was obtained (every intermediate kept)."""

    method: str  # "monte_carlo" or "first_order"
    exact: bool  # first order: every input normal and f linear; Monte Carlo: False
    low: float
    high: float
    mean: float
    sd: float
    seed: int | None
    samples: int | None
    inputs: tuple[str, ...]  # dotted keys of the uncertain inputs, in draw order
    sensitivities: tuple[float, ...] | None  # first order: ∂f/∂x_i
    values: np.ndarray | None  # Monte Carlo draws of f (for export)

    def summary(self) -> dict[str, Any]:
        """The interval as it goes into a trace (no samples)."""
        return {
            "exact": self.exact,
            "high": self.high,
            "levels": list(LEVELS),
            "low": self.low,
            "mean": self.mean,
            "method": self.method,
            "samples": self.samples,
            "sd": self.sd,
            "seed": self.seed,
        }


def monte_carlo(
    model: Model, leaves: Mapping[str, Mapping[str, Any]], seed: int, n: int
) -> Propagation:
    """Propagate by Monte Carlo (JCGM 101:2008): ``n`` draws per input from
    ``Generator(PCG64(seed))`` in sorted key order; 5–95 % quantiles of f."""
    rng = np.random.Generator(np.random.PCG64(seed))
    keys = sorted(leaves)
    draws = {k: sample(leaves[k], rng, n) for k in keys}
    y = np.broadcast_to(np.asarray(model(draws), dtype=np.float64), (n,))
    if not np.all(np.isfinite(y)):
        raise CaseError(
            "uncertainty",
            "input distributions that keep the result finite",
            f"{int((~np.isfinite(y)).sum())} of {n} Monte Carlo draws gave a "
            "non-finite result (a divisor drawn at or near zero?)",
        )
    low, high = np.quantile(y, LEVELS)
    return Propagation(
        "monte_carlo",
        False,
        float(low),
        float(high),
        float(y.mean()),
        float(y.std(ddof=1)),
        seed,
        n,
        tuple(keys),
        None,
        np.array(y),
    )


def first_order(model: Model, leaves: Mapping[str, Mapping[str, Any]]) -> Propagation:
    """First-order propagation (GUM §5.1.2): u²(y) = Σ (∂f/∂x_i)² u²(x_i), sensitivities by
    central differences over ±u(x_i); interval y ± Z95 × u(y).  One vectorised call of
    f on 1 + 2k + k(k−1)/2 points also checks linearity (second and mixed differences)."""
    keys = sorted(leaves)
    k = len(keys)
    x0 = np.array([nominal(leaves[key]) for key in keys], dtype=np.float64)
    h = np.array([standard_deviation(leaves[key]) for key in keys], dtype=np.float64)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)] if k <= 64 else []
    points = np.tile(x0, (1 + 2 * k + len(pairs), 1))
    for i in range(k):
        points[1 + 2 * i, i] += h[i]
        points[2 + 2 * i, i] -= h[i]
    for p, (i, j) in enumerate(pairs):
        points[1 + 2 * k + p, i] += h[i]
        points[1 + 2 * k + p, j] += h[j]
    y = np.broadcast_to(
        np.asarray(model({key: points[:, i] for i, key in enumerate(keys)}), dtype=np.float64),
        (points.shape[0],),
    )
    f0, plus, minus = y[0], y[1 : 1 + 2 * k : 2], y[2 : 2 + 2 * k : 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(h > 0, (plus - minus) / (2 * h), 0.0)
    contrib = grad * h
    sd = float(np.sqrt(np.sum(contrib * contrib)))
    scale = abs(f0) + float(np.sum(np.abs(contrib))) + 1e-300
    second = np.abs(plus + minus - 2 * f0)
    mixed = np.array([y[1 + 2 * k + p] - plus[i] - plus[j] + f0 for p, (i, j) in enumerate(pairs)])
    linear = bool(
        np.all(second <= 1e-9 * scale) and np.all(np.abs(mixed) <= 1e-9 * scale) and (k <= 64)
    )
    exact = linear and all(is_normal(leaves[key]) for key in keys)
    return Propagation(
        "first_order",
        exact,
        float(f0 - Z95 * sd),
        float(f0 + Z95 * sd),
        float(f0),
        sd,
        None,
        None,
        tuple(keys),
        tuple(float(g) for g in grad),
        None,
    )


def propagate(
    model: Model, leaves: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]
) -> Propagation:
    """Run the method the settings ask for (``auto``: first order when exact, else
    Monte Carlo)."""
    method = settings["method"]
    if method == "monte_carlo":
        return monte_carlo(model, leaves, settings["seed"], settings["samples"])
    analytic = first_order(model, leaves)
    if method == "analytic" or analytic.exact:
        return analytic
    return monte_carlo(model, leaves, settings["seed"], settings["samples"])
