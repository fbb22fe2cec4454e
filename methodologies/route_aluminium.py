"""``route.aluminium`` — modelled SEE of unwrought aluminium, primary (electrolysis) or
secondary (remelting), from production, anode and anode-effect data, fuels and
electricity.

Used when a disclosure is partial and to test the plausibility of disclosed values
(docs/design.md §2, tier ``modelled``).  Aluminium 7601–7616 is an Annex II good
(Reg. 2023/956): the indirect SEE of smelting electricity is computed and reported, but
``see_total_t_per_t`` counts direct emissions only.

Case (JSON; quantities in the units their names carry)::

    {"methodology": "route.aluminium", "route": "primary", "cn_code": "7601 10 00",
     "production_t": 1000, "cell_technology": "cwpb",
     "anode_effect_minutes_per_cell_day": 0.25,
     "electricity_mwh": 14000, "electricity_ef_t_per_mwh": 0.8}

- ``route``: ``primary`` or ``secondary``; ``cn_code``: an aluminium CN code;
  ``production_t`` [t] > 0.
- ``cell_technology`` (primary, required): ``pfpb_l``, ``pfpb_m`` (legacy / modern
  point-fed prebake), ``cwpb``, ``swpb`` (centre / side worked prebake), ``vss``, ``hss``
  (vertical / horizontal stud Søderberg).  Prebake or Søderberg anodes follow from it.
- Anode CO2 (primary): ``net_anode_consumption_t_per_t`` [t anode/t Al] with
  ``anode_carbon_t_per_t`` [tC/t anode] (both, or neither); else the IPCC Tier 1 factor
  of the anode type.
- PFC (primary): ``anode_effect_minutes_per_cell_day`` [AE-min/cell-day] gives the slope
  method with the factors of the cell technology (overrides ``sef_cf4``
  [(kg CF4/t Al)/(AE-min/cell-day)] and ``f_c2f6_t_per_t`` [t C2F6/t CF4]); without it
  the IPCC Tier 1 factors [kg/t Al] apply (not available for point-fed prebake: give the
  anode effect minutes).  ``pfc_collection_efficiency`` [0–1] (optional): when given the
  slope-method result is treated as duct emissions and divided by it (IR 2025/2547
  Annex II B.7, Eq. 20); when absent no correction is made.
- Fuels (both routes, e.g. remelting, casting, anode baking beyond the Tier 1 factor):
  ``<fuel>_tj`` [TJ] of fuels ``natural_gas``, ``coking_coal``, ``other_bituminous_coal``,
  ``sub_bituminous_coal``, ``anthracite``, ``lignite``, ``coke_oven_coke``,
  ``petroleum_coke``, ``residual_fuel_oil``, ``gas_diesel_oil``, ``lpg`` (IPCC 2006 Vol. 2
  Table 1.4 factors).
- ``electricity_mwh`` [MWh] and ``electricity_ef_t_per_mwh`` [tCO2e/MWh], required: no
  smelting power intensity could be verified in a source text, so none is defaulted.
- Overrides of :data:`ALUMINIUM_DEFAULTS`: ``gwp_cf4``, ``gwp_c2f6``,
  ``<fuel>_ef_t_per_tj``.

Formulas::

    Em_anode = production × NAC × C_anode × 3.664          (given anode data)
             = production × EF_anode                       (IPCC Tier 1: 1.6 prebake,
                                                            1.7 Søderberg tCO2/t Al)
    CF4 [t]  = AEM × SEF_CF4 / 1000 × production           (IR 2025/2547 Annex II B.7.1,
    C2F6 [t] = CF4 × F_C2F6                                 Eq. 21–22, Table 2)
             or CF4 = production × EF_CF4 / 1000, C2F6 = production × EF_C2F6 / 1000
                                                           (IPCC Tier 1, Table 4.15)
    Em_PFC   = (CF4 × GWP_CF4 + C2F6 × GWP_C2F6) / η_coll  (Eq. 26, Eq. 20)
    Em_dir   = Em_anode + Em_PFC + Σ_f E_f × EF_f          (secondary: fuels only)
    Em_indir = E_el × EF_el

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``see_indirect_counted_t_per_t``, ``see_indirect_reported_only_t_per_t``,
``direct_only``, ``tier`` (``modelled``), ``direct_emissions_t``,
``indirect_emissions_t``, ``route``, ``anode_emissions_t``, ``cf4_t``, ``c2f6_t``,
``pfc_emissions_t``, ``fuel_emissions_t``, ``defaults_used``, ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from methodologies import route_common as rc
from methodologies.errors import CaseError
from methodologies.route_common import COMMON_RANGES
from methodologies.spec import CARBON, CaseSpec, Range, fraction
from methodologies.trace import step_item

METHODOLOGY_ID = "route.aluminium"
VERSION = "2025.2547.2"
SUMMARY = (
    "Route model of unwrought aluminium: anode CO2, PFC by the slope method "
    "(IR 2025/2547) or IPCC Tier 1, fuels and smelting electricity (reported, direct-only)"
)

ROUTES = ("primary", "secondary")
CELL_TECHNOLOGIES = ("pfpb_l", "pfpb_m", "cwpb", "swpb", "vss", "hss")
ANODE_TYPE = {
    "pfpb_l": "prebake",
    "pfpb_m": "prebake",
    "cwpb": "prebake",
    "swpb": "prebake",
    "vss": "soderberg",
    "hss": "soderberg",
}

_T410 = (
    "2006 IPCC Guidelines, Vol. 3 (IPPU), Ch. 4 §4.4, Table 4.10 (Tier 1 technology "
    "specific emission factors for CO2 from anode or paste consumption)"
)
_T415 = (
    "2006 IPCC Guidelines, Vol. 3 (IPPU), Ch. 4 §4.4, Table 4.15 (Tier 1 default PFC "
    "emission factors by cell technology)"
)
_B71 = (
    "Commission Implementing Regulation (EU) 2025/2547, Annex II point B.7.1, Table 2 "
    "(technology-specific emission factors for the slope method)"
)
_GWP = (
    "Commission Implementing Regulation (EU) 2025/2547, Annex II point G, Table 6 "
    "(global warming potentials; IPCC AR5 values)"
)

_SLOPE = {  # technology: (SEF_CF4, F_C2F6), IR 2025/2547 Annex II B.7.1 Table 2
    "pfpb_l": (0.122, 0.097, "Legacy Point Feed Pre Bake (PFPB L)"),
    "pfpb_m": (0.104, 0.057, "Modern Point Feed Pre Bake (PFPB M)"),
    "cwpb": (0.143, 0.121, "Centre Worked Prebake (CWPB)"),
    "swpb": (0.233, 0.280, "Side Worked Prebake (SWPB)"),
    "vss": (0.058, 0.086, "Vertical Stud Søderberg (VSS)"),
    "hss": (0.165, 0.077, "Horizontal Stud Søderberg (HSS)"),
}
_TIER1_PFC = {  # technology: (kg CF4/t Al, kg C2F6/t Al), IPCC 2006 Table 4.15
    "cwpb": (0.4, 0.04),
    "swpb": (1.6, 0.4),
    "vss": (0.8, 0.04),
    "hss": (0.4, 0.03),
}

#: Default parameters of the aluminium routes: value, unit, citation.
ALUMINIUM_DEFAULTS: dict[str, dict[str, Any]] = {
    "prebake_anode_ef_t_per_t": rc.param(1.6, "tCO2/t Al", f"{_T410}: Prebake 1.6"),
    "soderberg_anode_ef_t_per_t": rc.param(1.7, "tCO2/t Al", f"{_T410}: Søderberg 1.7"),
    **{
        f"sef_cf4_{tech}": rc.param(
            sef, "(kg CF4/t Al)/(AE-min/cell-day)", f"{_B71}: {label} SEF_CF4 {sef:g}"
        )
        for tech, (sef, _, label) in _SLOPE.items()
    },
    **{
        f"f_c2f6_{tech}": rc.param(f, "t C2F6/t CF4", f"{_B71}: {label} F_C2F6 {f:g}")
        for tech, (_, f, label) in _SLOPE.items()
    },
    **{
        f"tier1_cf4_{tech}": rc.param(cf4, "kg CF4/t Al", f"{_T415}: {tech.upper()} CF4 {cf4:g}")
        for tech, (cf4, _) in _TIER1_PFC.items()
    },
    **{
        f"tier1_c2f6_{tech}": rc.param(
            c2f6, "kg C2F6/t Al", f"{_T415}: {tech.upper()} C2F6 {c2f6:g}"
        )
        for tech, (_, c2f6) in _TIER1_PFC.items()
    },
    "gwp_cf4": {
        **rc.param(6630.0, "tCO2e/t CF4", f"{_GWP}: CF4 6 630"),
        "valid_from": "2026-01-01",
    },
    "gwp_c2f6": {
        **rc.param(11100.0, "tCO2e/t C2F6", f"{_GWP}: C2F6 11 100"),
        "valid_from": "2026-01-01",
    },
    **rc.FUEL_EF_DEFAULTS,
}

PRIMARY_KEYS: dict[str, str] = {
    "net_anode_consumption_t_per_t": "t anode/t Al",
    "anode_carbon_t_per_t": "tC/t anode",
    "anode_effect_minutes_per_cell_day": "AE-min/cell-day",
    "sef_cf4": "(kg CF4/t Al)/(AE-min/cell-day)",
    "f_c2f6_t_per_t": "t C2F6/t CF4",
    "pfc_collection_efficiency": "1",
    "gwp_cf4": "tCO2e/t CF4",
    "gwp_c2f6": "tCO2e/t C2F6",
}
NUMBERS: dict[str, str] = {
    "production_t": "t",
    **PRIMARY_KEYS,
    **rc.fuel_numbers(),
    **rc.ELECTRICITY_KEYS,
}
CHOICES: dict[str, tuple[str, ...]] = {"route": ROUTES, "cell_technology": CELL_TECHNOLOGIES}


# --------------------------------------------------------------------------- formulas


def anode_emissions(production_t: Any, net_anode_t_per_t: Any, carbon_t_per_t: Any) -> Any:
    """Em [tCO2] = production [t] × NAC [t/t Al] × C_anode [tC/t] × 3.664.
    Reference: IPCC 2006 Vol. 3 Ch. 4 §4.4 (Tier 2/3 prebake); IR 2025/2547 Annex II B.3."""
    return production_t * net_anode_t_per_t * carbon_t_per_t * rc.C_TO_CO2


def slope_cf4(production_t: Any, aem: Any, sef_cf4: Any) -> Any:
    """CF4 [t] = AEM [AE-min/cell-day] × SEF_CF4 / 1000 × PrAl [t].
    Reference: IR 2025/2547 Annex II B.7.1, Eq. 21."""
    return aem * (sef_cf4 / 1000.0) * production_t


def c2f6_from_cf4(cf4_t: Any, f_c2f6: Any) -> Any:
    """C2F6 [t] = CF4 [t] × F_C2F6 [t/t].  Reference: IR 2025/2547 Annex II B.7.1, Eq. 22."""
    return cf4_t * f_c2f6


def pfc_co2e(
    cf4_t: Any, c2f6_t: Any, gwp_cf4: Any, gwp_c2f6: Any, collection_efficiency: Any = 1.0
) -> Any:
    """Em_PFC [tCO2e] = (CF4 × GWP_CF4 + C2F6 × GWP_C2F6) / collection efficiency.
    Reference: IR 2025/2547 Annex II B.7, Eq. 20 and Eq. 26."""
    return (cf4_t * gwp_cf4 + c2f6_t * gwp_c2f6) / collection_efficiency


# --------------------------------------------------------------------------- run


def _anode(
    reader: rc.RouteCase, tech: str, production: float, steps: list[dict[str, Any]]
) -> float:
    nac, carbon = "net_anode_consumption_t_per_t", "anode_carbon_t_per_t"
    if reader.given(nac) or reader.given(carbon):
        missing = carbon if reader.given(nac) else nac
        reader.number(
            missing,
            f"missing ({nac} and {carbon} go together; no default anode "
            "carbon content could be verified)",
        )
        n, c = reader.number(nac), reader.number(carbon)
        em = anode_emissions(production, n, c)
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.anode",
                "Em = PrAl × NAC × C × 3.664",
                {"production_t": production, nac: n, carbon: c},
                em,
                "tCO2",
            )
        )
        return em
    key = f"{ANODE_TYPE[tech]}_anode_ef_t_per_t"
    ef = reader.param(key)
    em = production * ef
    steps.append(
        step_item(
            f"{METHODOLOGY_ID}.anode",
            "Em = PrAl × EF_anode (IPCC Tier 1)",
            {"production_t": production, key: ef},
            em,
            "tCO2",
        )
    )
    return em


def _pfc(
    reader: rc.RouteCase, tech: str, production: float, steps: list[dict[str, Any]]
) -> tuple[float, float, float]:
    aem_key = "anode_effect_minutes_per_cell_day"
    if reader.given(aem_key):
        aem = reader.number(aem_key)
        sef = reader.values.get("sef_cf4", None)
        sef = reader.param(f"sef_cf4_{tech}") if sef is None else sef
        f = reader.values.get("f_c2f6_t_per_t", None)
        f = reader.param(f"f_c2f6_{tech}") if f is None else f
        cf4 = slope_cf4(production, aem, sef)
        c2f6 = c2f6_from_cf4(cf4, f)
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.pfc.slope",
                "CF4 = AEM × SEF_CF4 / 1000 × PrAl; C2F6 = CF4 × F_C2F6",
                {aem_key: aem, "sef_cf4": sef, "f_c2f6_t_per_t": f, "production_t": production},
                [cf4, c2f6],
                "t",
            )
        )
    else:
        for key in ("sef_cf4", "f_c2f6_t_per_t", "pfc_collection_efficiency"):
            if reader.given(key):
                raise CaseError(
                    aem_key,
                    "a number in AE-min/cell-day",
                    f"missing ({key} is given: the slope method needs it)",
                )
        if tech not in _TIER1_PFC:
            reader.number(
                aem_key,
                f"missing (no IPCC Tier 1 PFC factor for {tech}; give "
                "the anode effect minutes for the slope method)",
            )
        ef_cf4, ef_c2f6 = reader.param(f"tier1_cf4_{tech}"), reader.param(f"tier1_c2f6_{tech}")
        cf4, c2f6 = production * ef_cf4 / 1000.0, production * ef_c2f6 / 1000.0
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.pfc.tier1",
                "CF4 = PrAl × EF_CF4 / 1000; C2F6 = PrAl × EF_C2F6 / 1000",
                {
                    "production_t": production,
                    "ef_cf4_kg_per_t": ef_cf4,
                    "ef_c2f6_kg_per_t": ef_c2f6,
                },
                [cf4, c2f6],
                "t",
            )
        )
    eff = reader.optional("pfc_collection_efficiency", 1.0)
    if eff <= 0:
        raise CaseError("pfc_collection_efficiency", "a number > 0 and <= 1", f"got {eff!r}")
    gwp_cf4, gwp_c2f6 = reader.param("gwp_cf4"), reader.param("gwp_c2f6")
    em = pfc_co2e(cf4, c2f6, gwp_cf4, gwp_c2f6, eff)
    steps.append(
        step_item(
            f"{METHODOLOGY_ID}.pfc.co2e",
            "Em_PFC = (CF4 × GWP_CF4 + C2F6 × GWP_C2F6) / η_coll",
            {
                "cf4_t": cf4,
                "c2f6_t": c2f6,
                "gwp_cf4": gwp_cf4,
                "gwp_c2f6": gwp_c2f6,
                "pfc_collection_efficiency": eff,
            },
            em,
            "tCO2e",
        )
    )
    return cf4, c2f6, em


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    reader = rc.RouteCase(
        case,
        METHODOLOGY_ID,
        NUMBERS,
        CHOICES,
        ALUMINIUM_DEFAULTS,
        bounded=("pfc_collection_efficiency",),
    )
    route = reader.choice("route")
    reader.require_sector(("aluminium",))
    production = reader.production()
    steps: list[dict[str, Any]] = []
    anode = cf4 = c2f6 = pfc = 0.0
    if route == "primary":
        tech = reader.choice("cell_technology", reason="missing (required for route primary)")
        anode = _anode(reader, tech, production, steps)
        cf4, c2f6, pfc = _pfc(reader, tech, production, steps)
        notes = [f"primary smelting, {tech} cells ({ANODE_TYPE[tech]} anodes)"]
    else:
        for key in ("cell_technology", *PRIMARY_KEYS):
            if key in reader.choices or reader.given(key):
                raise CaseError(key, "absent for route secondary (remelting)", "route is secondary")
        notes = ["secondary (remelting): fuels and electricity only"]
    fuel = rc.fuel_streams(reader, steps, METHODOLOGY_ID)
    direct = anode + pfc + fuel
    indirect = rc.electricity_stream(reader, steps, METHODOLOGY_ID)
    extra = {
        "route": route,
        "anode_emissions_t": anode,
        "cf4_t": cf4,
        "c2f6_t": c2f6,
        "pfc_emissions_t": pfc,
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
        notes=notes,
    )


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        **COMMON_RANGES,
        "net_anode_consumption_t_per_t": Range(0.0, 1.0, "t anode/t Al", ((1e-3, "kg/t"),)),
        "anode_carbon_t_per_t": CARBON,
        "pfc_collection_efficiency": fraction(),
        "anode_effect_minutes_per_cell_day": Range(0.0, 10.0, "AE-min/cell-day"),
    },
)
