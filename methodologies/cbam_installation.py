"""``cbam.installation`` — specific embedded emissions of a good from installation data.

Legal basis: Regulation (EU) 2023/956, Annex IV; monitoring and attribution rules of
Commission Implementing Regulation (EU) 2025/2547, Annexes II (monitoring: source
streams) and III (attribution to goods); docs/method-cbam.md.

Case (JSON; quantities in the units their names carry)::

    {"methodology": "cbam.installation",
     "installation_id": "IN-001",
     "good": {"cn_code": "7208", "activity_level_t": 1000},
     "direct": {"attributed_emissions_t": 1500,
                "heat_imported_emissions_t": 0, "heat_exported_emissions_t": 0,
                "waste_gas_imported_tj": 0, "waste_gas_exported_tj": 0,
                "waste_gas_ef_t_per_tj": 0, "electricity_exported_emissions_t": 0},
     "electricity": {"consumed_mwh": 400, "ef_t_per_mwh": 0.5},
     "precursors": [{"cn_code": "7203", "mass_t": 1100, "origin": "IN",
                     "see_direct_t_per_t": 0.9, "see_indirect_t_per_t": 0.1}],
     "tier": "disclosed",
     "uncertainty": {"method": "auto", "seed": 0, "samples": 10000}}

- ``installation_id`` (optional): the installation's identifier; used to reject
  precursor cycles.
- ``good.activity_level_t`` AL [t] > 0: tonnes of the good produced in the period.
- ``direct``: EITHER ``attributed_emissions_t`` DirEm [tCO2e], the direct emissions of
  the production process, OR ``source_streams`` (a list; DirEm is the sum of their
  emissions, IR 2025/2547 Annex II), never both.  A source stream is one of::

      {"type": "combustion", "name": "coal", "ad_t": 100, "ncv_tj_per_t": 0.025,
       "ef_t_per_tj": 94.6, "oxidation_factor": 1, "biomass_fraction": 0}
      # gaseous fuels: "ad_1000nm3" with "ncv_tj_per_1000nm3" instead
      {"type": "process", "ad_t": 1000, "ef_t_per_t": 0.44, "conversion_factor": 1}
      {"type": "mass_balance", "ad_t": 500, "carbon_content_t_per_t": 0.04,
       "output": false}

  (``name`` optional; ``oxidation_factor`` OF and ``conversion_factor`` CF default 1,
  ``biomass_fraction`` BF defaults 0, OF and BF in [0, 1]; ``output`` true for a
  mass-balance stream leaving the process: product, slag, exported gas).
  The corrections of Annex III default to 0: measurable heat imported / exported as
  emissions ``heat_imported_emissions_t`` / ``heat_exported_emissions_t`` [tCO2e] OR
  as ``heat_imported_tj`` × ``heat_imported_ef_t_per_tj`` / ``heat_exported_tj`` ×
  ``heat_exported_ef_t_per_tj`` [TJ × tCO2e/TJ]; waste gas imported / exported
  ``waste_gas_imported_tj`` / ``waste_gas_exported_tj`` [TJ, V_WG × NCV_WG] valued at
  ``waste_gas_ef_t_per_tj`` EF_NG [tCO2e/TJ], the standard factor of natural gas
  (56.1, IR 2025/2547 Annex II point G): imported gas with no efficiency correction
  (Equation 53), exported gas × ``waste_gas_corr_eta`` Corr_η [1] (Equation 54; default
  the standard 0.667, recorded as a trace factor when used); exported electricity as
  ``electricity_exported_emissions_t`` [tCO2e] OR ``electricity_exported_mwh`` ×
  ``electricity_exported_ef_t_per_mwh`` [MWh × tCO2e/MWh].
- ``electricity`` (optional, default 0): electricity consumed [MWh] and its emission
  factor [tCO2e/MWh].
- ``good.cn_code`` must be a good of Reg. 2023/956 Annex I (see
  :mod:`methodologies.cbam_goods`); any other code is refused naming it.
- ``precursors`` (optional): relevant precursors consumed, each with its mass M_i [t],
  origin (ISO 3166-1 alpha-2, an assigned code), CN code (an Annex I good: Reg. 2023/956
  Annex IV pt 3 as replaced by Reg. 2025/2083 counts only those) and EITHER its own SEE
  (``see_direct_t_per_t``, ``see_indirect_t_per_t`` [tCO2e/t]) OR
  ``installation``: the supplying installation's own case (same keys as this one,
  without ``methodology`` and ``uncertainty``; ``cn_code`` may then be left out and
  is taken from the nested ``good``).  Nested cases recurse to any depth (at most
  16 levels); a nested ``installation_id`` equal to an ancestor's is a cycle and
  raises :class:`PrecursorCycleError` naming it.
- ``tier`` (optional): data-quality tier of the inputs, ``disclosed`` (default),
  ``verified`` or ``modelled`` (docs/design.md §2).
- Any number above may be an uncertain number (``{"value": x, "uncertainty":
  {"relative": 0.05}}`` or ``{"dist": ...}``); then, or when ``uncertainty`` is given,
  the result carries a 5–95 % interval of ``see_total_t_per_t``.  ``uncertainty``
  takes ``method`` (auto, monte_carlo, analytic), ``seed``, ``samples`` and
  ``export_samples``; see :mod:`methodologies.uncertainty`.

Formulas (IR 2025/2547 Annexes II and III; docs/method-cbam.md)::

    combustion    Em = AD [t or 1000 Nm³] × NCV [TJ/t or TJ/1000 Nm³] × EF [tCO2/TJ]
                       × OF × (1 − BF)
    process       Em = AD [t] × EF [tCO2/t] × CF
    mass balance  Em = 3.664 [tCO2/tC] × AD [t] × C [tC/t], negative for outputs
    DirEm        = Σ_streams Em
    AttrEm_dir   = max(0, DirEm + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp
                   − Em_el,exp)                                      (Equation 55)
                   with WG_corr,imp = V_WG,imp [TJ] × EF_NG [tCO2e/TJ]   (Equation 53)
                        WG_corr,exp = V_WG,exp [TJ] × EF_NG × Corr_η     (Equation 54)
                   Em_H = Q_H [TJ] × EF_H [tCO2e/TJ], Em_el,exp = E_el,exp [MWh] × EF_el
    AttrEm_indir = E_el,consumed [MWh] × EF_el [tCO2e/MWh]
    SEE_dir      = (AttrEm_dir   + Σ_i M_i × SEE_i,dir)           / AL
    SEE_indir    = (AttrEm_indir + Σ_i M_i × SEE_i,indir,carried) / AL
    direct-only good:  SEE_indir,counted  = Σ_i M_i × SEE_i,indir,carried / AL
                       SEE_indir,reported = AttrEm_indir / AL
    other goods:       SEE_indir,counted  = SEE_indir,  SEE_indir,reported = 0
    SEE_total    = SEE_dir + SEE_indir,counted

"Where AttrEm_Dir is calculated to have a negative value, it shall be set to zero"
(IR 2025/2547 Annex III A.3).  A precursor of exempt origin (EU-27, or Iceland,
Liechtenstein, Norway, Switzerland: Reg. 2023/956 Annex III pt 1) counts zero.  Three
channels (IR 2025/2547 Annex I pt 3.1): a precursor that is itself an Annex II good
(Reg. 2023/956; direct emissions only) has its own indirect emissions dropped; a
non-Annex II precursor (clinker, agglomerated ore 2601 12 00, fertiliser intermediates)
carries its indirect emissions, and they COUNT in the total even of a direct-only good
("the indirect emissions of those precursors will be included in the calculation of the
embedded emissions of the complex goods").  The good's own indirect emissions count
for a good outside Annex II and are reported only for an Annex II good.  A nested Annex
II precursor brings into an Annex II good the indirect emissions counted in it (those
of its own non-Annex II precursors), and into any other good none.  In-scope
ferro-alloys (7202 11/19/41/49/60) are Annex II goods.  A nested precursor
installation contributes its own SEE_dir and SEE_indir (computed by these same rules);
the trace keeps each supplying installation apart: its steps carry the formula id
prefixed by its place in the chain (``precursors[0].installation:cbam.installation.
see_direct``), followed by the step that uses its result.  All arithmetic is float64
without rounding.

Outputs: ``see_direct_t_per_t``, ``see_indirect_t_per_t`` (all indirect: counted +
reported only), ``see_total_t_per_t``, ``see_indirect_counted_t_per_t``,
``see_indirect_reported_only_t_per_t``, ``direct_only``, ``tier``,
``attributed_direct_emissions_t``,
``attributed_indirect_emissions_t``, ``precursor_direct_emissions_t``,
``precursor_indirect_emissions_t``, ``reason``; with source streams also
``direct_emissions_t``; with uncertainty also ``interval_low_t_per_t``,
``interval_high_t_per_t``, ``uncertainty_method`` and ``interval`` (method, seed,
samples, mean, sd), and ``samples_t_per_t`` (outside the trace) on request.

Structure: the formula functions below take numbers or numpy arrays and know nothing
of the case; ``normalise_case`` owns the case format; ``attribute`` evaluates a
normalised case (with any input replaced by an array of draws, for the uncertainty
propagation); ``compute_installation`` wires them and builds the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from methodologies import casefields as cf
from methodologies import uncertainty as unc
from methodologies.cbam_goods import (
    exempt_origin_rule,
    goods_sector,
    is_direct_only,
    is_exempt_origin,
    normalise_cn_code,
    normalise_origin,
)
from methodologies.errors import CaseError
from methodologies.spec import (
    CARBON,
    EF_NG,
    ELECTRICITY_EF,
    FUEL_EF,
    GOOD_T,
    HEAT_EF,
    NCV_NM3,
    NCV_T,
    PERCENT,
    PROCESS_EF,
    SEE,
    CaseSpec,
    Range,
    fraction,
    seal_outputs,
)
from methodologies.trace import factor_item, input_item, step_item

METHODOLOGY_ID = "cbam.installation"
VERSION = "2025.2547.2"
SUMMARY = (
    "Specific embedded emissions of a good from installation data "
    "(IR 2025/2547 Annex III): attributed emissions plus precursors over activity level"
)
TIERS = ("disclosed", "verified", "modelled")

#: tCO2 per tC: molar masses 44.010 / 12.011 rounded as the monitoring rules give it
#: (IR 2025/2547 Annex II, mass balance; same factor as IR (EU) 2018/2066 Art. 25).
CO2_PER_C = 3.664
CO2_PER_C_SOURCE = "IR 2025/2547 Annex II (mass balance: 3.664 tCO2/tC)"
#: Standard Corr_η of exported waste gas (IR 2025/2547 Annex III A.2.3, Equation 54).
CORR_ETA_STANDARD = 0.667
CORR_ETA_SOURCE = "IR 2025/2547 Annex III A.2.3 (Equation 54: standard Corr_η = 0,667)"
#: Deepest precursor chain accepted (a guard against self-referencing objects).
MAX_DEPTH = 16

_CASE_KEYS = frozenset(
    {
        "methodology",
        "installation_id",
        "good",
        "direct",
        "electricity",
        "precursors",
        "tier",
        "uncertainty",
    }
)
_NESTED_KEYS = _CASE_KEYS - {"uncertainty"}
_GOOD_KEYS = frozenset({"cn_code", "activity_level_t"})
#: Keys of ``direct`` with their units; all but the first default to 0.
DIRECT_KEYS: dict[str, str] = {
    "attributed_emissions_t": "tCO2e",
    "heat_imported_emissions_t": "tCO2e",
    "heat_exported_emissions_t": "tCO2e",
    "waste_gas_imported_tj": "TJ",
    "waste_gas_exported_tj": "TJ",
    "waste_gas_ef_t_per_tj": "tCO2e/TJ",
    "electricity_exported_emissions_t": "tCO2e",
}
#: Optional keys of ``direct``: kept in the normalised case only when given.  Each
#: quantity × factor pair replaces the emissions key named third.
DIRECT_PAIRS: dict[str, tuple[str, str, str, str, str]] = {
    # name: (quantity key, unit, factor key, factor unit, replaced emissions key)
    "heat_imported": (
        "heat_imported_tj",
        "TJ",
        "heat_imported_ef_t_per_tj",
        "tCO2e/TJ",
        "heat_imported_emissions_t",
    ),
    "heat_exported": (
        "heat_exported_tj",
        "TJ",
        "heat_exported_ef_t_per_tj",
        "tCO2e/TJ",
        "heat_exported_emissions_t",
    ),
    "electricity_exported": (
        "electricity_exported_mwh",
        "MWh",
        "electricity_exported_ef_t_per_mwh",
        "tCO2e/MWh",
        "electricity_exported_emissions_t",
    ),
}
_OPTIONAL_DIRECT: dict[str, str] = {
    "waste_gas_corr_eta": "1",
    **{p[0]: p[1] for p in DIRECT_PAIRS.values()},
    **{p[2]: p[3] for p in DIRECT_PAIRS.values()},
}
ELECTRICITY_KEYS: dict[str, str] = {"consumed_mwh": "MWh", "ef_t_per_mwh": "tCO2e/MWh"}
PRECURSOR_NUMBERS: dict[str, str] = {
    "mass_t": "t",
    "see_direct_t_per_t": "tCO2e/t",
    "see_indirect_t_per_t": "tCO2e/t",
}
#: Source-stream keys by type: key → (unit, default or None when required).
STREAM_KEYS: dict[str, dict[str, tuple[str, float | None]]] = {
    "combustion": {
        "ef_t_per_tj": ("tCO2/TJ", None),
        "oxidation_factor": ("1", 1.0),
        "biomass_fraction": ("1", 0.0),
    },
    "process": {
        "ad_t": ("t", None),
        "ef_t_per_t": ("tCO2/t", None),
        "conversion_factor": ("1", 1.0),
    },
    "mass_balance": {"ad_t": ("t", None), "carbon_content_t_per_t": ("tC/t", None)},
}
_COMBUSTION_BASES = (
    ("ad_t", "ncv_tj_per_t", "t", "TJ/t"),
    ("ad_1000nm3", "ncv_tj_per_1000nm3", "1000 Nm³", "TJ/1000 Nm³"),
)
STREAM_FORMULAS: dict[str, str] = {
    "combustion": "Em = AD × NCV × EF × OF × (1 − BF)",
    "process": "Em = AD × EF × CF",
    "mass_balance": "Em = 3.664 × AD × C × (−1 if output else 1)",
}


class PrecursorCycleError(CaseError):
    """A precursor's supplying installation is one of its own ancestors."""

    def __init__(self, key: str, chain: list[str]) -> None:
        self.chain = chain
        super().__init__(
            key, "a precursor chain without cycles", "precursor cycle: " + " → ".join(chain)
        )


# --------------------------------------------------------------------------- formulas


def combustion_emissions(
    activity: Any,
    ncv: Any,
    ef_t_per_tj: Any,
    oxidation_factor: Any = 1.0,
    biomass_fraction: Any = 0.0,
) -> Any:
    """Em [tCO2] = AD [t or 1000 Nm³] × NCV [TJ/t or TJ/1000 Nm³] × EF [tCO2/TJ] × OF [1]
    × (1 − BF [1]).  Reference: IR 2025/2547 Annex II (calculation-based approach,
    combustion emissions)."""
    return activity * ncv * ef_t_per_tj * oxidation_factor * (1.0 - biomass_fraction)


def process_emissions(activity_t: Any, ef_t_per_t: Any, conversion_factor: Any = 1.0) -> Any:
    """Em [tCO2] = AD [t] × EF [tCO2/t] × CF [1].  Reference: IR 2025/2547 Annex II
    (calculation-based approach, process emissions)."""
    return activity_t * ef_t_per_t * conversion_factor


def mass_balance_emissions(activity_t: Any, carbon_t_per_t: Any, output: Any = False) -> Any:
    """Em [tCO2] = 3.664 [tCO2/tC] × AD [t] × C [tC/t], negative for a stream leaving the
    process (``output``: product, slag, exported gas).  Reference: IR 2025/2547
    Annex II (mass balance approach)."""
    sign = np.where(np.asarray(output, dtype=bool), -1.0, 1.0)
    return sign * (CO2_PER_C * activity_t * carbon_t_per_t)


def direct_emissions(stream_emissions_t: list[Any]) -> Any:
    """DirEm [tCO2e] = Σ_j Em_j over the source streams, in case order.
    Reference: IR 2025/2547 Annex II."""
    total: Any = 0.0
    for em in stream_emissions_t:
        total = total + em
    return total


def quantity_emissions(quantity: Any, factor: Any) -> Any:
    """Em [tCO2e] = Q [TJ or MWh] × EF [tCO2e/TJ or tCO2e/MWh]: measurable heat or
    exported electricity valued at its emission factor.  Reference: IR 2025/2547
    Annex III (measurable heat flows; electricity exported)."""
    return quantity * factor


def waste_gas_imported_correction(energy_tj: Any, ef_ng_t_per_tj: Any) -> Any:
    """WG_corr,imp [tCO2e] = V_WG × NCV_WG [TJ] × EF_NG [tCO2e/TJ], with NO efficiency
    correction.  Reference: IR 2025/2547 Annex III A.2.3, Equation 53."""
    return energy_tj * ef_ng_t_per_tj


def waste_gas_exported_correction(
    energy_tj: Any, ef_ng_t_per_tj: Any, corr_eta: Any = CORR_ETA_STANDARD
) -> Any:
    """WG_corr,exp [tCO2e] = V_WG,exp × NCV_WG [TJ] × EF_NG [tCO2e/TJ] × Corr_η [1],
    standard Corr_η = 0.667.  Reference: IR 2025/2547 Annex III A.2.3, Equation 54."""
    return energy_tj * ef_ng_t_per_tj * corr_eta


def attributed_direct_emissions(
    direct_emissions_t: Any,
    heat_imported_t: Any = 0.0,
    heat_exported_t: Any = 0.0,
    waste_gas_imported_tj: Any = 0.0,
    waste_gas_exported_tj: Any = 0.0,
    waste_gas_ef_t_per_tj: Any = 0.0,
    electricity_exported_t: Any = 0.0,
    waste_gas_corr_eta: Any = CORR_ETA_STANDARD,
) -> Any:
    """AttrEm_dir [tCO2e] = max(0, DirEm + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp
    − Em_el,exp), with WG_corr,imp = V_WG,imp [TJ] × EF_NG (Equation 53) and
    WG_corr,exp = V_WG,exp [TJ] × EF_NG × Corr_η (Equation 54: the efficiency correction
    applies to exported gas only).  "Where AttrEm_Dir is calculated to have a negative
    value, it shall be set to zero."  Reference: IR 2025/2547 Annex III A.2.3 and A.3,
    Equation 55; docs/method-cbam.md."""
    wg_imported = waste_gas_imported_correction(waste_gas_imported_tj, waste_gas_ef_t_per_tj)
    wg_exported = waste_gas_exported_correction(
        waste_gas_exported_tj, waste_gas_ef_t_per_tj, waste_gas_corr_eta
    )
    raw = (
        direct_emissions_t
        + heat_imported_t
        - heat_exported_t
        + wg_imported
        - wg_exported
        - electricity_exported_t
    )
    clamped = np.maximum(raw, 0.0)
    return float(clamped) if np.ndim(clamped) == 0 else clamped


def attributed_indirect_emissions(consumed_mwh: Any, ef_t_per_mwh: Any) -> Any:
    """AttrEm_indir [tCO2e] = E_el,consumed [MWh] × EF_el [tCO2e/MWh].
    Reference: IR 2025/2547 Annex III."""
    return consumed_mwh * ef_t_per_mwh


def precursor_emissions(
    mass_t: np.ndarray,
    see_direct_t_per_t: np.ndarray,
    see_indirect_t_per_t: np.ndarray,
    eu_origin: np.ndarray,
    annex_ii: np.ndarray,
    annex_ii_indirect_t_per_t: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embedded emissions each precursor brings [tCO2e]: (M_i × SEE_i,dir,
    M_i × SEE_i,indir), zero for an exempt origin (``eu_origin``: EU-27 or Annex III
    point 1); for an Annex II precursor the indirect part is M_i ×
    ``annex_ii_indirect_t_per_t`` (default 0: its own indirect emissions are dropped).
    Precursors run along axis 0 (further axes, e.g. Monte Carlo draws, broadcast).
    Reference: Reg. 2023/956 Annex IV point 3 (as replaced by Reg. 2025/2083);
    IR 2025/2547 Annex I point 3.1; docs/method-cbam.md."""
    mass = np.asarray(mass_t, dtype=np.float64)
    extra = (1,) * max(mass.ndim - 1, 0)
    counted = ~np.asarray(eu_origin, dtype=bool).reshape(-1, *extra)
    direct = np.where(counted, mass * np.asarray(see_direct_t_per_t, dtype=np.float64), 0.0)
    annex = np.asarray(annex_ii, dtype=bool).reshape(-1, *extra)
    dropped = (
        np.zeros_like(mass)
        if annex_ii_indirect_t_per_t is None
        else np.asarray(annex_ii_indirect_t_per_t, dtype=np.float64)
    )
    see_ind = np.where(annex, dropped, np.asarray(see_indirect_t_per_t, dtype=np.float64))
    indirect = np.where(counted, mass * see_ind, 0.0)
    return direct, indirect


def specific_embedded_emissions(
    attributed_t: Any, precursor_t: np.ndarray, activity_level_t: Any
) -> Any:
    """SEE [tCO2e/t] = (AttrEm + Σ_i M_i × SEE_i) / AL, precursors along axis 0.
    Reference: Reg. 2023/956 Annex IV §3 (complex goods); IR 2025/2547 Annex III."""
    pre = np.asarray(precursor_t, dtype=np.float64)
    pre_sum = np.sum(pre, axis=0, dtype=np.float64) if pre.size else 0.0
    if np.ndim(pre_sum) == 0:
        pre_sum = float(pre_sum)
    return (attributed_t + pre_sum) / activity_level_t


def indirect_channels(
    attributed_indirect_t: Any, precursor_indirect_t: Any, activity_level_t: Any, direct_only: bool
) -> tuple[Any, Any]:
    """(SEE_indir,counted, SEE_indir,reported-only) [tCO2e/t].

    For a good not in Annex II every indirect emission counts: ((AttrEm_indir + Σ carried
    precursor indirect) / AL, 0).  For an Annex II (direct-only) good its own indirect
    emissions are reported only, but the indirect emissions of its non-Annex II
    precursors "will be included in the calculation of the embedded emissions of the
    complex goods": (Σ carried precursor indirect / AL, AttrEm_indir / AL).
    Reference: Reg. 2023/956 Art. 7(1) and Annex II; IR 2025/2547 Annex I point 3.1."""
    if direct_only:
        return precursor_indirect_t / activity_level_t, attributed_indirect_t / activity_level_t
    return (attributed_indirect_t + precursor_indirect_t) / activity_level_t, (
        0.0 * attributed_indirect_t
    )


def total_see(see_direct: Any, see_indirect_counted: Any) -> Any:
    """SEE_total [tCO2e/t] = SEE_dir + SEE_indir,counted (the indirect that counts: all
    of it for a good outside Annex II; only the carried non-Annex II precursors' for an
    Annex II good).  Reference: Reg. 2023/956 Annex II and Annex IV points 2–3;
    IR 2025/2547 Annex I point 3.1."""
    return see_direct + see_indirect_counted


# --------------------------------------------------------------------------- case


def _number(obj: Mapping[str, Any], key: str, path: str, unit: str, **kw: Any) -> Any:
    return unc.parse_number(obj, key, path, unit, minimum=0.0, **kw)


def _fraction(obj: Mapping[str, Any], key: str, path: str, default: float) -> Any:
    value = _number(obj, key, path, "1 (fraction in [0, 1])", default=default)
    if unc.nominal(value) > 1.0:
        raise CaseError(
            cf.join(path, key), "a number in [0, 1] (fraction)", f"got {unc.nominal(value)!r}"
        )
    return value


def _source_stream(obj: object, path: str) -> dict[str, Any]:
    cf.mapping(obj, path)
    kind = obj.get("type")
    if kind not in STREAM_KEYS:
        raise CaseError(cf.join(path, "type"), "one of " + ", ".join(STREAM_KEYS), f"got {kind!r}")
    allowed = {"type", "name", *STREAM_KEYS[kind], *(("output",) if kind == "mass_balance" else ())}
    out: dict[str, Any] = {"type": kind}
    if kind == "combustion":
        allowed |= {k for base in _COMBUSTION_BASES for k in base[:2]}
        given = [b for b in _COMBUSTION_BASES if b[0] in obj or b[1] in obj]
        if len(given) != 1:
            raise CaseError(
                cf.join(path, "ad_t"),
                "ad_t with ncv_tj_per_t [t, TJ/t] or "
                "ad_1000nm3 with ncv_tj_per_1000nm3 [1000 Nm³, TJ/1000 Nm³]",
                "missing" if not given else "both bases given",
            )
        ad, ncv, ad_unit, ncv_unit = given[0]
        out[ad] = _number(obj, ad, path, ad_unit)
        out[ncv] = _number(obj, ncv, path, ncv_unit)
    cf.only_keys(obj, frozenset(allowed), path)
    if "name" in obj:
        out["name"] = cf.text(obj, "name", path, "text")
    for key, (unit, default) in STREAM_KEYS[kind].items():
        if unit == "1":
            out[key] = (
                _fraction(obj, key, path, default)
                if key != "conversion_factor"
                else _number(obj, key, path, unit, default=default)
            )
        else:
            out[key] = _number(
                obj, key, path, unit, **({} if default is None else {"default": default})
            )
    if kind == "mass_balance":
        output = obj.get("output", False)
        if not isinstance(output, bool):
            raise CaseError(
                cf.join(path, "output"), "true (leaves the process) or false", f"got {output!r}"
            )
        out["output"] = output
    return out


def _direct(case: Mapping[str, Any]) -> dict[str, Any]:
    obj = cf.mapping(case.get("direct", {}), "direct")
    cf.only_keys(obj, frozenset({*DIRECT_KEYS, *_OPTIONAL_DIRECT, "source_streams"}), "direct")
    out: dict[str, Any] = {}
    if "source_streams" in obj:
        if "attributed_emissions_t" in obj:
            raise CaseError(
                "direct.source_streams",
                "either direct.attributed_emissions_t [tCO2e] or direct.source_streams, not both",
                "both given",
            )
        streams = obj["source_streams"]
        if not isinstance(streams, list) or not streams:
            raise CaseError(
                "direct.source_streams", "a non-empty list of source streams", f"got {streams!r}"
            )
        out["source_streams"] = [
            _source_stream(s, f"direct.source_streams[{i}]") for i, s in enumerate(streams)
        ]
    for key, unit in DIRECT_KEYS.items():
        if key == "attributed_emissions_t" and "source_streams" in out:
            continue
        out[key] = _number(
            obj,
            key,
            "direct",
            unit,
            **({} if key == "attributed_emissions_t" else {"default": 0.0}),
        )
    for q_key, q_unit, f_key, f_unit, replaced in DIRECT_PAIRS.values():
        if q_key in obj or f_key in obj:
            if replaced in obj:
                raise CaseError(
                    f"direct.{q_key}",
                    f"either direct.{replaced} [tCO2e] or "
                    f"direct.{q_key} × direct.{f_key}, not both",
                    "both given",
                )
            out[q_key] = _number(obj, q_key, "direct", q_unit)
            out[f_key] = _number(obj, f_key, "direct", f_unit)
    if "waste_gas_corr_eta" in obj:
        out["waste_gas_corr_eta"] = _number(obj, "waste_gas_corr_eta", "direct", "1")
    return out


def _electricity(case: Mapping[str, Any]) -> dict[str, Any]:
    obj = cf.mapping(case.get("electricity", {}), "electricity")
    cf.only_keys(obj, frozenset(ELECTRICITY_KEYS), "electricity")
    return {k: _number(obj, k, "electricity", u, default=0.0) for k, u in ELECTRICITY_KEYS.items()}


def _precursor(obj: object, path: str, ancestors: tuple[str, ...], depth: int) -> dict[str, Any]:
    cf.mapping(obj, path)
    cf.only_keys(obj, frozenset({"cn_code", "origin", "installation", *PRECURSOR_NUMBERS}), path)
    out: dict[str, Any] = {
        "origin": normalise_origin(obj.get("origin"), f"{path}.origin"),
        "mass_t": _number(obj, "mass_t", path, "t"),
    }
    if "installation" in obj:
        given = [k for k in ("see_direct_t_per_t", "see_indirect_t_per_t") if k in obj]
        if given:
            raise CaseError(
                f"{path}.{given[0]}",
                f"either {path}.installation or the precursor's SEE [tCO2e/t], not both",
                "both given",
            )
        nested = _normalise(obj["installation"], f"{path}.installation", ancestors, depth + 1)
        out["installation"] = nested
        cn = nested["good"]["cn_code"]
        if obj.get("cn_code") is not None:
            given_cn = normalise_cn_code(obj.get("cn_code"), f"{path}.cn_code")
            if given_cn != cn:
                raise CaseError(
                    f"{path}.cn_code",
                    f"the CN code of {path}.installation.good ({cn})",
                    f"got {given_cn}",
                )
        out["cn_code"] = cn
    else:
        out["cn_code"] = normalise_cn_code(obj.get("cn_code"), f"{path}.cn_code")
        _require_annex_i(out["cn_code"], f"{path}.cn_code", precursor=True)
        for key in ("see_direct_t_per_t", "see_indirect_t_per_t"):
            out[key] = _number(obj, key, path, PRECURSOR_NUMBERS[key])
    return out


def _require_annex_i(cn_code: str, key: str, *, precursor: bool = False) -> None:
    """Refuse a good (or precursor) outside Reg. 2023/956 Annex I, naming the code.
    Only Annex I precursors count in a complex good (Reg. 2023/956 Annex IV point 3 as
    replaced by Reg. 2025/2083 Annex I)."""
    try:
        goods_sector(cn_code, key)
    except CaseError as exc:
        what = "a precursor listed in Annex I" if precursor else "a CBAM good"
        raise CaseError(key, f"{what} (Reg. (EU) 2023/956 Annex I)", exc.reason) from exc


def _normalise(case: object, path: str, ancestors: tuple[str, ...], depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise CaseError(
            path,
            f"a precursor chain at most {MAX_DEPTH} levels deep",
            "too deep (a self-referencing case?)",
        )
    nested = bool(path)
    cf.mapping(case, path)
    cf.only_keys(case, _NESTED_KEYS if nested else _CASE_KEYS, path)
    p = lambda name: cf.join(path, name)  # noqa: E731
    if nested and case.get("methodology", METHODOLOGY_ID) != METHODOLOGY_ID:
        raise CaseError(
            p("methodology"), f"{METHODOLOGY_ID!r} or absent", f"got {case.get('methodology')!r}"
        )
    out: dict[str, Any] = {}
    if "installation_id" in case:
        ident = cf.text(case, "installation_id", path, "installation identifier (text)")
        if ident in ancestors:
            chain = [*ancestors[ancestors.index(ident) :], ident]
            raise PrecursorCycleError(p("installation_id"), chain)
        out["installation_id"] = ident
        ancestors = (*ancestors, ident)
    good = cf.mapping(case.get("good"), p("good"))
    cf.only_keys(good, _GOOD_KEYS, p("good"))
    activity = _number(good, "activity_level_t", p("good"), "t")
    if unc.nominal(activity) <= 0:
        raise CaseError(
            p("good.activity_level_t"), "a number > 0 in t", f"got {unc.nominal(activity)!r}"
        )
    precursors = case.get("precursors", [])
    if not isinstance(precursors, list):
        raise CaseError(p("precursors"), "a list of precursor objects", f"got {precursors!r}")
    tier = cf.text(case, "tier", path, " or ".join(TIERS), default="disclosed")
    if tier not in TIERS:
        raise CaseError(p("tier"), " or ".join(TIERS), f"got {tier!r}")
    try:
        direct, electricity = _direct(case), _electricity(case)
    except CaseError as exc:  # name the key from the root of the case
        if not nested:
            raise
        raise CaseError(p(exc.key), exc.expected, exc.reason) from exc
    cn_code = normalise_cn_code(good.get("cn_code"), p("good.cn_code"))
    _require_annex_i(cn_code, p("good.cn_code"), precursor=nested)
    out.update(
        {
            "direct": direct,
            "electricity": electricity,
            "good": {"activity_level_t": activity, "cn_code": cn_code},
            "precursors": [
                _precursor(x, p(f"precursors[{i}]"), ancestors, depth)
                for i, x in enumerate(precursors)
            ],
            "tier": tier,
        }
    )
    if not nested:
        out["methodology"] = METHODOLOGY_ID
    return out


def normalise_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The complete normalised case: every optional key filled with its default (keys
    introduced after version 2025.2547.1's first release appear only when given, so
    older cases keep their bytes).  Raises :class:`CaseError` or
    :class:`PrecursorCycleError`."""
    norm = _normalise(case, "", (), 0)
    leaves = unc.uncertain_leaves(norm)
    if leaves or "uncertainty" in case:
        norm["uncertainty"] = unc.parse_settings(case.get("uncertainty"))
    return norm


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class PrecursorContribution:
    """One precursor of one installation: what it brings and why."""

    cn_code: str
    origin: str
    mass_t: Any
    see_direct_t_per_t: Any
    see_indirect_t_per_t: Any
    eu_origin: bool  # exempt origin: EU-27 or Reg. 2023/956 Annex III point 1
    annex_ii: bool
    direct_t: Any  # counted direct emissions [tCO2e]
    indirect_t: Any  # counted indirect emissions [tCO2e]
    installation: Attribution | None  # the supplying installation, when given


@dataclass(frozen=True)
class Attribution:
    """Every intermediate of one installation's SEE (numbers, or arrays of draws)."""

    path: str
    installation_id: str | None
    cn_code: str
    activity_level_t: Any
    stream_emissions_t: tuple[Any, ...]
    direct_emissions_t: Any
    attributed_direct_emissions_t: Any
    attributed_indirect_emissions_t: Any
    precursors: tuple[PrecursorContribution, ...]
    precursor_direct_t: Any
    precursor_indirect_t: Any
    see_direct_t_per_t: Any
    see_indirect_t_per_t: Any
    see_total_t_per_t: Any
    direct_only: bool
    see_indirect_counted_t_per_t: Any = 0.0
    see_indirect_reported_only_t_per_t: Any = 0.0


def _stream_emissions(stream: Mapping[str, Any], v: Any) -> Any:
    kind = stream["type"]
    if kind == "combustion":
        ad, ncv = (
            ("ad_t", "ncv_tj_per_t") if "ad_t" in stream else ("ad_1000nm3", "ncv_tj_per_1000nm3")
        )
        return combustion_emissions(
            v(ad), v(ncv), v("ef_t_per_tj"), v("oxidation_factor"), v("biomass_fraction")
        )
    if kind == "process":
        return process_emissions(v("ad_t"), v("ef_t_per_t"), v("conversion_factor"))
    return mass_balance_emissions(v("ad_t"), v("carbon_content_t_per_t"), stream["output"])


def _getter(node: Mapping[str, Any], path: str, draws: Mapping[str, Any]) -> Any:
    def value(key: str) -> Any:
        full = cf.join(path, key)
        return draws[full] if full in draws else unc.nominal(node[key])

    return value


def _nominal_inputs(node: Mapping[str, Any]) -> dict[str, Any]:
    return {k: unc.nominal(v) for k, v in node.items()}


def attribute(
    node: Mapping[str, Any],
    path: str = "",
    draws: Mapping[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
) -> Attribution:
    """Evaluate a normalised case (or nested installation at ``path``).

    ``draws`` replaces inputs (by dotted key from the root) with arrays, e.g. Monte
    Carlo draws; every formula broadcasts.  With ``steps`` (a list), the trace steps
    are appended to it, nested installations' steps first and prefixed by their path.
    """
    draws = draws or {}
    d, el, good = node["direct"], node["electricity"], node["good"]
    vd = _getter(d, cf.join(path, "direct"), draws)
    vel = _getter(el, cf.join(path, "electricity"), draws)
    tag = lambda fid: f"{path}:{fid}" if path else fid  # noqa: E731
    nominal_run = steps is not None and not draws

    streams: list[Any] = []
    for j, s in enumerate(d.get("source_streams", [])):
        em = _stream_emissions(s, _getter(s, cf.join(path, f"direct.source_streams[{j}]"), draws))
        streams.append(float(em) if np.ndim(em) == 0 else em)
        if nominal_run:
            steps.append(
                step_item(
                    tag(f"cbam.installation.source_stream[{j}]"),
                    f"{s['type']}: {STREAM_FORMULAS[s['type']]}",
                    _nominal_inputs(s),
                    streams[-1],
                    "tCO2e",
                )
            )
    dir_em = direct_emissions(streams) if streams else vd("attributed_emissions_t")
    if streams and nominal_run:
        steps.append(
            step_item(
                tag("cbam.installation.direct_emissions"),
                "DirEm = Σ_j Em_j (source streams)",
                {"source_streams_t": list(streams)},
                dir_em,
                "tCO2e",
            )
        )
    resolved = {}
    for name, (q_key, _, f_key, _, replaced) in DIRECT_PAIRS.items():
        if q_key in d:
            resolved[replaced] = quantity_emissions(vd(q_key), vd(f_key))
            if nominal_run:
                steps.append(
                    step_item(
                        tag(f"cbam.installation.{name}"),
                        f"{replaced} = {q_key} × {f_key}",
                        {q_key: vd(q_key), f_key: vd(f_key)},
                        resolved[replaced],
                        "tCO2e",
                    )
                )
        else:
            resolved[replaced] = vd(replaced)
    eta = vd("waste_gas_corr_eta") if "waste_gas_corr_eta" in d else CORR_ETA_STANDARD
    attr_dir = attributed_direct_emissions(
        dir_em,
        resolved["heat_imported_emissions_t"],
        resolved["heat_exported_emissions_t"],
        vd("waste_gas_imported_tj"),
        vd("waste_gas_exported_tj"),
        vd("waste_gas_ef_t_per_tj"),
        resolved["electricity_exported_emissions_t"],
        eta,
    )
    attr_ind = attributed_indirect_emissions(vel("consumed_mwh"), vel("ef_t_per_mwh"))

    contributions = []
    for i, p in enumerate(node["precursors"]):
        p_path = cf.join(path, f"precursors[{i}]")
        vp = _getter(p, p_path, draws)
        nested = None
        if "installation" in p:
            nested = attribute(p["installation"], f"{p_path}.installation", draws, steps)
            see_d, see_i = nested.see_direct_t_per_t, nested.see_indirect_t_per_t
        else:
            see_d, see_i = vp("see_direct_t_per_t"), vp("see_indirect_t_per_t")
        contributions.append((p, vp("mass_t"), see_d, see_i, nested))
    direct_only = is_direct_only(good["cn_code"])
    eu = np.array([is_exempt_origin(c[0]["origin"]) for c in contributions], dtype=bool)
    annex_ii = np.array([is_direct_only(c[0]["cn_code"]) for c in contributions], dtype=bool)
    # An Annex II precursor brings the indirect emissions counted in it (those of its own
    # non-Annex II precursors) into an Annex II good; into any other good, none.
    carried_annex_ii = [
        c[4].see_indirect_counted_t_per_t if c[4] is not None and direct_only else 0.0
        for c in contributions
    ]
    if contributions:
        shape = np.broadcast_shapes(
            *[np.shape(x) for c in contributions for x in c[1:4]],
            *[np.shape(x) for x in carried_annex_ii],
        )
        pre_dir, pre_ind = precursor_emissions(
            *(_stacked([c[k] for c in contributions], shape) for k in (1, 2, 3)),
            eu,
            annex_ii,
            _stacked(carried_annex_ii, shape),
        )
    else:
        pre_dir = pre_ind = np.zeros(0, dtype=np.float64)
    al = _getter(good, cf.join(path, "good"), draws)("activity_level_t")
    see_dir = specific_embedded_emissions(attr_dir, pre_dir, al)
    see_ind = specific_embedded_emissions(attr_ind, pre_ind, al)
    counted, reported_only = indirect_channels(attr_ind, _total(pre_ind), al, direct_only)
    see_tot = total_see(see_dir, counted)

    precursors = tuple(
        PrecursorContribution(
            p["cn_code"],
            p["origin"],
            m,
            sd,
            si,
            bool(eu[i]),
            bool(annex_ii[i]),
            _item(pre_dir, i),
            _item(pre_ind, i),
            nested,
        )
        for i, (p, m, sd, si, nested) in enumerate(contributions)
    )
    result = Attribution(
        path=path,
        installation_id=node.get("installation_id"),
        cn_code=good["cn_code"],
        activity_level_t=al,
        stream_emissions_t=tuple(streams),
        direct_emissions_t=dir_em,
        attributed_direct_emissions_t=attr_dir,
        attributed_indirect_emissions_t=attr_ind,
        precursors=precursors,
        precursor_direct_t=_total(pre_dir),
        precursor_indirect_t=_total(pre_ind),
        see_direct_t_per_t=see_dir,
        see_indirect_t_per_t=see_ind,
        see_total_t_per_t=see_tot,
        direct_only=direct_only,
        see_indirect_counted_t_per_t=counted,
        see_indirect_reported_only_t_per_t=reported_only,
    )
    if nominal_run:
        steps += _steps(node, result, resolved, eta, tag)
    return result


def _stacked(values: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """One row per precursor, each broadcast to ``shape`` (() or the draws' shape)."""
    return np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), shape) for x in values])


def _item(arr: np.ndarray, i: int) -> Any:
    return float(arr[i]) if arr.ndim == 1 else arr[i]


def _total(arr: np.ndarray) -> Any:
    total = np.sum(arr, axis=0, dtype=np.float64) if arr.size else 0.0
    return float(total) if np.ndim(total) == 0 else total


def _steps(
    node: Mapping[str, Any], r: Attribution, resolved: Mapping[str, float], eta: float, tag: Any
) -> list[dict[str, Any]]:
    d, el = node["direct"], node["electricity"]
    dir_inputs = {k: unc.nominal(d[k]) for k in DIRECT_KEYS if k in d}
    dir_inputs.update(resolved)
    if "source_streams" in d:
        dir_inputs["attributed_emissions_t"] = r.direct_emissions_t
    dir_inputs["waste_gas_corr_eta"] = eta
    steps = [
        step_item(
            tag("cbam.installation.attributed_direct"),
            "AttrEm_dir = max(0, DirEm + Em_H,imp − Em_H,exp + V_WG,imp × EF_NG "
            "− V_WG,exp × EF_NG × Corr_η − Em_el,exp) (IR 2025/2547 Annex III "
            "Equations 53–55)",
            dir_inputs,
            r.attributed_direct_emissions_t,
            "tCO2e",
        ),
        step_item(
            tag("cbam.installation.attributed_indirect"),
            "AttrEm_indir = E_el,consumed × EF_el",
            _nominal_inputs(el),
            r.attributed_indirect_emissions_t,
            "tCO2e",
        ),
    ]
    for i, (p, c) in enumerate(zip(node["precursors"], r.precursors, strict=True)):
        rule = (
            "exempt origin (EU-27 or Reg. 2023/956 Annex III pt 1): counts zero"
            if c.eu_origin
            else "Annex II precursor: own indirect dropped, counted upstream indirect carried"
            if c.annex_ii and c.installation is not None and r.direct_only
            else "Annex II precursor: indirect dropped"
            if c.annex_ii
            else "non-Annex II precursor: direct and indirect carried (counted)"
        )
        inputs = {
            "cn_code": p["cn_code"],
            "origin": p["origin"],
            "mass_t": c.mass_t,
            "see_direct_t_per_t": c.see_direct_t_per_t,
            "see_indirect_t_per_t": c.see_indirect_t_per_t,
        }
        if c.installation is not None:
            inputs["installation"] = c.installation.path
            inputs["installation_id"] = c.installation.installation_id
        steps.append(
            step_item(
                tag(f"cbam.installation.precursor[{i}]"),
                f"(M × SEE_dir, M × SEE_indir); {rule}",
                inputs,
                [c.direct_t, c.indirect_t],
                "tCO2e",
            )
        )
    steps += [
        step_item(
            tag("cbam.installation.see_direct"),
            "SEE_dir = (AttrEm_dir + Σ M_i × SEE_i,dir) / AL",
            {
                "attributed_t": r.attributed_direct_emissions_t,
                "precursors_t": r.precursor_direct_t,
                "activity_level_t": r.activity_level_t,
            },
            r.see_direct_t_per_t,
            "tCO2e/t",
        ),
        step_item(
            tag("cbam.installation.see_indirect"),
            "SEE_indir = (AttrEm_indir + Σ M_i × SEE_i,indir) / AL",
            {
                "attributed_t": r.attributed_indirect_emissions_t,
                "precursors_t": r.precursor_indirect_t,
                "activity_level_t": r.activity_level_t,
            },
            r.see_indirect_t_per_t,
            "tCO2e/t",
        ),
        step_item(
            tag("cbam.installation.indirect_channels"),
            "direct-only (Reg. 2023/956 Annex II): SEE_indir,counted = Σ carried precursor "
            "indirect / AL, SEE_indir,reported = AttrEm_indir / AL; otherwise "
            "SEE_indir,counted = SEE_indir, SEE_indir,reported = 0 (IR 2025/2547 Annex I pt 3.1)",
            {
                "attributed_t": r.attributed_indirect_emissions_t,
                "precursors_t": r.precursor_indirect_t,
                "activity_level_t": r.activity_level_t,
                "direct_only": r.direct_only,
            },
            [r.see_indirect_counted_t_per_t, r.see_indirect_reported_only_t_per_t],
            "tCO2e/t",
        ),
        step_item(
            tag("cbam.installation.see_total"),
            "SEE_total = SEE_dir + SEE_indir,counted",
            {
                "see_direct_t_per_t": r.see_direct_t_per_t,
                "see_indirect_counted_t_per_t": r.see_indirect_counted_t_per_t,
            },
            r.see_total_t_per_t,
            "tCO2e/t",
        ),
    ]
    return steps


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class InstallationResult:
    """Every intermediate of a ``cbam.installation`` computation, and its trace."""

    case: dict[str, Any]
    attributed_direct_emissions_t: float
    attributed_indirect_emissions_t: float
    precursor_direct_t: tuple[float, ...]  # per precursor, case order [tCO2e]
    precursor_indirect_t: tuple[float, ...]
    see_direct_t_per_t: float
    see_indirect_t_per_t: float
    see_total_t_per_t: float
    direct_only: bool
    reason: str
    trace: dict[str, Any]
    trace_sha256: str
    attribution: Attribution | None = None  # the whole tree, nested installations too
    propagation: unc.Propagation | None = None  # the interval, when inputs are uncertain

    def outputs(self) -> dict[str, Any]:
        """The result's outputs (docs/interfaces.md naming), without the trace."""
        return self.trace["result"]

    def as_dict(self) -> dict[str, Any]:
        """Outputs plus ``trace`` and ``trace_sha256``: what ``run_case`` returns (and
        ``samples_t_per_t`` when the case asked to export the Monte Carlo draws)."""
        out = {**self.outputs(), "trace": self.trace, "trace_sha256": self.trace_sha256}
        settings = self.case.get("uncertainty")
        if (
            settings
            and settings["export_samples"]
            and self.propagation is not None
            and self.propagation.values is not None
        ):
            out["samples_t_per_t"] = self.propagation.values.tolist()
        return out


def _inputs(norm: Mapping[str, Any], path: str = "") -> list[dict[str, Any]]:
    def item(name: str, value: Any, unit: str) -> dict[str, Any]:
        key = cf.join(path, name)
        if isinstance(value, Mapping):
            return input_item(key, unc.nominal(value), unit, uncertainty=value)
        return input_item(key, value, unit)

    items = []
    if "installation_id" in norm:
        items.append(item("installation_id", norm["installation_id"], "identifier"))
    items += [
        item("good.cn_code", norm["good"]["cn_code"], "CN code (digits)"),
        item("good.activity_level_t", norm["good"]["activity_level_t"], "t"),
    ]
    d = norm["direct"]
    for j, s in enumerate(d.get("source_streams", [])):
        for k, v in s.items():
            unit = {"type": "stream type", "name": "text", "output": "bool"}.get(k) or _stream_unit(
                s["type"], k
            )
            items.append(item(f"direct.source_streams[{j}].{k}", v, unit))
    items += [item(f"direct.{k}", d[k], u) for k, u in DIRECT_KEYS.items() if k in d]
    items += [item(f"direct.{k}", d[k], u) for k, u in _OPTIONAL_DIRECT.items() if k in d]
    items += [
        item(f"electricity.{k}", norm["electricity"][k], u) for k, u in ELECTRICITY_KEYS.items()
    ]
    for i, p in enumerate(norm["precursors"]):
        items.append(item(f"precursors[{i}].cn_code", p["cn_code"], "CN code (digits)"))
        items.append(item(f"precursors[{i}].origin", p["origin"], "ISO 3166-1 alpha-2"))
        items += [
            item(f"precursors[{i}].{k}", p[k], u) for k, u in PRECURSOR_NUMBERS.items() if k in p
        ]
        if "installation" in p:
            items += _inputs(p["installation"], cf.join(path, f"precursors[{i}].installation"))
    return items


def _stream_unit(kind: str, key: str) -> str:
    for base in _COMBUSTION_BASES:
        if key in base[:2]:
            return base[2] if key == base[0] else base[3]
    return STREAM_KEYS[kind][key][0]


def _reason(norm: Mapping[str, Any], r: Attribution) -> str:
    notes = [
        (
            "CN {} is an Annex II good: its own indirect emissions are reported only; "
            "the total counts direct emissions and the indirect emissions of non-Annex II "
            "precursors (IR 2025/2547 Annex I pt 3.1)"
            if r.direct_only
            else "CN {} counts direct and indirect emissions"
        ).format(r.cn_code)
    ]
    eu = [c.origin for c in r.precursors if c.eu_origin]
    dropped = sum(c.annex_ii and not c.eu_origin for c in r.precursors)
    if eu:
        notes.append(
            f"{len(eu)} precursor(s) of exempt origin counted zero ("
            + "; ".join(sorted({exempt_origin_rule(o) for o in eu}))
            + ")"
        )
    if dropped:
        notes.append(f"own indirect emissions of {dropped} Annex II precursor(s) dropped")
    nested = [c.installation for c in r.precursors if c.installation is not None]
    if nested:
        notes.append(
            f"{len(nested)} precursor(s) computed from their supplying "
            "installation's data: " + ", ".join(n.installation_id or n.path for n in nested)
        )
    if "source_streams" in norm["direct"]:
        notes.append(f"direct emissions from {len(r.stream_emissions_t)} source stream(s)")
    return "; ".join(notes) + "."


def _has_mass_balance(norm: Mapping[str, Any]) -> bool:
    if any(s["type"] == "mass_balance" for s in norm["direct"].get("source_streams", [])):
        return True
    return any(
        _has_mass_balance(p["installation"]) for p in norm["precursors"] if "installation" in p
    )


def _uses_standard_corr_eta(norm: Mapping[str, Any]) -> bool:
    d = norm["direct"]
    if "waste_gas_corr_eta" not in d and unc.nominal(d["waste_gas_exported_tj"]) != 0:
        return True
    return any(
        _uses_standard_corr_eta(p["installation"])
        for p in norm["precursors"]
        if "installation" in p
    )


def compute_installation(case: Mapping[str, Any]) -> InstallationResult:
    """SEE of one good from installation data (see the module docstring)."""
    norm = normalise_case(case)
    steps: list[dict[str, Any]] = []
    r = attribute(norm, "", None, steps)
    reason = _reason(norm, r)
    outputs: dict[str, Any] = {
        "see_direct_t_per_t": r.see_direct_t_per_t,
        "see_indirect_t_per_t": r.see_indirect_t_per_t,
        "see_total_t_per_t": r.see_total_t_per_t,
        "see_indirect_counted_t_per_t": r.see_indirect_counted_t_per_t,
        "see_indirect_reported_only_t_per_t": r.see_indirect_reported_only_t_per_t,
        "direct_only": r.direct_only,
        "tier": norm["tier"],
        "attributed_direct_emissions_t": r.attributed_direct_emissions_t,
        "attributed_indirect_emissions_t": r.attributed_indirect_emissions_t,
        "precursor_direct_emissions_t": r.precursor_direct_t,
        "precursor_indirect_emissions_t": r.precursor_indirect_t,
        "reason": reason,
    }
    if "source_streams" in norm["direct"]:
        outputs["direct_emissions_t"] = r.direct_emissions_t
    propagation = None
    if "uncertainty" in norm:
        leaves = unc.uncertain_leaves({k: v for k, v in norm.items() if k != "uncertainty"})
        propagation = unc.propagate(
            lambda draws: np.asarray(attribute(norm, "", draws).see_total_t_per_t),
            leaves,
            norm["uncertainty"],
        )
        outputs["interval_low_t_per_t"] = propagation.low
        outputs["interval_high_t_per_t"] = propagation.high
        outputs["uncertainty_method"] = propagation.method
        outputs["interval"] = propagation.summary()
        formula = (
            "[q05, q95] of SEE_total over Monte Carlo draws (PCG64, seed)"
            if propagation.method == "monte_carlo"
            else "SEE_total ± 1.6448536269514722 × u, u² = Σ (∂SEE_total/∂x_i)² u²(x_i)"
        )
        steps.append(
            step_item(
                "cbam.installation.interval",
                formula,
                {
                    "inputs": list(propagation.inputs),
                    "method": propagation.method,
                    "seed": propagation.seed,
                    "samples": propagation.samples,
                    "exact": propagation.exact,
                    "sd_t_per_t": propagation.sd,
                },
                [propagation.low, propagation.high],
                "tCO2e/t",
            )
        )
    factors = (
        [factor_item("CO2_PER_C", CO2_PER_C, "tCO2/tC", CO2_PER_C_SOURCE, None, None)]
        if _has_mass_balance(norm)
        else []
    )
    if _uses_standard_corr_eta(norm):
        factors.append(
            factor_item("CORR_ETA_STANDARD", CORR_ETA_STANDARD, "1", CORR_ETA_SOURCE, None, None)
        )
    sealed = seal_outputs(
        methodology_id=METHODOLOGY_ID,
        version=VERSION,
        inputs=_inputs(norm),
        factors=factors,
        steps=steps,
        outputs=outputs,
        case=norm,
    )
    trace, sha = sealed["trace"], sealed["trace_sha256"]
    return InstallationResult(
        case=norm,
        attributed_direct_emissions_t=r.attributed_direct_emissions_t,
        attributed_indirect_emissions_t=r.attributed_indirect_emissions_t,
        precursor_direct_t=tuple(c.direct_t for c in r.precursors),
        precursor_indirect_t=tuple(c.indirect_t for c in r.precursors),
        see_direct_t_per_t=r.see_direct_t_per_t,
        see_indirect_t_per_t=r.see_indirect_t_per_t,
        see_total_t_per_t=r.see_total_t_per_t,
        direct_only=r.direct_only,
        reason=reason,
        trace=trace,
        trace_sha256=sha,
        attribution=r,
        propagation=propagation,
    )


def run(case: Mapping[str, Any]) -> dict[str, Any]:
    """Registry entry point: outputs plus ``trace`` and ``trace_sha256``."""
    return compute_installation(case).as_dict()


#: Plausible ranges of the case keys (methodologies.plausibility); a nested installation
#: (``precursors[0].installation.…``) is checked with the same keys.
SPEC = CaseSpec(
    {},
    ranges={
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
        "direct.source_streams[*].conversion_factor": fraction(),
        "direct.source_streams[*].oxidation_factor": fraction(),
        "direct.source_streams[*].biomass_fraction": fraction(),
        "direct.waste_gas_ef_t_per_tj": EF_NG,
        "direct.waste_gas_corr_eta": Range(0.1, 1.0, "1 (η_WG / η_NG)", PERCENT),
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
    },
)
