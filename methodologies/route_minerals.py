"""``route.minerals`` — modelled SEE of critical-mineral products (nickel, lithium
carbonate, lithium hydroxide, copper, cobalt) from the energy and reagent inputs per
period.

These products are not CBAM goods; the model serves plausibility checks and partial
disclosures with the same case conventions and trace as the CBAM routes (docs/design.md §2,
tier ``modelled``).  No default energy or emission intensity per tonne of product is
set: none could be verified in a source text (peer-reviewed LCA values such as those of
Kelly et al. 2021 for lithium, the Nickel Institute or the International Copper
Association could not be read), so the energy inputs are case data.  A fuel not given is
taken as not consumed; electricity is required.

Case (JSON; quantities in the units their names carry)::

    {"methodology": "route.minerals", "product": "lithium_hydroxide",
     "production_t": 100, "natural_gas_tj": 3.0, "limestone_t": 50,
     "electricity_mwh": 900, "electricity_ef_t_per_mwh": 0.7}

- ``product``: ``nickel``, ``lithium_carbonate``, ``lithium_hydroxide``, ``copper`` or
  ``cobalt``; ``production_t`` [t] > 0 of it.  ``cn_code`` (optional): when given it
  must be a CBAM good of Reg. 2023/956 Annex I (as in every route model), which none of
  these products is, so it is normally left out; direct and indirect emissions are then
  both counted.
- Fuels: ``<fuel>_tj`` [TJ] of fuels ``natural_gas``, ``coking_coal``,
  ``other_bituminous_coal``, ``sub_bituminous_coal``, ``anthracite``, ``lignite``,
  ``coke_oven_coke``, ``petroleum_coke``, ``residual_fuel_oil``, ``gas_diesel_oil``,
  ``lpg`` (IPCC 2006 Vol. 2 Table 1.4 factors).
- Reductants: ``coke_t``, ``coal_t``, ``coking_coal_t``, ``electrodes_t`` [t], valued by
  carbon content (e.g. pyrometallurgical nickel).
- Carbonate reagents that decompose (e.g. limestone neutralising acid leach liquor):
  ``limestone_t``, ``dolomite_t``, ``soda_ash_t`` [t].  Carbonate that ends in the
  product (soda ash precipitating lithium carbonate) releases no CO2 and must not be
  entered.
- ``other_process_emissions_t`` [tCO2e]: disclosed process emissions of other sources.
- ``electricity_mwh`` [MWh] and ``electricity_ef_t_per_mwh`` [tCO2e/MWh], required.
- Overrides: ``<fuel>_ef_t_per_tj``, ``<material>_carbon_t_per_t``,
  ``<carbonate>_ef_t_per_t``.

Formulas (IPCC 2006 Vol. 2 Ch. 2 Eq. 2.1; Vol. 3 Ch. 2 Table 2.1; IR 2025/2547
Annex II B.3)::

    Em_dir   = Σ_f E_f × EF_f + Σ_k M_k × C_k × 3.664 + Σ_c M_c × EF_c + other
    Em_indir = E_el × EF_el

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``see_indirect_counted_t_per_t``, ``see_indirect_reported_only_t_per_t``,
``direct_only``, ``tier`` (``modelled``), ``direct_emissions_t``,
``indirect_emissions_t``, ``product``, ``fuel_emissions_t``, ``process_emissions_t``,
``defaults_used``, ``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from methodologies import route_common as rc
from methodologies.route_common import COMMON_RANGES
from methodologies.spec import PROCESS_EF, CaseSpec
from methodologies.trace import step_item

METHODOLOGY_ID = "route.minerals"
VERSION = "2006.ipcc.2"
SUMMARY = (
    "Route model of critical-mineral products (nickel, lithium, copper, cobalt): fuels, "
    "reductants, carbonate reagents and electricity given per period"
)

PRODUCTS = ("nickel", "lithium_carbonate", "lithium_hydroxide", "copper", "cobalt")

#: Default parameters: emission factors and carbon contents only (no intensities).
MINERALS_DEFAULTS: dict[str, dict[str, Any]] = {
    **rc.FUEL_EF_DEFAULTS,
    **rc.CARBON_DEFAULTS,
    **rc.CARBONATE_DEFAULTS,
}

NUMBERS: dict[str, str] = {
    "production_t": "t",
    **rc.fuel_numbers(),
    **rc.carbon_numbers(),
    **rc.carbonate_numbers(),
    "other_process_emissions_t": "tCO2e",
    **rc.ELECTRICITY_KEYS,
}
CHOICES: dict[str, tuple[str, ...]] = {"product": PRODUCTS}


def direct_emissions(fuel_t: Any, carbon_t: Any, carbonate_t: Any, other_t: Any) -> Any:
    """Em_dir [tCO2e] = fuels + reductant carbon + carbonate decomposition + other.
    Reference: IR 2025/2547 Annex II B.3 (source streams)."""
    return fuel_t + carbon_t + carbonate_t + other_t


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    reader = rc.RouteCase(case, METHODOLOGY_ID, NUMBERS, CHOICES, MINERALS_DEFAULTS)
    product = reader.choice("product")
    production = reader.production()
    steps: list[dict[str, Any]] = []
    fuel = rc.fuel_streams(reader, steps, METHODOLOGY_ID)
    carbon = rc.carbon_streams(reader, steps, METHODOLOGY_ID)
    carbonate = rc.carbonate_streams(reader, steps, METHODOLOGY_ID)
    other = reader.optional("other_process_emissions_t")
    direct = direct_emissions(fuel, carbon, carbonate, other)
    steps.append(
        step_item(
            f"{METHODOLOGY_ID}.direct",
            "Em_dir = fuels + reductant carbon + carbonates + other",
            {
                "fuel_t": fuel,
                "carbon_t": carbon,
                "carbonate_t": carbonate,
                "other_process_emissions_t": other,
            },
            direct,
            "tCO2e",
        )
    )
    indirect = rc.electricity_stream(reader, steps, METHODOLOGY_ID)
    extra = {
        "product": product,
        "fuel_emissions_t": fuel,
        "process_emissions_t": carbon + carbonate + other,
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
        notes=[f"{product}: energy and reagent inputs as given (no default intensities)"],
    )


#: Plausible ranges of the case keys (methodologies.plausibility).
SPEC = CaseSpec(
    {},
    ranges={
        **COMMON_RANGES,
        "limestone_ef_t_per_t": PROCESS_EF,
        "dolomite_ef_t_per_t": PROCESS_EF,
        "soda_ash_ef_t_per_t": PROCESS_EF,
    },
)
