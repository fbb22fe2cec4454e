"""Hydrogen: EU RFNBO rules, the US 45V credit, and SMR/ATR emissions (DESIGN.md §5).

Three methodologies, one package (a module each: :mod:`methodologies.hydrogen.rfnbo`,
:mod:`methodologies.hydrogen.us45v`, :mod:`methodologies.hydrogen.smr`; shared parts in
:mod:`methodologies.hydrogen.common`):

``hydrogen.rfnbo`` — GHG intensity and RFNBO share of electrolytic hydrogen
-----------------------------------------------------------------------------
Legal basis: Commission Delegated Regulation (EU) 2023/1184 (RFNBO rules: additionality,
temporal and geographic correlation), Art. 4 (grid electricity counted as renewable) and
Art. 6 (temporal correlation); Commission Delegated Regulation (EU) 2023/1185 (GHG
methodology; Art. 1: savings of at least 70 % against the fossil fuel comparator of
94 gCO2e/MJ, i.e. at most 28.2 gCO2e/MJ; Annex A point 1: the intensity is computed for
the output of a period, no averaging beyond it).

Case::

    {"methodology": "hydrogen.rfnbo", "period": "monthly",        # or "hourly"
     "electrolyser_efficiency": 0.6,             # MJ H2 (LHV) per MJ electricity [1]
     "renewable_electricity_mwh": [900, 800],    # per period, into the electrolyser
     "grid_electricity_mwh": [100, 200],         # per period, into the electrolyser
     "grid_intensity_g_per_kwh": [300, 250],     # the zone's intensity per period
     "auxiliary_grid_electricity_mwh": [5, 5],   # optional: grid electricity that makes
                                                 # no hydrogen (compression, cooling)
     "grid_renewable_share": [0.4, 0.45],        # optional: share of the grid electricity
                                                 # that counts as renewable (DR 2023/1184
                                                 # Art. 4), one fraction per period
     "year": 2029}                               # optional, or "period_start": [ISO 8601
                                                 # with the bidding zone's UTC offset, one
                                                 # per period]

Temporal correlation (DR 2023/1184 Art. 6): until 31 December 2029 the renewable
electricity must be matched within the same calendar month, from 1 January 2030 within the
same hour, both **in the bidding zone's local time**.  ``period_start`` carries that local
time as the offset of each ISO 8601 stamp (``2029-03-01T00:00:00+01:00`` is March in
Central European Time); a start that is not the beginning of a whole local calendar month
(monthly) or hour (hourly) is refused, and so are starts that are not increasing or that
name one period twice.  The 2030 switch is read on the local clock.  With ``year`` or
``period_start`` the engine states the rule that applies (``temporal_rule``); monthly
periods in or after 2030 are refused.  Without either the rule cannot be checked:
``temporal_rule`` is null and each value is taken as one period of the case's kind.

Per matching period p (arrays broadcast: any leading axes, e.g. installations, and the
periods on the last axis)::

    E_in[p]     = E_ren[p] + E_grid[p]                       [MWh into the electrolyser]
    H2_MJ[p]    = E_in[p] × 3600 MJ/MWh × η                   [MJ, LHV]
    H2_kg[p]    = H2_MJ[p] / 120 MJ/kg                        [kg]
    Em_g[p]     = (E_grid[p] + E_aux[p]) × 1000 kWh/MWh × I_grid[p]     [gCO2e]
    GHG[p]      = Em_g[p] / H2_MJ[p]                          [gCO2e/MJ]
    passes[p]   = GHG[p] ≤ 28.2 gCO2e/MJ                      (each period on its own)
    share[p]    = (E_ren[p] + s_grid[p] × E_grid[p]) / E_in[p]          [1]
    RFNBO_kg[p] = share[p] × H2_kg[p]   if passes[p], else 0
    rfnbo_share = Σ RFNBO_kg / Σ H2_kg
    passes      = every period that made hydrogen passes
    GHG         = Σ Em_g / Σ H2_MJ   (reported for information only: the verdict never
                  rests on an average over periods)

Renewable electricity that meets the RFNBO criteria counts zero emissions (DR 2023/1185
Annex A, point 5(b)); grid electricity counts with the zone's intensity, and counts as
renewable for the share in proportion ``s_grid`` where DR 2023/1184 Art. 4 allows it (the
intensity already values the renewable part of the grid at zero, so the emissions use the
whole grid amount).  The RFNBO share counts the electricity that goes into the hydrogen:
auxiliary electricity adds its emissions to the period's hydrogen but does not dilute the
share.  Hydrogen made in a period above the threshold is not RFNBO.  Auxiliary electricity
in a period without hydrogen is reported (``unattributed_emissions_kg``) but belongs to no
period's output.  The intensity covers the electricity input e_i only (no transport,
compression or distribution terms); it is the same for the RFNBO and non-RFNBO parts of a
period.

Outputs: ``ghg_intensity_g_per_mj``, ``ghg_intensity_kg_per_kg``, ``rfnbo_share``,
``passes``, ``failing_periods``, ``threshold_g_per_mj``, ``hydrogen_kg``,
``rfnbo_hydrogen_kg``, ``emissions_kg``, ``unattributed_emissions_kg``, ``temporal_rule``,
``periods`` (per period: ``index``, ``start`` if given, ``renewable_mwh``, ``grid_mwh``,
``grid_renewable_share``, ``auxiliary_mwh``, ``hydrogen_kg``, ``emissions_kg``,
``ghg_intensity_g_per_mj`` (null without hydrogen), ``rfnbo_share``, ``rfnbo_kg``,
``passes`` (null without hydrogen)), ``reason``.

``hydrogen.us45v`` — the US clean hydrogen production credit
------------------------------------------------------------
Legal basis: 26 U.S.C. §45V(b) (applicable percentage by lifecycle GHG rate, kgCO2e per
kg H2, well-to-gate; the applicable amount rounded to the nearest 0.1 cent), §45V(b)(3)
(inflation adjustment of the $0.60, itself rounded to the nearest 0.1 cent) and
§45V(e)(1) (×5 when the prevailing wage and apprenticeship requirements are met); the
yearly factors as the IRS publishes them (Notice 2024-45 for 2023 and 2024, Notice
2025-37 for 2025)::

    {"methodology": "hydrogen.us45v", "lifecycle_kg_per_kg": 1.2, "prevailing_wage": true,
     "production_kg": 1000,                  # optional: total credit
     "production_year": 2024,                # optional: takes the published factor
     "inflation_adjustment_factor": 1.0}     # optional (§45V(b)(3)), default 1

    rate < 0.45 → 100 %;  0.45 ≤ rate < 1.5 → 33.4 %;  1.5 ≤ rate < 2.5 → 25 %;
    2.5 ≤ rate ≤ 4 → 20 %;  rate > 4 → 0     (a negative rate is valid: 100 %)
    adjusted base     = round(0.60 USD × IAF, 0.1 cent)                  (§45V(b)(3))
    applicable amount = round(percentage × adjusted base, 0.1 cent)      (§45V(b)(1))
    credit per kg     = applicable amount × (5 with prevailing wage, else 1)

Both roundings are needed to give the amounts the IRS publishes: for 2024 (factor 1.0364)
the base is $0.622 and the 25 % tier 0.25 × 0.622 = 0.1555 → **$0.156** (Notice 2024-45);
rounding only once (0.25 × 0.60 × 1.0364 = 0.15546 → $0.155) would miss it by a tenth of
a cent.  The DESIGN example (1.2 kg/kg with prevailing wage, factor 1) gives
round(0.334 × 0.60) = 0.200, × 5 = **1.0** USD/kg.  ``production_year`` takes the
published factor of that year (:data:`US45V_INFLATION_FACTORS`); a year without one is
refused (give ``inflation_adjustment_factor``), and a factor that contradicts the year's
published one is refused.  The arithmetic is done in decimal, so the result carries no
float noise.

Outputs: ``tier_share``, ``credit_usd_per_kg``, ``base_usd_per_kg``,
``applicable_amount_usd_per_kg``, ``inflation_adjustment_factor``, ``multiplier``,
``credit_usd`` (null without ``production_kg``), ``tier`` (a label), ``reason``.

``hydrogen.smr`` — steam methane reforming or autothermal reforming, with or without capture
-----------------------------------------------------------------------------------------
::

    {"methodology": "hydrogen.smr", "technology": "smr",       # or "atr"
     "hydrogen_t": 1000,                                      # produced [t H2]
     "natural_gas_gj_per_t": 165,         # feed + fuel per t H2 (or natural_gas_tj_per_t)
     "capture_rate": 0.0,                 # fraction of the CO2 captured and stored [0, 1]
     "electricity_mwh_per_t": 0.5, "electricity_ef_t_per_mwh": 0.4,   # optional
     "methane_leakage_rate": 0.01,        # optional, upstream (fraction of gas by mass)
     "gwp100_ch4": 29.8,                  # optional override
     "cn_code": "28041000"}               # optional (default hydrogen)

    CO2_gross  = NG [TJ/t] × 56.1 tCO2/TJ            (IPCC 2006 Vol. 2 Table 1.4)
    captured   = CO2_gross × capture_rate
    SEE_dir    = CO2_gross − captured                 [tCO2/t H2]
    SEE_indir  = E_el [MWh/t] × EF_el [tCO2/MWh]
    upstream   = NG [TJ/t] / 0.048 TJ/t × leakage × GWP100   (NCV 48.0 TJ/Gg, IPCC 2006
                 Vol. 2 Table 1.2; methane GWP100 29.8 for fossil CH4, IPCC AR6 WG1 Table 7.15)
    lifecycle  = SEE_dir + SEE_indir + upstream        [kgCO2e/kg H2]

Hydrogen (CN 2804 10 00) is an Annex II good: ``see_total_t_per_t`` = SEE_dir
(Reg. 2023/956 Annex II; :func:`methodologies.cbam_goods.is_direct_only`); the indirect
SEE is reported apart. Upstream methane is outside the CBAM boundary (not the
installation's emissions): it is reported in ``upstream_t_per_t`` and the lifecycle rate
only. Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t``, ``see_total_t_per_t``,
``direct_only``, ``gross_co2_t_per_t``, ``captured_t_per_t``, ``upstream_t_per_t``,
``lifecycle_kg_per_kg``, ``ghg_intensity_g_per_mj``, ``direct_emissions_t``,
``technology``, ``tier`` (``modelled``), ``reason``.

All arithmetic is float64; the formula functions take numpy arrays and broadcast, so one
call evaluates installations × hours.
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
