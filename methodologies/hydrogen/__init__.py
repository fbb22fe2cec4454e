"""Hydrogen: EU RFNBO rules, the US 45V credit, and SMR/ATR emissions (docs/method-hydrogen.md).

Three methodologies, one package; each module's docstring states its case, formulas and
legal basis:

- :mod:`methodologies.hydrogen.rfnbo` — ``hydrogen.rfnbo``, GHG intensity and RFNBO share of
  electrolytic hydrogen, each matching period on its own (DR 2023/1184, 2023/1185);
- :mod:`methodologies.hydrogen.us45v` — ``hydrogen.us45v``, the US clean hydrogen production
  credit (26 U.S.C. §45V, IRS Notices 2024-45 and 2025-37);
- :mod:`methodologies.hydrogen.smr` — ``hydrogen.smr``, steam methane or autothermal
  reforming with or without capture (CBAM direct-only);
- :mod:`methodologies.hydrogen.common` — the parts they share.

This package re-exports every public name of the three, so ``from methodologies import
hydrogen`` keeps working.
"""

from __future__ import annotations

from methodologies.hydrogen.common import (  # noqa: F401  (the package's public names)
    VERSION,
    _fraction,
    _seal_result,
    _series,
)
from methodologies.hydrogen.rfnbo import (  # noqa: F401  (the package's public names)
    _RFNBO_KEYS,
    FOSSIL_COMPARATOR_G_PER_MJ,
    HOURLY_FROM,
    HOURLY_FROM_LOCAL,
    KWH_PER_MWH,
    LHV_MJ_PER_KG,
    LHV_SOURCE,
    MJ_PER_MWH,
    REQUIRED_SAVINGS,
    RFNBO_ID,
    RFNBO_SOURCE,
    RFNBO_SPEC,
    RFNBO_SUMMARY,
    THRESHOLD_G_PER_MJ,
    _local_clock,
    _local_iso,
    _none_if_nan,
    _stamp_text,
    check_period_starts,
    ghg_intensity_g_per_mj,
    grid_emissions_g,
    hydrogen_energy_mj,
    kg_per_kg,
    meets_threshold,
    normalise_rfnbo,
    renewable_share,
    rfnbo_periods,
    run_rfnbo,
    temporal_rule,
)
from methodologies.hydrogen.smr import (  # noqa: F401  (the package's public names)
    _SMR_KEYS,
    GWP100_CH4,
    GWP100_SOURCE,
    HYDROGEN_CN,
    NG_EF_SOURCE,
    NG_EF_T_PER_TJ,
    NG_NCV_SOURCE,
    NG_NCV_TJ_PER_T,
    SMR_ID,
    SMR_SPEC,
    SMR_SUMMARY,
    TECHNOLOGIES,
    normalise_smr,
    reforming_co2_t_per_t,
    run_smr,
    upstream_methane_t_per_t,
)
from methodologies.hydrogen.us45v import (  # noqa: F401  (the package's public names)
    _US45V_KEYS,
    US45V_BASE_USD_PER_KG,
    US45V_ID,
    US45V_INFLATION_FACTORS,
    US45V_ROUNDING,
    US45V_SOURCE,
    US45V_SPEC,
    US45V_SUMMARY,
    US45V_TIERS,
    US45V_WAGE_MULTIPLIER,
    _tier_label,
    normalise_us45v,
    run_us45v,
    us45v_amounts,
    us45v_share,
)
