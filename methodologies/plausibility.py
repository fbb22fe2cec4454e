"""Physical plausibility of case inputs, checked for every methodology before it runs.

Every number a case carries has a range outside which it cannot describe a real plant:
a net calorific value of 48 TJ/t is 1000 times that of any fuel (48 GJ/t is natural
gas), an electricity factor of 450 tCO2/MWh is a grid intensity given in g/kWh, a carbon
content of 87 "tC/t" is a percentage.  :func:`check` refuses such a value with
:class:`~methodologies.errors.ImplausibleValueError` naming the key, the value, the range
and, when a power of ten or a percentage brings the value into range, the likely unit
mistake.  :func:`methodologies.run_case` calls it for every case, so every methodology
(and the CLI, which exits with status 2) is covered.

Ranges are declared in :data:`RANGES`, keyed by methodology id and by the case key as a
dotted path with ``[*]`` for list items.  A nested installation of ``cbam.installation``
(``precursors[0].installation.…``) is checked with the same keys as the top level.  A
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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from methodologies.errors import ImplausibleValueError


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


_PERCENT = ((0.01, "a percentage (give a fraction: divide by 100)"),)


def _fraction(low: float = 0.0, high: float = 1.0) -> Range:
    return Range(low, high, "1 (fraction)", _PERCENT)


#: IR 2025/2547 Annex II point G / IPCC 2006 Vol. 2 Table 1.2 (see the module docstring).
NCV_T = Range(0.001, 0.15, "TJ/t", ((1e-3, "GJ/t"), (1e-6, "MJ/t")))
NCV_NM3 = Range(0.001, 0.12, "TJ/1000 Nm³", ((1e-3, "GJ/1000 Nm³ (MJ/Nm³)"),))
FUEL_EF = Range(0.0, 300.0, "tCO2/TJ", ((1e3, "tCO2/GJ"), (1e-3, "kgCO2/TJ")))
EF_NG = Range(50.0, 60.0, "tCO2/TJ", ((1e3, "tCO2/GJ"), (1e-3, "kgCO2/TJ")), zero_ok=True)
PROCESS_EF = Range(0.0, 3.664, "tCO2/t", ((1e-3, "kgCO2/t"),))
CARBON = Range(0.0, 1.0, "tC/t", _PERCENT)
ELECTRICITY_EF = Range(0.0, 1.5, "tCO2e/MWh", ((1e-3, "gCO2e/kWh or kgCO2e/MWh"),))
HEAT_EF = Range(0.0, 200.0, "tCO2e/TJ", ((1e3, "tCO2e/GJ"), (1e-3, "kgCO2e/TJ")))
SEE = Range(0.0, 50.0, "tCO2e/t", ((1e-3, "kgCO2e/t"),))
GOOD_T = Range(0.0, 2e8, "t", ((1e-3, "kg"),))
RELATIVE = Range(0.0, 1.0, "1 (relative standard uncertainty)", _PERCENT)

_FUELS = (
    "natural_gas",
    "coking_coal",
    "other_bituminous_coal",
    "sub_bituminous_coal",
    "anthracite",
    "lignite",
    "coke_oven_coke",
    "petroleum_coke",
    "residual_fuel_oil",
    "gas_diesel_oil",
    "lpg",
)
_REDUCTANTS = ("coke", "coking_coal", "coal", "electrodes")


def _route_common() -> dict[str, Range]:
    out: dict[str, Range] = {
        "production_t": GOOD_T,
        "electricity_ef_t_per_mwh": ELECTRICITY_EF,
        "electricity_mwh": Range(
            0.0, 70.0, "MWh", ((1e-3, "kWh"),), per="production_t", per_unit="MWh/t"
        ),
    }
    out.update({f"{fuel}_ef_t_per_tj": FUEL_EF for fuel in _FUELS})
    out.update({f"{r}_carbon_t_per_t": CARBON for r in _REDUCTANTS})
    return out


_INSTALLATION: dict[str, Range] = {
    "good.activity_level_t": GOOD_T,
    "direct.attributed_emissions_t": Range(
        0.0,
        50.0,
        "tCO2e",
        ((1e-3, "kgCO2e"),),
        per="good.activity_level_t",
        per_unit="tCO2e/t",
    ),
    "direct.source_streams[*].ncv_tj_per_t": NCV_T,
    "direct.source_streams[*].ncv_tj_per_1000nm3": NCV_NM3,
    "direct.source_streams[*].ef_t_per_tj": FUEL_EF,
    "direct.source_streams[*].ef_t_per_t": PROCESS_EF,
    "direct.source_streams[*].carbon_content_t_per_t": CARBON,
    "direct.source_streams[*].conversion_factor": _fraction(),
    "direct.source_streams[*].oxidation_factor": _fraction(),
    "direct.source_streams[*].biomass_fraction": _fraction(),
    "direct.waste_gas_ef_t_per_tj": EF_NG,
    "direct.waste_gas_corr_eta": Range(0.1, 1.0, "1 (η_WG / η_NG)", _PERCENT),
    "direct.heat_imported_ef_t_per_tj": HEAT_EF,
    "direct.heat_exported_ef_t_per_tj": HEAT_EF,
    "direct.electricity_exported_ef_t_per_mwh": ELECTRICITY_EF,
    "electricity.ef_t_per_mwh": ELECTRICITY_EF,
    "electricity.consumed_mwh": Range(
        0.0,
        70.0,
        "MWh",
        ((1e-3, "kWh"),),
        per="good.activity_level_t",
        per_unit="MWh/t",
    ),
    "precursors[*].mass_t": Range(
        0.0, 10.0, "t", ((1e-3, "kg"),), per="good.activity_level_t", per_unit="t/t of good"
    ),
    "precursors[*].see_direct_t_per_t": SEE,
    "precursors[*].see_indirect_t_per_t": SEE,
}

#: Methodology id → case key (dotted, ``[*]`` for list items) → plausible range.
RANGES: dict[str, dict[str, Range]] = {
    "cbam.installation": _INSTALLATION,
    "cbam.default": {
        "default_values[*].direct_t_per_t": SEE,
        "default_values[*].indirect_t_per_t": SEE,
        "default_values[*].total_t_per_t": SEE,
        "default_values[*].dv_2026_t_per_t": SEE,
        "default_values[*].dv_2027_t_per_t": SEE,
        "default_values[*].dv_2028_onwards_t_per_t": SEE,
    },
    "cbam.certificates": {
        "see_total_t_per_t": SEE,
        "benchmark_t_per_t": Range(0.0, 25.0, "tCO2e/t", ((1e-3, "kgCO2e/t"),)),
        "cscf": _fraction(),
        "mass_t": Range(0.0, 1e8, "t", ((1e-3, "kg"),)),
        "price_eur_per_t": Range(0.0, 1000.0, "EUR/tCO2e"),
    },
    "route.steel": {
        **_route_common(),
        "limestone_ef_t_per_t": PROCESS_EF,
        "dolomite_ef_t_per_t": PROCESS_EF,
        "bof_ef_t_per_t": PROCESS_EF,
        "eaf_ef_t_per_t": PROCESS_EF,
        "dri_ef_t_per_t": PROCESS_EF,
        "hydrogen_see_t_per_t": SEE,
    },
    "route.cement": {
        **_route_common(),
        "clinker_to_cement_t_per_t": _fraction(),
        "clinker_ef_t_per_t": Range(0.0, 1.2, "tCO2/t clinker", ((1e-3, "kgCO2/t"),)),
        "cao_t_per_t": _fraction(),
        "mgo_t_per_t": _fraction(),
        "ckd_correction": Range(1.0, 1.2, "1"),
    },
    "route.aluminium": {
        **_route_common(),
        "net_anode_consumption_t_per_t": Range(0.0, 1.0, "t anode/t Al", ((1e-3, "kg/t"),)),
        "anode_carbon_t_per_t": CARBON,
        "pfc_collection_efficiency": _fraction(),
        "anode_effect_minutes_per_cell_day": Range(0.0, 10.0, "AE-min/cell-day"),
    },
    "route.minerals": {
        **_route_common(),
        "limestone_ef_t_per_t": PROCESS_EF,
        "dolomite_ef_t_per_t": PROCESS_EF,
        "soda_ash_ef_t_per_t": PROCESS_EF,
    },
    "satellite.activity": {
        "reference_production_t": GOOD_T,
        "reference_production_sigma_t": GOOD_T,
        "disclosed_production_t": GOOD_T,
        "disclosed_sigma_t": GOOD_T,
        "k": Range(0.5, 10.0, "1 (coverage factor)"),
    },
    "hydrogen.rfnbo": {
        "electrolyser_efficiency": Range(0.2, 1.0, "1 (MJ H2 LHV / MJ electricity)", _PERCENT),
        "grid_intensity_g_per_kwh[*]": Range(
            0.0, 1500.0, "gCO2e/kWh", ((1e3, "tCO2e/MWh or kgCO2e/kWh"),)
        ),
        "grid_renewable_share": _fraction(),
        "grid_renewable_share[*]": _fraction(),
    },
    "hydrogen.us45v": {
        # 45V lifecycle rates can be negative (e.g. captured fugitive methane feedstock).
        "lifecycle_kg_per_kg": Range(-50.0, 40.0, "kgCO2e/kg H2", ((1e3, "tCO2e/kg"),)),
        "inflation_adjustment_factor": Range(0.5, 5.0, "1"),
    },
    "hydrogen.smr": {
        "hydrogen_t": GOOD_T,
        "natural_gas_gj_per_t": Range(80.0, 400.0, "GJ/t H2", ((1e3, "TJ/t"), (1e-3, "MJ/t"))),
        "natural_gas_tj_per_t": Range(0.08, 0.4, "TJ/t H2", ((1e-3, "GJ/t"), (1e-6, "MJ/t"))),
        "capture_rate": _fraction(),
        "electricity_mwh_per_t": Range(0.0, 70.0, "MWh/t H2", ((1e-3, "kWh/t"),)),
        "electricity_ef_t_per_mwh": ELECTRICITY_EF,
        "methane_leakage_rate": _fraction(0.0, 0.2),
        "gwp100_ch4": Range(1.0, 100.0, "tCO2e/t CH4"),
    },
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
