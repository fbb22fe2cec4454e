"""``route.cement`` — modelled SEE of cement clinker or cement from clinker tonnage, clinker
chemistry, kiln fuels and electricity.

Used when a disclosure is partial and to test the plausibility of disclosed values
(docs/design.md §2, tier ``modelled``).  The installation is taken as integrated: the clinker
counted is made on site and ground into the cement produced.  Cement, clinker and the
other goods of heading 2523 count direct and indirect emissions (Reg. 2023/956 Annex II).

Case (JSON; quantities in the units their names carry)::

    {"methodology": "route.cement", "cn_code": "2523 29 00", "production_t": 1000,
     "clinker_to_cement_t_per_t": 0.75, "cao_t_per_t": 0.65,
     "other_bituminous_coal_tj": 2.5,
     "electricity_mwh": 100, "electricity_ef_t_per_mwh": 0.5}

- ``cn_code``: a CN code under heading 2523; ``production_t`` [t] > 0: tonnes of it.
- Clinker: for clinker (2523 10 00) the clinker is the production.  For cement give
  ``clinker_t`` [t] (clinker in the period's cement) or ``clinker_to_cement_t_per_t``
  [t clinker/t cement], one of them: no default ratio is set, because it depends on the
  cement type.
- Clinker emission factor before the kiln-dust correction, one of: ``clinker_ef_t_per_t``
  [tCO2/t clinker]; ``cao_t_per_t`` [t CaO/t clinker, from carbonates] with optional
  ``mgo_t_per_t`` [t MgO/t clinker, from carbonates]; else the IPCC default 0.51.
- ``ckd_correction`` [1]: cement kiln dust correction factor, default 1.02.
- Kiln and other fuels: ``<fuel>_tj`` [TJ] for fuels ``natural_gas``, ``coking_coal``,
  ``other_bituminous_coal``, ``sub_bituminous_coal``, ``anthracite``, ``lignite``,
  ``coke_oven_coke``, ``petroleum_coke``, ``residual_fuel_oil``, ``gas_diesel_oil``,
  ``lpg`` (IPCC 2006 Vol. 2 Table 1.4 factors) (e.g.
  ``other_bituminous_coal_tj``, ``petroleum_coke_tj``, ``natural_gas_tj``), each with an
  optional ``<fuel>_ef_t_per_tj`` override.
- ``electricity_mwh`` [MWh] and ``electricity_ef_t_per_mwh`` [tCO2e/MWh], required.
- Overrides of :data:`CEMENT_DEFAULTS`: ``cao_co2_t_per_t``, ``mgo_co2_t_per_t``,
  ``ckd_correction``; the default clinker factor is replaced by giving
  ``clinker_ef_t_per_t``.

Formulas (IPCC 2006 Vol. 3 Ch. 2 §2.2.1, Tier 2 clinker-based method; Eq. 2.4 for the
default; IR 2025/2547 Annex II B.3)::

    EF_cl      = CaO × 0.785 + MgO × 1.092      (or the given EF, or 0.51)  [tCO2/t clinker]
    Em_process = clinker_t × EF_cl × CF_ckd                                  [tCO2]
    Em_fuel    = Σ_f E_f × EF_f                                              [tCO2]
    Em_dir     = Em_process + Em_fuel;  Em_indir = E_el × EF_el
    clinker_t  = production_t (clinker) or production_t × clinker_to_cement_t_per_t

The IPCC default 0.52 tCO2/t clinker is 0.51 × 1.02 (Eq. 2.4); this module keeps the
two factors apart, so the default gives 0.51 × 1.02 = 0.5202 exactly.

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``see_indirect_counted_t_per_t``, ``see_indirect_reported_only_t_per_t``,
``direct_only`` (false), ``tier`` (``modelled``), ``direct_emissions_t``,
``indirect_emissions_t``, ``clinker_t``, ``clinker_to_cement_t_per_t``,
``clinker_ef_t_per_t`` (after the CKD correction), ``process_emissions_t``,
``fuel_emissions_t``, ``defaults_used``, ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from methodologies import route_common as rc
from methodologies.errors import CaseError
from methodologies.route_common import COMMON_RANGES
from methodologies.spec import CaseSpec, Range, fraction
from methodologies.trace import step_item

METHODOLOGY_ID = "route.cement"
VERSION = "2006.ipcc.2"
SUMMARY = (
    "Route model of cement and clinker: clinker calcination (IPCC 2006 Tier 2, CaO/MgO or "
    "default factor, CKD correction), kiln fuels and electricity"
)

CLINKER_CN = "25231000"

_EQ24 = (
    "2006 IPCC Guidelines, Vol. 3 (IPPU), Ch. 2, Eq. 2.4, p. 2.12: "
    "EF_clc = 0.51 • 1.02 (CKD correction) = 0.52 tonnes CO2/tonne clinker (65 % CaO)"
)
_STOICH = (
    "stoichiometric ratio of molar masses M(CO2)/M({ox}) = 44.01/{m}; the IPCC 2006 "
    "Vol. 3 Ch. 2 default EF 0.51 = 0.65 CaO × 0.785"
)

#: Default parameters of the cement route: value, unit, citation.
CEMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "clinker_ef_default_t_per_t": rc.param(
        0.51, "tCO2/t clinker", f"{_EQ24}; the base factor before CKD correction"
    ),
    "ckd_correction": rc.param(1.02, "1", f"{_EQ24}; the CKD correction factor"),
    "cao_co2_t_per_t": rc.param(0.785, "tCO2/t CaO", _STOICH.format(ox="CaO", m="56.08")),
    "mgo_co2_t_per_t": rc.param(1.092, "tCO2/t MgO", _STOICH.format(ox="MgO", m="40.30")),
    **rc.FUEL_EF_DEFAULTS,
}

NUMBERS: dict[str, str] = {
    "production_t": "t",
    "clinker_t": "t",
    "clinker_to_cement_t_per_t": "t clinker/t cement",
    "clinker_ef_t_per_t": "tCO2/t clinker",
    "cao_t_per_t": "t CaO/t clinker",
    "mgo_t_per_t": "t MgO/t clinker",
    "cao_co2_t_per_t": "tCO2/t CaO",
    "mgo_co2_t_per_t": "tCO2/t MgO",
    "ckd_correction": "1",
    **rc.fuel_numbers(),
    **rc.ELECTRICITY_KEYS,
}


# --------------------------------------------------------------------------- formulas


def clinker_emission_factor(
    cao_t_per_t: Any, mgo_t_per_t: Any = 0.0, cao_co2: Any = 0.785, mgo_co2: Any = 1.092
) -> Any:
    """EF_cl [tCO2/t clinker] = CaO × 0.785 + MgO × 1.092 (carbonate-derived oxides).
    Reference: IPCC 2006 Vol. 3 Ch. 2 §2.2.1.2; stoichiometric molar-mass ratios."""
    return cao_t_per_t * cao_co2 + mgo_t_per_t * mgo_co2


def clinker_process_emissions(clinker_t: Any, ef_t_per_t: Any, ckd_correction: Any) -> Any:
    """Em [tCO2] = M_cl [t] × EF_cl [tCO2/t] × CF_ckd [1].
    Reference: IPCC 2006 Vol. 3 Ch. 2 §2.2.1.1 (Tier 2) and Eq. 2.4."""
    return clinker_t * ef_t_per_t * ckd_correction


def clinker_in_cement(cement_t: Any, clinker_to_cement: Any) -> Any:
    """M_cl [t] = cement [t] × clinker-to-cement ratio [t/t]."""
    return cement_t * clinker_to_cement


# --------------------------------------------------------------------------- run


def _clinker(reader: rc.RouteCase, production: float, steps: list[dict[str, Any]]) -> float:
    if reader.cn_code == CLINKER_CN:
        for key in ("clinker_t", "clinker_to_cement_t_per_t"):
            if reader.given(key):
                raise CaseError(
                    key, "absent for clinker (2523 10 00): the clinker is production_t", "given"
                )
        return production
    if reader.given("clinker_t") and reader.given("clinker_to_cement_t_per_t"):
        raise CaseError("clinker_to_cement_t_per_t", "absent when clinker_t is given", "both given")
    if reader.given("clinker_t"):
        return reader.number("clinker_t")
    ratio = reader.number(
        "clinker_to_cement_t_per_t",
        "missing (a cement needs clinker_t or clinker_to_cement_t_per_t; no default ratio is set)",
    )
    clinker = clinker_in_cement(production, ratio)
    steps.append(
        step_item(
            f"{METHODOLOGY_ID}.clinker",
            "M_cl = cement × clinker ratio",
            {"production_t": production, "clinker_to_cement_t_per_t": ratio},
            clinker,
            "t",
        )
    )
    return clinker


def _clinker_ef(reader: rc.RouteCase, steps: list[dict[str, Any]]) -> tuple[float, str]:
    if reader.given("clinker_ef_t_per_t"):
        for key in ("cao_t_per_t", "mgo_t_per_t"):
            if reader.given(key):
                raise CaseError(key, "absent when clinker_ef_t_per_t is given", "both given")
        return reader.number("clinker_ef_t_per_t"), "given clinker emission factor"
    if reader.given("cao_t_per_t"):
        cao, mgo = reader.number("cao_t_per_t"), reader.optional("mgo_t_per_t")
        k_cao = reader.param("cao_co2_t_per_t")
        k_mgo = reader.param("mgo_co2_t_per_t") if reader.given("mgo_t_per_t") else 0.0
        ef = clinker_emission_factor(cao, mgo, k_cao, k_mgo)
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.clinker_ef",
                "EF_cl = CaO × 0.785 + MgO × 1.092",
                {
                    "cao_t_per_t": cao,
                    "mgo_t_per_t": mgo,
                    "cao_co2_t_per_t": k_cao,
                    "mgo_co2_t_per_t": k_mgo,
                },
                ef,
                "tCO2/t clinker",
            )
        )
        return ef, "clinker emission factor from CaO/MgO content"
    if reader.given("mgo_t_per_t"):
        raise CaseError(
            "cao_t_per_t", "a number in t CaO/t clinker", "missing (mgo_t_per_t is given)"
        )
    return reader.param("clinker_ef_default_t_per_t"), "IPCC default clinker emission factor"


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    reader = rc.RouteCase(
        case, METHODOLOGY_ID, NUMBERS, {}, CEMENT_DEFAULTS, bounded=("cao_t_per_t", "mgo_t_per_t")
    )
    reader.require_sector(("cement",))
    if not reader.cn_code.startswith("2523"):
        raise CaseError(
            "cn_code", "a CN code under heading 2523 (clinker or cement)", f"got {reader.cn_code}"
        )
    production = reader.production()
    steps: list[dict[str, Any]] = []
    clinker = _clinker(reader, production, steps)
    ef_cl, ef_note = _clinker_ef(reader, steps)
    ckd = reader.param("ckd_correction")
    process = clinker_process_emissions(clinker, ef_cl, ckd)
    steps.append(
        step_item(
            f"{METHODOLOGY_ID}.process",
            "Em = M_cl × EF_cl × CF_ckd",
            {"clinker_t": clinker, "clinker_ef_t_per_t": ef_cl, "ckd_correction": ckd},
            process,
            "tCO2",
        )
    )
    fuel = rc.fuel_streams(reader, steps, METHODOLOGY_ID)
    direct = process + fuel
    indirect = rc.electricity_stream(reader, steps, METHODOLOGY_ID)
    extra = {
        "clinker_t": clinker,
        "clinker_to_cement_t_per_t": clinker / production,
        "clinker_ef_t_per_t": ef_cl * ckd,
        "process_emissions_t": process,
        "fuel_emissions_t": fuel,
    }
    return rc.finish(
        reader,
        version=VERSION,
        steps=steps,
        direct_t=direct,
        indirect_t=indirect,
        production_t=production,
        direct_only=rc.direct_only_for(reader.cn_code),
        extra=extra,
        notes=[f"{ef_note} with CKD correction {ckd:g}"],
    )


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        **COMMON_RANGES,
        "clinker_to_cement_t_per_t": fraction(),
        "clinker_ef_t_per_t": Range(0.0, 1.2, "tCO2/t clinker", ((1e-3, "kgCO2/t"),)),
        "cao_t_per_t": fraction(),
        "mgo_t_per_t": fraction(),
        "ckd_correction": Range(1.0, 1.2, "1"),
    },
)
