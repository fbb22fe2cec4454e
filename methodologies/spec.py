"""The machinery every methodology shares: a declarative case spec, a step recorder that
builds the trace as the formulas run, and one sealing helper.

A methodology module is its formula functions plus a :class:`CaseSpec` (``SPEC``):

- :class:`Field` declares one case key: its unit, its kind (number, optional number,
  integer, text, citation), its lower bound (a hard error below it), its default and
  its plausible range (:class:`Range`, checked by :mod:`methodologies.plausibility`
  for every case before the methodology runs).  :meth:`CaseSpec.read` checks the keys
  of a case object (a misspelt key is refused) and reads every field in declaration
  order, raising :class:`~methodologies.errors.CaseError` with the dotted key and unit.
- :class:`Recorder` collects the trace's ``inputs``, ``factors`` and ``steps``:
  ``rec.step(formula_id, formula, inputs, value, unit)`` records one formula and returns
  its value, so the formula is written once and the trace follows it.
- :func:`seal_outputs` (or :meth:`Recorder.seal`) assembles the trace
  (:func:`methodologies.trace.build_trace`), hashes its RFC 8785 bytes and returns the
  outputs plus ``trace`` and ``trace_sha256``: what :func:`methodologies.run_case`
  returns.

Plausible ranges live in each methodology's spec (``SPEC.ranges``, keyed by the case
key as a dotted path with ``[*]`` for list items); the sources of the bounds are given
in :mod:`methodologies.plausibility`, which gathers them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from methodologies import casefields as cf
from methodologies.errors import CaseError
from methodologies.trace import build_trace, factor_item, input_item, seal, step_item

_MISSING: Any = cf._MISSING


@dataclass(frozen=True)
class Range:
    """A plausible range [``low``, ``high``] in ``unit``.

    ``alternatives``: (factor, unit) pairs; when ``value × factor`` falls in the range,
    the value was probably given in that unit ("did you mean …?").  ``per``: the key
    (same object) the value is divided by before the check, ``per_unit`` the ratio's
    unit."""

    low: float
    high: float
    unit: str
    alternatives: tuple[tuple[float, str], ...] = ()
    per: str | None = None
    per_unit: str = ""
    zero_ok: bool = False  # 0 stands for "none" (no waste gas), whatever the range

    def hint(self, value: float) -> str:
        """The likely unit mistake ("48 TJ/t: did you mean GJ/t?"), or ""."""
        for factor, unit in self.alternatives:
            if self.low <= value * factor <= self.high:
                shown = self.per_unit or self.unit
                shown = "" if shown.startswith("1") else f" {shown}"
                return f"{value:g}{shown}: did you mean {unit}?"
        return ""


PERCENT = ((0.01, "a percentage (give a fraction: divide by 100)"),)


def fraction(low: float = 0.0, high: float = 1.0) -> Range:
    """A plausible fraction in [``low``, ``high``] (a percentage is the likely mistake)."""
    return Range(low, high, "1 (fraction)", PERCENT)


# Ranges shared by several methodologies (sources: methodologies.plausibility).
NCV_T = Range(0.001, 0.15, "TJ/t", ((1e-3, "GJ/t"), (1e-6, "MJ/t")))
NCV_NM3 = Range(0.001, 0.12, "TJ/1000 Nm³", ((1e-3, "GJ/1000 Nm³ (MJ/Nm³)"),))
FUEL_EF = Range(0.0, 300.0, "tCO2/TJ", ((1e3, "tCO2/GJ"), (1e-3, "kgCO2/TJ")))
EF_NG = Range(50.0, 60.0, "tCO2/TJ", ((1e3, "tCO2/GJ"), (1e-3, "kgCO2/TJ")), zero_ok=True)
PROCESS_EF = Range(0.0, 3.664, "tCO2/t", ((1e-3, "kgCO2/t"),))
CARBON = Range(0.0, 1.0, "tC/t", PERCENT)
ELECTRICITY_EF = Range(0.0, 1.5, "tCO2e/MWh", ((1e-3, "gCO2e/kWh or kgCO2e/MWh"),))
HEAT_EF = Range(0.0, 200.0, "tCO2e/TJ", ((1e3, "tCO2e/GJ"), (1e-3, "kgCO2e/TJ")))
SEE = Range(0.0, 50.0, "tCO2e/t", ((1e-3, "kgCO2e/t"),))
GOOD_T = Range(0.0, 2e8, "t", ((1e-3, "kg"),))
RELATIVE = Range(0.0, 1.0, "1 (relative standard uncertainty)", PERCENT)


@dataclass(frozen=True)
class Field:
    """One case key.

    ``kind``: ``"number"`` (required finite number), ``"optional"`` (number or
    null/absent → None), ``"integer"``, ``"text"``, ``"citation"`` (non-empty text) or
    ``"custom"``: ``reader(obj, name, path, got)`` reads it, ``got`` holding the fields
    read before it (a rule that ties keys together: a column that must match a tier).
    ``minimum``: values below it are an error (not a plausibility question).
    ``default``: the value when absent (text) — without one the key is required.
    ``expected``: what the error message says is expected (text and integers).
    ``range``: the plausible range (:mod:`methodologies.plausibility`)."""

    unit: str = ""
    kind: str = "number"
    minimum: float | None = None
    default: Any = _MISSING
    expected: str = ""
    range: Range | None = None
    read_by_spec: bool = True  # False: declared (allowed, ranged) but read by another
    reader: Callable[[Mapping[str, Any], str, str, dict[str, Any]], Any] | None = field(
        default=None, repr=False
    )  # not shown: a function's repr carries its memory address

    def read(
        self, obj: Mapping[str, Any], name: str, path: str, got: dict[str, Any] | None = None
    ) -> Any:
        """The field's value in ``obj``, checked; raises :class:`CaseError`."""
        if self.kind == "custom" and self.reader is not None:
            return self.reader(obj, name, path, {} if got is None else got)
        if self.kind == "number":
            return cf.number(obj, name, path, self.unit, minimum=self.minimum, default=self.default)
        if self.kind == "optional":
            return cf.optional_number(obj, name, path, self.unit, minimum=self.minimum)
        if self.kind == "integer":
            return cf.integer(obj, name, path, self.expected)
        if self.kind == "text":
            return cf.text(obj, name, path, self.expected, default=self.default)
        if self.kind == "citation":
            value = cf.text(obj, name, path, "a non-empty citation (text)")
            if not value.strip():
                raise CaseError(cf.join(path, name), "a non-empty citation (text)", "empty")
            return value
        raise ValueError(f"unknown field kind {self.kind!r}")  # a spec bug, not a case error


@dataclass(frozen=True)
class CaseSpec:
    """The keys of a case object (or of a nested object such as a list item): their
    units, kinds, lower bounds, defaults and plausible ranges.

    ``fields``: key → :class:`Field`, in the order they are read.  ``ranges``: more
    plausible ranges for dotted paths inside nested objects (``"precursors[*].x"``),
    beside those of the fields."""

    fields: Mapping[str, Field]
    ranges: Mapping[str, Range] = field(default_factory=dict)

    @property
    def keys(self) -> frozenset[str]:
        """The keys a case object may carry."""
        return frozenset(self.fields)

    def all_ranges(self) -> dict[str, Range]:
        """Every plausible range: the fields' own, then :attr:`ranges`."""
        out = {name: f.range for name, f in self.fields.items() if f.range is not None}
        out.update(self.ranges)
        return out

    def read(self, obj: object, path: str = "") -> dict[str, Any]:
        """Check ``obj``'s keys and read each field the spec reads, in order."""
        cf.mapping(obj, path)
        cf.only_keys(obj, self.keys, path)
        got: dict[str, Any] = {}
        for name, f in self.fields.items():
            if f.read_by_spec:
                got[name] = f.read(obj, name, path, got)
        return got


class Recorder:
    """Collects a trace's inputs, factors and steps as the formulas run."""

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []
        self.factors: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def input(self, name: str, value: Any, unit: str, **extra: Any) -> Any:
        """Record one input (see :func:`methodologies.trace.input_item`); return ``value``."""
        self.inputs.append(input_item(name, value, unit, **extra))
        return value

    def factor(
        self,
        name: str,
        value: Any,
        unit: str,
        source: str,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> Any:
        """Record one published factor with its citation; return ``value``."""
        self.factors.append(factor_item(name, value, unit, source, valid_from, valid_to))
        return value

    def step(
        self, formula_id: str, formula: str, inputs: Mapping[str, Any], value: Any, unit: str
    ) -> Any:
        """Record one formula with the values it used; return its ``value``."""
        self.steps.append(step_item(formula_id, formula, inputs, value, unit))
        return value

    def seal(
        self,
        methodology_id: str,
        version: str,
        outputs: Mapping[str, Any],
        case: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Outputs plus ``trace`` and ``trace_sha256`` (:func:`seal_outputs`)."""
        return seal_outputs(
            methodology_id=methodology_id,
            version=version,
            inputs=self.inputs,
            factors=self.factors,
            steps=self.steps,
            outputs=outputs,
            case=case,
        )


def seal_outputs(
    *,
    methodology_id: str,
    version: str,
    inputs: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    outputs: Mapping[str, Any],
    case: Mapping[str, Any],
) -> dict[str, Any]:
    """Build the trace (docs/design.md §4), seal it (RFC 8785 bytes, SHA-256) and return the
    trace's result plus ``trace`` and ``trace_sha256``: a methodology's ``run`` output."""
    trace = build_trace(
        methodology_id=methodology_id,
        version=version,
        inputs=inputs,
        factors=factors,
        steps=steps,
        result=outputs,
        case=case,
    )
    _, sha = seal(trace)
    return {**trace["result"], "trace": trace, "trace_sha256": sha}
