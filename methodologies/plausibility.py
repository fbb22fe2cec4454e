"""Physical plausibility of case inputs, checked for every methodology before it runs.

Every number a case carries has a range outside which it cannot describe a real plant:
a net calorific value of 48 TJ/t is 1000 times that of any fuel (48 GJ/t is natural
gas), an electricity factor of 450 tCO2/MWh is a grid intensity given in g/kWh, a carbon
content of 87 "tC/t" is a percentage.  :func:`check` refuses such a value with
:class:`~methodologies.errors.ImplausibleValueError` naming the key, the value, the range
and, when a power of ten or a percentage brings the value into range, the likely unit
mistake.  :func:`methodologies.run_case` calls it for every case, so every methodology
(and the CLI, which exits with status 2) is covered.

Ranges are declared in each methodology's case spec (``SPEC`` of the module, see
:mod:`methodologies.spec`) and gathered in :data:`RANGES`, keyed by methodology id and
by the case key as a dotted path with ``[*]`` for list items.  A nested installation of
``cbam.installation`` (``precursors[0].installation.…``) is checked with the same keys as
the top level.  A
key with ``per`` is checked as a ratio to another key of the same object (precursor mass
and electricity per tonne of good).  An uncertain number is checked on its nominal value
and distribution bounds, and its ``uncertainty.relative`` against [0, 1].  Keys without
a range, and values that are not finite numbers, are left to the methodology's own
checks (which name the key and unit).

Sources of the bounds (deliberately generous: they catch unit mistakes, not unusual
plants):

- Net calorific values: IR 2025/2547 Annex II point G Table 1 / IPCC 2006 Vol. 2
  Table 1.2 run from about 7 GJ/t (industrial wastes, peat) to 50 GJ/t (natural gas,
  LPG); hydrogen 120 GJ/t (RED Annex III).  Gaseous fuels per 1000 Nm³: blast-furnace
  gas about 3 GJ, natural gas about 36 GJ, LPG vapour about 95 GJ.
- Fuel emission factors: IPCC 2006 Vol. 2 Table 1.4, 0 (biomass, hydrogen) to 260
  tCO2/TJ (blast-furnace gas) and 182 (oxygen steel furnace gas).  Natural gas EF_NG
  of Equations 53/54: 56.1 tCO2/TJ (IR 2025/2547 Annex II point G).
- Process factors: at most 3.664 tCO2/t (pure carbon); carbon contents and every
  fraction in [0, 1].  Corr_η = η_WG / η_NG in (0, 1] (standard 0.667, Equation 54).
- Electricity emission factors: the most carbon-intensive grids and lignite plants
  stay below 1.5 tCO2/MWh (1500 g/kWh).
- Per tonne of good: electricity up to 70 MWh/t (electrolytic hydrogen about 55 MWh/t,
  primary aluminium about 15); precursor mass up to 10 t/t (ore and agglomerates per
  tonne of iron about 1.6); attributed direct emissions up to 50 tCO2e/t.
- Specific embedded emissions of a good or precursor: up to 50 tCO2e/t (the highest
  IR 2025/2621 default value is below 20).

Negative attributed direct emissions are not an input error: IR 2025/2547 Annex III
A.3 (under Equation 55) sets them to zero, which :mod:`methodologies.cbam_installation`
does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from methodologies import (
    cbam_default,
    cbam_installation,
    certificates,
    hydrogen,
    mixture,
    modelled,
    route_aluminium,
    route_cement,
    route_minerals,
    route_steel,
    satellite,
)
from methodologies.errors import ImplausibleValueError
from methodologies.spec import (  # noqa: F401  (re-exported: the shared ranges)
    CARBON,
    EF_NG,
    ELECTRICITY_EF,
    FUEL_EF,
    GOOD_T,
    HEAT_EF,
    NCV_NM3,
    NCV_T,
    PROCESS_EF,
    RELATIVE,
    SEE,
    Range,
)

#: Methodology id → case key (dotted, ``[*]`` for list items) → plausible range, gathered
#: from each methodology's case spec (``SPEC.all_ranges()``; :mod:`methodologies.spec`).
RANGES: dict[str, dict[str, Range]] = {
    cbam_installation.METHODOLOGY_ID: cbam_installation.SPEC.all_ranges(),
    cbam_default.METHODOLOGY_ID: cbam_default.SPEC.all_ranges(),
    certificates.METHODOLOGY_ID: certificates.SPEC.all_ranges(),
    route_steel.METHODOLOGY_ID: route_steel.SPEC.all_ranges(),
    route_cement.METHODOLOGY_ID: route_cement.SPEC.all_ranges(),
    route_aluminium.METHODOLOGY_ID: route_aluminium.SPEC.all_ranges(),
    route_minerals.METHODOLOGY_ID: route_minerals.SPEC.all_ranges(),
    satellite.METHODOLOGY_ID: satellite.SPEC.all_ranges(),
    modelled.METHODOLOGY_ID: modelled.SPEC.all_ranges(),
    mixture.METHODOLOGY_ID: mixture.SPEC.all_ranges(),
    hydrogen.RFNBO_ID: hydrogen.RFNBO_SPEC.all_ranges(),
    hydrogen.US45V_ID: hydrogen.US45V_SPEC.all_ranges(),
    hydrogen.SMR_ID: hydrogen.SMR_SPEC.all_ranges(),
}

#: Deepest nesting walked (cbam.installation allows 16 precursor levels of ~4 keys).
MAX_DEPTH = 100
_INDEX = re.compile(r"\[\d+\]")
_NESTED = re.compile(r"^(?:precursors\[\*\]\.installation\.)+")
#: Keys of an uncertain-number object that carry values in the quantity's unit.
_VALUE_KEYS = ("value", "mean", "median", "mode", "low", "high")


def _leaves(obj: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any, str]]:
    """(dotted path, number, role) of every finite number in the case; role is "value"
    or "relative" (the relative uncertainty of an uncertain number).  Stops at
    :data:`MAX_DEPTH` levels (a self-referencing case is the methodology's to refuse)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(obj, Mapping):
        if "dist" in obj or ("uncertainty" in obj and "value" in obj):
            for key in _VALUE_KEYS:
                if _is_number(obj.get(key)):
                    yield path, float(obj[key]), "value"
            unc = obj.get("uncertainty")
            if isinstance(unc, Mapping) and _is_number(unc.get("relative")):
                yield f"{path}.uncertainty.relative", float(unc["relative"]), "relative"
            return
        for key, value in obj.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _leaves(value, f"{path}[{i}]", depth + 1)
    elif _is_number(obj):
        yield path, float(obj), "value"


def _is_number(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | Decimal)
        and math.isfinite(float(value))
    )


def _lookup(case: Mapping[str, Any], dotted: str) -> float | None:
    obj: Any = case
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(obj, list) or index >= len(obj):
                return None
            obj = obj[index]
        elif isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        else:
            return None
    if isinstance(obj, Mapping):
        obj = obj.get("value", obj.get("mean", obj.get("median", obj.get("mode"))))
    return float(obj) if _is_number(obj) else None


def rule_for(methodology_id: str, path: str) -> tuple[str, Range] | None:
    """(generic key, range) for a concrete dotted ``path`` of a case, or None."""
    table = RANGES.get(methodology_id)
    if not table:
        return None
    generic = _INDEX.sub("[*]", path)
    if methodology_id == "cbam.installation":
        generic = _NESTED.sub("", generic)
    found = table.get(generic)
    return None if found is None else (generic, found)


def check(methodology_id: str, case: Mapping[str, Any]) -> None:
    """Refuse the first input of ``case`` outside its range (see the module docstring).

    Raises :class:`~methodologies.errors.ImplausibleValueError` naming the key (as
    dotted in the case), the value, the range and the likely unit mistake."""
    for path, value, role in _leaves(case):
        if role == "relative":
            if not RELATIVE.low <= value <= RELATIVE.high:
                raise ImplausibleValueError(
                    path, value, RELATIVE.low, RELATIVE.high, RELATIVE.unit, RELATIVE.hint(value)
                )
            continue
        found = rule_for(methodology_id, path)
        if found is None:
            continue
        generic, rng = found
        checked, unit, per = value, rng.unit, None
        if rng.per is not None:
            prefix = path[: len(path) - len(_relative_tail(path, generic))]
            base = _lookup(case, prefix + rng.per)
            if base is None or base <= 0:
                continue  # the methodology refuses a missing or non-positive base itself
            checked, unit, per = value / base, rng.per_unit, prefix + rng.per
        if not rng.low <= checked <= rng.high and not (rng.zero_ok and checked == 0):
            raise ImplausibleValueError(
                path, checked, rng.low, rng.high, unit, rng.hint(checked), per
            )


def _relative_tail(path: str, generic: str) -> str:
    """The part of the concrete ``path`` that matches ``generic`` (its last segments)."""
    segments = generic.count(".") + 1
    return ".".join(path.split(".")[-segments:])
