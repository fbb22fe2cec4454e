"""``route.steel`` — modelled SEE of crude steel by production route (BF-BOF, DRI-EAF,
scrap-EAF) from production and energy data.

Used when a disclosure is partial (production and energy known, emissions not) and to test
the plausibility of disclosed values (docs/design.md §2, tier ``modelled``).  The system
boundary is the whole route per tonne of crude steel (iron making included), as in the
IPCC Tier 1 steelmaking factors.

Case (JSON; quantities in the units their names carry)::

    {"methodology": "route.steel", "route": "bf_bof", "cn_code": "7207",
     "production_t": 1000,
     "coke_t": 350, "coal_t": 150, "natural_gas_tj": 2, "limestone_t": 100,
     "electricity_mwh": 150, "electricity_ef_t_per_mwh": 0.6}

- ``route``: ``bf_bof``, ``dri_eaf`` or ``scrap_eaf``; ``reductant`` (``dri_eaf`` only,
  required there): ``gas``, ``coal`` or ``hydrogen``.
- ``cn_code``: an iron and steel CN code (e.g. 7206/7207 crude steel); decides
  ``direct_only`` (Reg. 2023/956 Annex II).  ``production_t`` [t] > 0: crude steel.
- Carbon inputs of the whole route, each optional, give each stream once:
  ``coke_t``, ``coking_coal_t``, ``coal_t`` (PCI, DRI or charge coal), ``electrodes_t`` [t]
  valued by carbon content; ``<fuel>_tj`` [TJ] for fuels ``natural_gas``, ``coking_coal``,
  ``other_bituminous_coal``, ``sub_bituminous_coal``, ``anthracite``, ``lignite``,
  ``coke_oven_coke``, ``petroleum_coke``, ``residual_fuel_oil``, ``gas_diesel_oil``,
  ``lpg`` (IPCC 2006 Vol. 2 Table 1.4 factors) (e.g. ``natural_gas_tj``,
  ``coke_oven_coke_tj``); ``limestone_t``, ``dolomite_t`` [t] fluxes;
  ``output_carbon_t`` [tC] carbon leaving in products, slag or sold gases (subtracted).
- ``dri_t`` [t] (``dri_eaf``): DRI charged, for the Tier 1 estimate when no carbon input
  is given.
- ``hydrogen_t`` [t] and ``hydrogen_see_t_per_t`` [tCO2e/t] (required with reductant
  ``hydrogen``): hydrogen consumed as precursor and its direct SEE (hydrogen is an
  Annex II good, so its indirect emissions are not carried).
- ``electricity_mwh`` [MWh] and ``electricity_ef_t_per_mwh`` [tCO2e/MWh], required: no
  electricity intensity of EAF or BF-BOF steelmaking could be verified in a source
  text, so none is defaulted.
- Parameter overrides (else the defaults of :data:`STEEL_DEFAULTS` and of
  :mod:`methodologies.route_common`): ``bof_ef_t_per_t``, ``eaf_ef_t_per_t``,
  ``dri_ef_t_per_t``, ``<material>_carbon_t_per_t``, ``<fuel>_ef_t_per_tj``,
  ``limestone_ef_t_per_t``, ``dolomite_ef_t_per_t``.

Formulas.  With any carbon input given, the mass balance (IPCC 2006 Vol. 3 Ch. 4 Tier 2;
IR 2025/2547 Annex II B.3.2)::

    Em_dir = Σ_k M_k × C_k × 3.664 + Σ_f E_f × EF_f + Σ_c M_c × EF_c
             − output_carbon_t × 3.664 + hydrogen_t × SEE_H2

otherwise the Tier 1 route factors (IPCC 2006 Vol. 3 Ch. 4 Table 4.1)::

    bf_bof:    Em_dir = production × EF_BOF                     (1.46 tCO2/t steel)
    scrap_eaf: Em_dir = production × EF_EAF                     (0.08)
    dri_eaf:   Em_dir = production × EF_EAF + dri_t × EF_DRI    (0.70, natural-gas DRI)
               [+ hydrogen_t × SEE_H2 with reductant hydrogen, no DRI carbon term]

The Tier 1 DRI factor assumes natural-gas reduction, so with reductant ``coal`` a carbon
input (``coal_t`` or a ``*_tj`` fuel) is required.  Indirect and SEE as in
:mod:`methodologies.route_common`.

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``see_indirect_counted_t_per_t``, ``see_indirect_reported_only_t_per_t``,
``direct_only``, ``tier`` (``modelled``), ``direct_emissions_t``,
``indirect_emissions_t``, ``route``, ``reductant``, ``method`` (``ipcc_tier1`` or
``mass_balance``), ``defaults_used``, ``reason``.

References: 2006 IPCC Guidelines Vol. 3 Ch. 4 (Metal Industry), Tables 4.1 and 4.3;
Vol. 2 Ch. 1 Table 1.4; Vol. 3 Ch. 2 Table 2.1; IR 2025/2547 Annex II B.3 and Annex III.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from methodologies import route_common as rc
from methodologies.errors import CaseError
from methodologies.route_common import COMMON_RANGES
from methodologies.spec import PROCESS_EF, SEE, CaseSpec
from methodologies.trace import step_item

METHODOLOGY_ID = "route.steel"
VERSION = "2006.ipcc.2"
SUMMARY = (
    "Route model of crude steel (BF-BOF, DRI-EAF, scrap-EAF): IPCC 2006 Tier 1 route "
    "factors or a carbon mass balance, plus electricity"
)

ROUTES = ("bf_bof", "dri_eaf", "scrap_eaf")
REDUCTANTS = ("gas", "coal", "hydrogen")

_T41 = (
    "2006 IPCC Guidelines, Vol. 3 (IPPU), Ch. 4, Table 4.1 (Tier 1 default CO2 emission "
    "factors for coke production and iron & steel production)"
)

#: Default parameters of the steel routes: value, unit, citation.
STEEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "bof_ef_t_per_t": rc.param(1.46, "tCO2/t steel", f"{_T41}: Basic Oxygen Furnace 1.46"),
    "eaf_ef_t_per_t": rc.param(0.08, "tCO2/t steel", f"{_T41}: Electric Arc Furnace 0.08"),
    "dri_ef_t_per_t": rc.param(
        0.70, "tCO2/t DRI", f"{_T41}: Direct Reduced Iron 0.70 (natural-gas based DRI)"
    ),
    **rc.CARBON_DEFAULTS,
    **rc.FUEL_EF_DEFAULTS,
    **{k: v for k, v in rc.CARBONATE_DEFAULTS.items() if not k.startswith("soda_ash")},
}

NUMBERS: dict[str, str] = {
    "production_t": "t",
    **rc.carbon_numbers(),
    **rc.fuel_numbers(),
    "limestone_t": "t",
    "dolomite_t": "t",
    "limestone_ef_t_per_t": "tCO2/t",
    "dolomite_ef_t_per_t": "tCO2/t",
    "output_carbon_t": "tC",
    "dri_t": "t",
    "bof_ef_t_per_t": "tCO2/t",
    "eaf_ef_t_per_t": "tCO2/t",
    "dri_ef_t_per_t": "tCO2/t",
    "hydrogen_t": "t",
    "hydrogen_see_t_per_t": "tCO2e/t",
    **rc.ELECTRICITY_KEYS,
}
CHOICES: dict[str, tuple[str, ...]] = {"route": ROUTES, "reductant": REDUCTANTS}

#: Keys whose presence switches the model to the mass balance.
MASS_BALANCE_KEYS: tuple[str, ...] = (
    *(f"{m}_t" for m in rc.CARBON_MATERIALS),
    *(f"{f}_tj" for f in rc.FUELS),
    "limestone_t",
    "dolomite_t",
)


# --------------------------------------------------------------------------- formulas


def tier1_direct_emissions(production_t: Any, ef_t_per_t: Any) -> Any:
    """Em [tCO2] = steel [t] × EF_route [tCO2/t steel].
    Reference: IPCC 2006 Vol. 3 Ch. 4, Table 4.1 (Tier 1)."""
    return production_t * ef_t_per_t


def dri_tier1_emissions(dri_t: Any, ef_t_per_t: Any) -> Any:
    """Em [tCO2] = DRI [t] × EF_DRI [tCO2/t DRI].  Reference: IPCC 2006 Vol. 3 Ch. 4,
    Table 4.1 (Tier 1, natural-gas DRI)."""
    return dri_t * ef_t_per_t


def precursor_emissions(mass_t: Any, see_t_per_t: Any) -> Any:
    """Em [tCO2e] = M [t] × SEE [tCO2e/t] (embedded emissions of a precursor).
    Reference: IR 2025/2547 Annex III point B, Eq. 60."""
    return mass_t * see_t_per_t


# --------------------------------------------------------------------------- run


def _check_route(reader: rc.RouteCase) -> tuple[str, str | None]:
    route = reader.choice("route")
    reductant = reader.choices.get("reductant")
    if route == "dri_eaf" and reductant is None:
        reader.choice("reductant", reason="missing (required for route dri_eaf)")
    if route != "dri_eaf":
        for key in ("reductant", "dri_t", "dri_ef_t_per_t"):
            if key in reader.choices or reader.given(key):
                raise CaseError(key, "absent unless route is dri_eaf", f"route is {route}")
    hydrogen = reductant == "hydrogen"
    for key in ("hydrogen_t", "hydrogen_see_t_per_t"):
        if reader.given(key) and not hydrogen:
            raise CaseError(
                key,
                "absent unless route dri_eaf uses reductant hydrogen",
                f"route {route}, reductant {reductant}",
            )
    return route, reductant


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    reader = rc.RouteCase(case, METHODOLOGY_ID, NUMBERS, CHOICES, STEEL_DEFAULTS)
    route, reductant = _check_route(reader)
    reader.require_sector(("iron_and_steel",))
    production = reader.production()
    steps: list[dict[str, Any]] = []
    notes: list[str] = []
    mass_balance = any(reader.given(k) for k in MASS_BALANCE_KEYS)

    if mass_balance:
        method = "mass_balance"
        direct = rc.carbon_streams(reader, steps, METHODOLOGY_ID)
        direct += rc.fuel_streams(reader, steps, METHODOLOGY_ID)
        direct += rc.carbonate_streams(reader, steps, METHODOLOGY_ID)
        if reader.given("output_carbon_t"):
            out_c = reader.number("output_carbon_t")
            em = -rc.carbon_emissions(out_c, 1.0)
            steps.append(
                step_item(
                    f"{METHODOLOGY_ID}.carbon.output",
                    "Em = − C_out × 3.664 (outputs count negative)",
                    {"output_carbon_t": out_c},
                    em,
                    "tCO2",
                )
            )
            direct += em
        notes.append(
            "mass balance of the carbon inputs given (IPCC 2006 Vol. 3 Ch. 4 "
            "Tier 2; IR 2025/2547 Annex II B.3.2)"
        )
    else:
        method = "ipcc_tier1"
        key = "bof_ef_t_per_t" if route == "bf_bof" else "eaf_ef_t_per_t"
        ef = reader.param(key)
        direct = tier1_direct_emissions(production, ef)
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.tier1.{route}",
                "Em = steel × EF_route",
                {"production_t": production, key: ef},
                direct,
                "tCO2",
            )
        )
        if reductant == "gas":
            dri = reader.number(
                "dri_t",
                "missing (required for the Tier 1 estimate of "
                "dri_eaf with reductant gas, unless natural_gas_tj or "
                "another carbon input is given)",
            )
            ef_dri = reader.param("dri_ef_t_per_t")
            em = dri_tier1_emissions(dri, ef_dri)
            steps.append(
                step_item(
                    f"{METHODOLOGY_ID}.tier1.dri",
                    "Em = DRI × EF_DRI",
                    {"dri_t": dri, "dri_ef_t_per_t": ef_dri},
                    em,
                    "tCO2",
                )
            )
            direct += em
        elif reductant == "coal":
            reader.number(
                "coal_t",
                "missing (route dri_eaf with reductant coal needs its "
                "coal input: the IPCC Tier 1 DRI factor assumes natural gas)",
            )
        notes.append(f"IPCC 2006 Tier 1 route factors for {route} (no carbon input given)")

    if reductant == "hydrogen":
        h2 = reader.number("hydrogen_t", "missing (required with reductant hydrogen)")
        see_h2 = reader.number("hydrogen_see_t_per_t", "missing (required with reductant hydrogen)")
        em = precursor_emissions(h2, see_h2)
        steps.append(
            step_item(
                f"{METHODOLOGY_ID}.precursor.hydrogen",
                "Em = M_H2 × SEE_H2,dir (Annex II precursor: direct only)",
                {"hydrogen_t": h2, "hydrogen_see_t_per_t": see_h2},
                em,
                "tCO2e",
            )
        )
        direct += em

    indirect = rc.electricity_stream(reader, steps, METHODOLOGY_ID)
    return rc.finish(
        reader,
        version=VERSION,
        steps=steps,
        direct_t=direct,
        indirect_t=indirect,
        production_t=production,
        direct_only=rc.direct_only_for(reader.cn_code),
        extra={"route": route, "reductant": reductant, "method": method},
        notes=notes,
    )


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        **COMMON_RANGES,
        "limestone_ef_t_per_t": PROCESS_EF,
        "dolomite_ef_t_per_t": PROCESS_EF,
        "bof_ef_t_per_t": PROCESS_EF,
        "eaf_ef_t_per_t": PROCESS_EF,
        "dri_ef_t_per_t": PROCESS_EF,
        "hydrogen_see_t_per_t": SEE,
    },
)
