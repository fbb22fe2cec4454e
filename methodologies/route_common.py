"""Shared parts of the route models (``route.steel``, ``route.cement``, ``route.aluminium``,
``route.minerals``): formula functions, published default parameters, case reading and the
result/trace assembly.

A route model estimates specific embedded emissions (SEE, tCO2e/t) when a disclosure is
partial (production and energy known, emissions not), and gives a plausibility value for
disclosed emissions (docs/design.md §2, tier ``modelled``).  Every formula function is plain
arithmetic on numbers or numpy arrays (many installations at once); nothing here reads a
case.

Case conventions (docs/interfaces.md): a flat JSON object, quantities as numbers in the units
their key suffixes name (``_t``, ``_tj``, ``_mwh``, ``_t_per_t``, ``_t_per_tj``,
``_t_per_mwh``).  Every parameter that has a published default may be given in the case
under the same key; a given value is a trace *input*, a default used is a trace *factor*
with its citation.  A parameter with no default that could be verified in a source text
is required.  The normalised case keeps only the keys given, so
``run_case(trace["case"])`` recomputes the same bytes (docs/design.md §4).

Fuel combustion, all routes: ``<fuel>_tj`` [TJ, net calorific basis] of the fuels in
:data:`FUEL_EF_DEFAULTS`, each with an optional ``<fuel>_ef_t_per_tj`` override::

    Em_fuel [tCO2] = E [TJ] × EF [tCO2/TJ]        (oxidation factor 1, IPCC 2006 default)

Electricity, all routes (required; no default intensity could be verified)::

    Em_indir [tCO2e] = electricity_mwh [MWh] × electricity_ef_t_per_mwh [tCO2e/MWh]

Result::

    SEE_dir = Em_dir / production_t;  SEE_indir = Em_indir / production_t
    SEE_total = SEE_dir for Annex II (direct-only) goods, else SEE_dir + SEE_indir
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies.cbam_goods import goods_sector, is_direct_only, normalise_cn_code
from methodologies.errors import CaseError
from methodologies.spec import CARBON, ELECTRICITY_EF, FUEL_EF, GOOD_T, Range, seal_outputs
from methodologies.trace import factor_item, input_item, step_item

TIER = "modelled"

#: tCO2 per tC (molar mass ratio used by the CBAM mass balance).
C_TO_CO2 = 3.664
# The citation of the factor (docs/method-cbam.md).
C_TO_CO2_SOURCE = (
    "Commission Implementing Regulation (EU) 2025/2547, Annex II point B.3.2 (mass balance "
    "Em = 3.664 × Σ AD × C)"
)

IPCC_T14 = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 (Energy), Ch. 1, "
    "Table 1.4 (default CO2 emission factors for combustion), pp. 1.23–1.24"
)
IPCC_T21 = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 3 (IPPU), Ch. 2, "
    "Table 2.1 (CO2 content of carbonates, CRC Handbook of Chemistry and Physics 2004)"
)


def param(value: float, unit: str, source: str) -> dict[str, Any]:
    """A documented default parameter: value, unit and citation."""
    return {"value": value, "unit": unit, "source": source}


#: Default CO2 emission factors of fuels [tCO2/TJ] (kg/TJ ÷ 1000), IPCC 2006 Vol. 2
#: Table 1.4; the case key of each is ``<fuel>_ef_t_per_tj``.
FUEL_EF_DEFAULTS: dict[str, dict[str, Any]] = {
    f"{fuel}_ef_t_per_tj": param(value, "tCO2/TJ", f"{IPCC_T14}: {label} {value:g} tCO2/TJ")
    for fuel, label, value in (
        ("natural_gas", "Natural Gas", 56.1),
        ("coking_coal", "Coking Coal", 94.6),
        ("other_bituminous_coal", "Other Bituminous Coal", 94.6),
        ("sub_bituminous_coal", "Sub-Bituminous Coal", 96.1),
        ("anthracite", "Anthracite", 98.3),
        ("lignite", "Lignite", 101.0),
        ("coke_oven_coke", "Coke Oven Coke and Lignite Coke", 107.0),
        ("petroleum_coke", "Petroleum Coke", 97.5),
        ("residual_fuel_oil", "Residual Fuel Oil", 77.4),
        ("gas_diesel_oil", "Gas/Diesel Oil", 74.1),
        ("lpg", "Liquefied Petroleum Gases", 63.1),
    )
}
#: The fuels a case may list as ``<fuel>_tj``.
FUELS: tuple[str, ...] = tuple(k.removesuffix("_ef_t_per_tj") for k in FUEL_EF_DEFAULTS)

#: CO2 released by full decomposition of carbonate reagents [tCO2/t carbonate].
CARBONATE_DEFAULTS: dict[str, dict[str, Any]] = {
    "limestone_ef_t_per_t": param(0.43971, "tCO2/t CaCO3", f"{IPCC_T21}: CaCO3 0.43971"),
    "dolomite_ef_t_per_t": param(0.47732, "tCO2/t CaMg(CO3)2", f"{IPCC_T21}: CaMg(CO3)2 0.47732"),
    "soda_ash_ef_t_per_t": param(0.41492, "tCO2/t Na2CO3", f"{IPCC_T21}: Na2CO3 0.41492"),
}
CARBONATES: tuple[str, ...] = ("limestone", "dolomite", "soda_ash")

_T43 = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 3 (IPPU), Ch. 4, "
    "Table 4.3 (Tier 2 material-specific carbon contents), p. 4.27"
)

#: Carbon contents of carbon-bearing materials [tC/t], IPCC 2006 Vol. 3 Table 4.3; the
#: case key of each is ``<material>_carbon_t_per_t``, its activity ``<material>_t``.
CARBON_DEFAULTS: dict[str, dict[str, Any]] = {
    f"{material}_carbon_t_per_t": param(value, "tC/t", f"{_T43}: {label} {value:g} kg C/kg")
    for material, label, value in (
        ("coke", "Coke", 0.83),
        ("coking_coal", "Coking Coal", 0.73),
        ("coal", "Coal", 0.67),
        ("electrodes", "EAF Carbon Electrodes", 0.82),
    )
}
CARBON_MATERIALS: tuple[str, ...] = tuple(
    k.removesuffix("_carbon_t_per_t") for k in CARBON_DEFAULTS
)

ELECTRICITY_KEYS: dict[str, str] = {
    "electricity_mwh": "MWh",
    "electricity_ef_t_per_mwh": "tCO2e/MWh",
}


# --------------------------------------------------------------------------- formulas


def combustion_emissions(energy_tj: Any, ef_t_per_tj: Any) -> Any:
    """Em [tCO2] = E [TJ] × EF [tCO2/TJ] (oxidation factor 1).
    Reference: IPCC 2006 Vol. 2 Ch. 2 Eq. 2.1; IR 2025/2547 Annex II B.3.1."""
    return energy_tj * ef_t_per_tj


def carbon_emissions(mass_t: Any, carbon_t_per_t: Any) -> Any:
    """Em [tCO2] = M [t] × C [tC/t] × 3.664 (mass balance term; negative mass for outputs).
    Reference: IR 2025/2547 Annex II B.3.2; docs/method-cbam.md."""
    return mass_t * carbon_t_per_t * C_TO_CO2


def process_emissions(mass_t: Any, ef_t_per_t: Any) -> Any:
    """Em [tCO2] = AD [t] × EF [tCO2/t] (conversion factor 1).
    Reference: IR 2025/2547 Annex II B.3.1 (process emissions); docs/method-cbam.md."""
    return mass_t * ef_t_per_t


def indirect_emissions(consumed_mwh: Any, ef_t_per_mwh: Any) -> Any:
    """Em_indir [tCO2e] = E_el [MWh] × EF_el [tCO2e/MWh].  Reference: IR 2025/2547 Annex III."""
    return consumed_mwh * ef_t_per_mwh


def specific_emissions(emissions_t: Any, production_t: Any) -> Any:
    """SEE [tCO2e/t] = Em [tCO2e] / AL [t].  Reference: IR 2025/2547 Annex III."""
    return emissions_t / production_t


def total_see(see_direct: Any, see_indirect: Any, direct_only: Any) -> Any:
    """SEE_total [tCO2e/t]: SEE_dir for Annex II goods, else SEE_dir + SEE_indir
    (Reg. 2023/956 Annex II; docs/method-cbam.md).  Works elementwise on arrays."""
    return np.where(direct_only, see_direct, see_direct + see_indirect)


# --------------------------------------------------------------------------- case


class RouteCase:
    """Reads a route case: numbers in the units their keys name, text choices, and
    defaults (each default used is remembered as a trace factor, in order of use)."""

    def __init__(
        self,
        case: Mapping[str, Any],
        methodology_id: str,
        numbers: Mapping[str, str],
        choices: Mapping[str, tuple[str, ...]],
        defaults: Mapping[str, Mapping[str, Any]],
        *,
        bounded: Iterable[str] = (),
    ) -> None:
        cf.mapping(case, "")
        allowed = {"methodology", "cn_code", *numbers, *choices}
        cf.only_keys(case, frozenset(allowed), "")
        self.numbers = dict(numbers)
        self.defaults = defaults
        self.values: dict[str, float] = {}
        for key, unit in numbers.items():
            value = cf.optional_number(case, key, "", unit, minimum=0.0)
            if value is not None:
                if key in bounded and value > 1.0:
                    raise CaseError(
                        key, f"a number between 0 and 1 in {unit}", f"got {case[key]!r}"
                    )
                self.values[key] = value
        self.choices: dict[str, str] = {}
        for key, options in choices.items():
            value = case.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or value not in options:
                raise CaseError(key, "one of " + ", ".join(options), f"got {value!r}")
            self.choices[key] = value
        cn = case.get("cn_code")
        self.cn_code = None if cn is None else normalise_cn_code(cn, "cn_code")
        if self.cn_code is not None:
            goods_sector(self.cn_code)  # only Annex I goods (Reg. 2023/956): else CaseError
        self.methodology_id = methodology_id
        self.choice_options = dict(choices)
        self.used: dict[str, dict[str, Any]] = {}

    def given(self, key: str) -> bool:
        """True when the case gives ``key``."""
        return key in self.values

    def number(self, key: str, reason: str = "missing") -> float:
        """A required number [its unit]; CaseError naming key and unit when absent."""
        if key not in self.values:
            raise CaseError(key, f"a number in {self.numbers[key]}", reason)
        return self.values[key]

    def optional(self, key: str, default: float = 0.0) -> float:
        """The number given, else ``default`` (an activity not given is not consumed)."""
        return self.values.get(key, default)

    def param(self, key: str) -> float:
        """The case's value of parameter ``key``, else its documented default (recorded)."""
        if key in self.values:
            return self.values[key]
        spec = self.defaults[key]
        self.used.setdefault(key, dict(spec))
        return spec["value"]

    def choice(self, key: str, *, default: str | None = None, reason: str = "missing") -> str:
        """A text choice; CaseError listing the options when absent and no default."""
        if key in self.choices:
            return self.choices[key]
        if default is not None:
            return default
        raise CaseError(key, "one of " + ", ".join(self.choice_options[key]), reason)

    def require_sector(self, sectors: tuple[str, ...], *, required: bool = True) -> str | None:
        """The CN code, checked to be a good of one of ``sectors`` (Reg. 2023/956 Annex I)."""
        if self.cn_code is None:
            if required:
                raise CaseError("cn_code", "CN code as a string of 4, 6 or 8 digits", "missing")
            return None
        sector = goods_sector(self.cn_code)
        if sector not in sectors:
            raise CaseError(
                "cn_code",
                f"a CN code of a {' or '.join(sectors)} good",
                f"CN {self.cn_code} is a {sector} good",
            )
        return self.cn_code

    def production(self) -> float:
        """``production_t`` [t] > 0: tonnes of the good produced in the period."""
        value = self.number("production_t")
        if value <= 0:
            raise CaseError("production_t", "a number > 0 in t", f"got {value!r}")
        return value

    def normalised(self) -> dict[str, Any]:
        """The normalised case: only the keys given, numbers as float."""
        norm: dict[str, Any] = {"methodology": self.methodology_id, **self.choices, **self.values}
        if self.cn_code is not None:
            norm["cn_code"] = self.cn_code
        return norm

    def inputs(self) -> list[dict[str, Any]]:
        """Trace inputs: every key given, in the module's key order."""
        items = [input_item(key, self.choices[key], "choice") for key in sorted(self.choices)]
        if self.cn_code is not None:
            items.insert(0, input_item("cn_code", self.cn_code, "CN code (digits)"))
        items += [
            input_item(key, self.values[key], unit)
            for key, unit in self.numbers.items()
            if key in self.values
        ]
        return items

    def factors(self) -> list[dict[str, Any]]:
        """Trace factors: each default used, with its citation."""
        return [
            factor_item(
                key,
                spec["value"],
                spec["unit"],
                spec["source"],
                spec.get("valid_from"),
                spec.get("valid_to"),
            )
            for key, spec in self.used.items()
        ]


def fuel_numbers() -> dict[str, str]:
    """Case keys (and units) of fuel activity and fuel emission-factor overrides."""
    keys = {f"{fuel}_tj": "TJ" for fuel in FUELS}
    keys.update({key: "tCO2/TJ" for key in FUEL_EF_DEFAULTS})
    return keys


def fuel_streams(reader: RouteCase, steps: list[dict[str, Any]], prefix: str) -> float:
    """Σ combustion emissions of the fuels given [tCO2], one trace step per fuel."""
    total = 0.0
    for fuel in FUELS:
        if not reader.given(f"{fuel}_tj"):
            continue
        energy = reader.number(f"{fuel}_tj")
        ef = reader.param(f"{fuel}_ef_t_per_tj")
        em = combustion_emissions(energy, ef)
        steps.append(
            step_item(
                f"{prefix}.fuel.{fuel}",
                "Em = E × EF",
                {f"{fuel}_tj": energy, f"{fuel}_ef_t_per_tj": ef},
                em,
                "tCO2",
            )
        )
        total += em
    return total


def carbon_numbers() -> dict[str, str]:
    """Case keys (and units) of carbon-bearing materials and their carbon contents."""
    keys = {f"{m}_t": "t" for m in CARBON_MATERIALS}
    keys.update({key: "tC/t" for key in CARBON_DEFAULTS})
    return keys


def carbon_streams(reader: RouteCase, steps: list[dict[str, Any]], prefix: str) -> float:
    """Σ mass-balance emissions of the carbon-bearing materials given [tCO2], one step each."""
    total = 0.0
    for m in CARBON_MATERIALS:
        if not reader.given(f"{m}_t"):
            continue
        mass, c = reader.number(f"{m}_t"), reader.param(f"{m}_carbon_t_per_t")
        em = carbon_emissions(mass, c)
        steps.append(
            step_item(
                f"{prefix}.carbon.{m}",
                "Em = M × C × 3.664",
                {f"{m}_t": mass, f"{m}_carbon_t_per_t": c},
                em,
                "tCO2",
            )
        )
        total += em
    return total


def carbonate_numbers() -> dict[str, str]:
    """Case keys (and units) of carbonate reagents and their emission-factor overrides."""
    keys = {f"{c}_t": "t" for c in CARBONATES}
    keys.update({key: spec["unit"] for key, spec in CARBONATE_DEFAULTS.items()})
    return keys


def carbonate_streams(reader: RouteCase, steps: list[dict[str, Any]], prefix: str) -> float:
    """Σ process emissions of carbonate reagents decomposed [tCO2], one step each."""
    total = 0.0
    for name in CARBONATES:
        if not reader.given(f"{name}_t"):
            continue
        mass = reader.number(f"{name}_t")
        ef = reader.param(f"{name}_ef_t_per_t")
        em = process_emissions(mass, ef)
        steps.append(
            step_item(
                f"{prefix}.carbonate.{name}",
                "Em = AD × EF",
                {f"{name}_t": mass, f"{name}_ef_t_per_t": ef},
                em,
                "tCO2",
            )
        )
        total += em
    return total


def electricity_stream(reader: RouteCase, steps: list[dict[str, Any]], prefix: str) -> float:
    """Indirect emissions of electricity consumed [tCO2e]; both keys are required."""
    reason = "missing (no default electricity intensity could be verified in a source text)"
    mwh = reader.number("electricity_mwh", reason)
    ef = reader.number(
        "electricity_ef_t_per_mwh", "missing (the grid or supply emission factor has no default)"
    )
    em = indirect_emissions(mwh, ef)
    steps.append(
        step_item(
            f"{prefix}.indirect",
            "Em_indir = E_el × EF_el",
            {"electricity_mwh": mwh, "electricity_ef_t_per_mwh": ef},
            em,
            "tCO2e",
        )
    )
    return em


def finish(
    reader: RouteCase,
    *,
    version: str,
    steps: list[dict[str, Any]],
    direct_t: float,
    indirect_t: float,
    production_t: float,
    direct_only: bool,
    extra: Mapping[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    """Outputs plus ``trace`` and ``trace_sha256`` (what ``run_case`` returns)."""
    prefix = reader.methodology_id
    see_dir = float(specific_emissions(direct_t, production_t))
    see_ind = float(specific_emissions(indirect_t, production_t))
    see_tot = float(total_see(see_dir, see_ind, direct_only))
    # Three channels (IR 2025/2547 Annex I pt 3.1): the route models carry no non-Annex II
    # precursor, so a direct-only good's indirect is all reported only, any other good's
    # all counted.
    counted, reported_only = (0.0, see_ind) if direct_only else (see_ind, 0.0)
    steps = [
        *steps,
        step_item(
            f"{prefix}.see_direct",
            "SEE_dir = Em_dir / production",
            {"direct_emissions_t": direct_t, "production_t": production_t},
            see_dir,
            "tCO2e/t",
        ),
        step_item(
            f"{prefix}.see_indirect",
            "SEE_indir = Em_indir / production",
            {"indirect_emissions_t": indirect_t, "production_t": production_t},
            see_ind,
            "tCO2e/t",
        ),
        step_item(
            f"{prefix}.indirect_channels",
            "direct-only (Reg. 2023/956 Annex II): SEE_indir,counted = 0, SEE_indir,reported = "
            "SEE_indir; otherwise SEE_indir,counted = SEE_indir, SEE_indir,reported = 0",
            {"see_indirect_t_per_t": see_ind, "direct_only": direct_only},
            [counted, reported_only],
            "tCO2e/t",
        ),
        step_item(
            f"{prefix}.see_total",
            "SEE_total = SEE_dir if direct-only (Reg. 2023/956 Annex II) else SEE_dir + SEE_indir",
            {
                "see_direct_t_per_t": see_dir,
                "see_indirect_t_per_t": see_ind,
                "direct_only": direct_only,
            },
            see_tot,
            "tCO2e/t",
        ),
    ]
    cn = reader.cn_code
    notes = [
        *notes,
        (
            f"CN {cn} is an Annex II good: the total counts direct emissions only, the "
            "indirect SEE is reported apart"
        )
        if direct_only
        else (
            f"CN {cn} counts direct and indirect emissions"
            if cn
            else "no CN code given: direct and indirect emissions both counted"
        ),
        f"{len(reader.used)} default parameter(s) used (see trace factors)",
    ]
    outputs = {
        "see_direct_t_per_t": see_dir,
        "see_indirect_t_per_t": see_ind,
        "see_total_t_per_t": see_tot,
        "see_indirect_counted_t_per_t": counted,
        "see_indirect_reported_only_t_per_t": reported_only,
        "direct_only": direct_only,
        "tier": TIER,
        "direct_emissions_t": float(direct_t),
        "indirect_emissions_t": float(indirect_t),
        **extra,
        "defaults_used": sorted(reader.used),
        "reason": "; ".join(notes) + ".",
    }
    return seal_outputs(
        methodology_id=prefix,
        version=version,
        inputs=reader.inputs(),
        factors=reader.factors(),
        steps=steps,
        outputs=outputs,
        case=reader.normalised(),
    )


def direct_only_for(cn_code: str | None) -> bool:
    """Annex II (direct-only) status of the good; False when no CN code is given."""
    return bool(cn_code) and is_direct_only(cn_code)


# --------------------------------------------------------------------------- case spec

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

#: Plausible ranges of the case keys every route model shares (methodologies.plausibility).
COMMON_RANGES: dict[str, Range] = {
    "production_t": GOOD_T,
    "electricity_ef_t_per_mwh": ELECTRICITY_EF,
    "electricity_mwh": Range(
        0.0, 70.0, "MWh", ((1e-3, "kWh"),), per="production_t", per_unit="MWh/t"
    ),
    **{f"{fuel}_ef_t_per_tj": FUEL_EF for fuel in _FUELS},
    **{f"{r}_carbon_t_per_t": CARBON for r in _REDUCTANTS},
}
