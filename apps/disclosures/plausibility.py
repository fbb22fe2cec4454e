"""Checks a confirmed disclosure passes before it becomes an estimate (issue #16 item 12).

A disclosure that claims what the rules do not allow without evidence is *held* for an
official's review instead of moving shipments (``apps.disclosures.services``). Two kinds:

1. **The engine refuses the case** (:class:`methodologies.errors.CaseError`, whose
   subclass ``ImplausibleValueError`` the engine raises for a value outside the
   physical range its case spec declares): the disclosed (or corrected) values pass the
   same ranges as every other input of the engine.
2. **Zero emissions the rules do not admit without evidence** (:func:`zero_findings`):

   - a fuel (combustion source stream) with emission factor 0 and a positive amount.
     The emission factor of a fuel is zero only as zero-rated biomass: IR 2025/2547
     Annex II B.3.1.1 Equation 10, ``EF = EF_pre × (1 − BF)``, with "BF set to the
     conservative value zero" for fossil fuels and unknown biomass fractions, and
     Annex II A point 5(b): "all biomass emissions should be treated like fossil
     emission, unless evidence for meeting the criteria for zero rating in accordance
     with point B.3.3 … is provided";
   - a process material with emission factor 0, or a mass-balance input with carbon
     content 0, and a positive amount (Annex II B.3.1.2 Equation 11 and B.3.2: a source
     stream is monitored because it emits; zero is a claim to review);
   - a specific direct embedded emission of exactly zero for a good of cement, iron and
     steel or aluminium, whose system boundaries always hold carbon-bearing inputs or
     precursors (IR 2025/2547 Annex I points 3.3-3.4: calcination of carbonates in the
     clinker; 3.11-3.16: reducing agents, electrodes, carbon in the mass balance and the
     precursors' embedded emissions; 3.17-3.18: anode consumption and the precursors),
     the good's own or a precursor's communicated SEE (a precursor of EU origin, or of a
     country of Reg. 2023/956 Annex III point 1, counts zero by rule and is not flagged).

Pure functions over a case and the engine's result; no Django.
"""

from __future__ import annotations

from typing import Any

from methodologies.cbam_goods import goods_sector, is_eu_origin
from methodologies.errors import CaseError

#: Sectors whose goods cannot be made without direct emissions (see the module docstring).
MUST_EMIT = {
    "cement": "IR 2025/2547 Annex I points 3.3-3.4 (calcination of carbonates in clinker)",
    "iron_and_steel": (
        "IR 2025/2547 Annex I points 3.11-3.16 (reducing agents, electrodes, carbon in the "
        "mass balance, precursors)"
    ),
    "aluminium": "IR 2025/2547 Annex I points 3.17-3.18 (anode consumption, precursors)",
}
#: Reg. 2023/956 Annex III point 1: countries whose goods are not CBAM imports.
EXEMPT_ORIGINS = frozenset({"IS", "LI", "NO", "CH"})

FUEL_RULE = (
    "a fuel's emission factor is zero only as zero-rated biomass, which needs the evidence of "
    "IR 2025/2547 Annex II B.3.3 (Annex II A point 5(b); B.3.1.1 Equation 10, "
    "EF = EF_pre × (1 − BF), BF zero for fossil fuels)"
)


def _must_emit(cn_code: str) -> str | None:
    try:
        return MUST_EMIT.get(goods_sector(str(cn_code)))
    except CaseError:
        return None


def zero_findings(case: dict[str, Any], result: dict[str, Any]) -> list[dict[str, str]]:
    """The zero-emission claims of a ``cbam.installation`` case and its result that need an
    official's review; each ``{"check", "key", "reason"}`` (``key`` the case path)."""
    found: list[dict[str, str]] = []
    direct = case.get("direct") or {}
    for i, stream in enumerate(direct.get("source_streams") or []):
        kind, name = stream.get("type"), stream.get("name", f"stream {i}")
        amount = stream.get("ad_t", stream.get("ad_1000nm3", 0)) or 0
        if amount <= 0:
            continue
        path = f"direct.source_streams[{i}]"
        if kind == "combustion" and stream.get("ef_t_per_tj") == 0:
            found.append(
                {
                    "check": "zero_fuel_emission_factor",
                    "key": f"{path}.ef_t_per_tj",
                    "reason": f"fuel {name!r} ({amount:g}) has emission factor 0 tCO2/TJ: "
                    + FUEL_RULE,
                }
            )
        elif kind == "process" and stream.get("ef_t_per_t") == 0:
            found.append(
                {
                    "check": "zero_process_emission_factor",
                    "key": f"{path}.ef_t_per_t",
                    "reason": f"process material {name!r} ({amount:g} t) has emission factor "
                    "0 tCO2/t (IR 2025/2547 Annex II B.3.1.2 Equation 11)",
                }
            )
        elif (
            kind == "mass_balance"
            and not stream.get("output")
            and stream.get("carbon_content_t_per_t") == 0
        ):
            found.append(
                {
                    "check": "zero_carbon_content",
                    "key": f"{path}.carbon_content_t_per_t",
                    "reason": f"mass-balance input {name!r} ({amount:g} t) has carbon content 0 "
                    "(IR 2025/2547 Annex II B.3.2)",
                }
            )
    for i, precursor in enumerate(case.get("precursors") or []):
        origin = str(precursor.get("origin", "")).upper()
        rule = _must_emit(precursor.get("cn_code", ""))
        if (
            rule
            and precursor.get("see_direct_t_per_t") == 0
            and (precursor.get("mass_t") or 0) > 0
            and not is_eu_origin(origin)
            and origin not in EXEMPT_ORIGINS
        ):
            found.append(
                {
                    "check": "zero_precursor_see",
                    "key": f"precursors[{i}].see_direct_t_per_t",
                    "reason": f"precursor CN {precursor.get('cn_code')} from {origin} has a "
                    f"specific direct embedded emission of 0 t/t: it cannot be made without "
                    f"direct emissions, {rule}",
                }
            )
    cn_code = (case.get("good") or {}).get("cn_code") or case.get("cn_code") or ""
    rule = _must_emit(cn_code)
    see = result.get("see_direct_t_per_t")
    if rule and see is not None and see <= 0:
        found.append(
            {
                "check": "zero_see",
                "key": "result.see_direct_t_per_t",
                "reason": f"CN {cn_code} has a specific direct embedded emission of {see:g} t/t: "
                f"it cannot be made without direct emissions, {rule}",
            }
        )
    return found


def refusal_finding(exc: CaseError) -> dict[str, str]:
    """The finding of a case the engine refused (an implausible or malformed value)."""
    return {
        "check": type(exc).__name__,
        "key": getattr(exc, "key", ""),
        "reason": f"the engine refused the case: {exc}",
    }
