"""Disclosed values → methodology cases: the pure mapping of a confirmed disclosure
(docs/disclosures.md, "Confirming a version").

Works on plain data fetched up front (:func:`apps.disclosures.selectors.disclosure_inputs`):
a :class:`Facts` holds the installation, the period, the version's kind and CN code, its
values (:class:`Disclosed`, one per kept extracted value, with its review), the platform's
measured grid intensity note and the default-value rows the precursors may need. Nothing
here reads the database: the CBAM tables and the engine are pure
(:mod:`methodologies`), and so are the units (:mod:`ingest.disclosure.units`).

- :func:`version_cases` gives one :class:`Case` per good (``cbam.installation`` from our
  template's installation data or from a communicated SEE, ``route.steel`` for a partial
  steel disclosure), each with the evidence it cites and its notes;
- :func:`case_findings` runs each case and returns what holds the version for an
  official's review (:mod:`apps.disclosures.plausibility`);
- :func:`disclosed_production_t` is the production the satellite check compares;
- :func:`provenance` is what each estimate's trace says of the disclosure behind it;
- :func:`compute` does all of it at once for a confirmation (:class:`Computed`), running
  each case as its estimate will record it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import methodologies
from apps.disclosures.plausibility import refusal_finding, zero_findings
from ingest.disclosure.units import UnitError, convert
from methodologies import cbam_tables
from methodologies.errors import CaseError, MethodologyError

#: ExtractedValue.ValueStatus.CORRECTED (apps/disclosures/models.py)
CORRECTED = "corrected"
#: The engine's tiers a case can give (apps.estimates.models.Tier)
DISCLOSED, VERIFIED, MODELLED = "disclosed", "verified", "modelled"
#: DisclosureVersion.Kind (apps/disclosures/models.py)
TEMPLATE, CBAM_TEMPLATE, PDF = "template", "cbam_template", "pdf"


@dataclass(frozen=True)
class Disclosed:
    """One kept value of the version, as reviewed (the fields of an ExtractedValue)."""

    id: int
    field: str
    value: float | None  # the extracted number in its canonical unit (None: a text)
    unit: str = ""
    text: str = ""
    status: str = "confirmed"
    corrected_value: float | None = None
    corrected_unit: str = ""
    reason: str = ""
    quote: str = ""
    page: int | None = None
    cell: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Installation:
    identifier: str
    country: str
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What the mapping needs, fetched before it runs."""

    kind: str  # TEMPLATE, CBAM_TEMPLATE or PDF
    cn_code: str  # the CN code the upload named (a PDF's figures are for it)
    installation: Installation
    year: int
    values: tuple[Disclosed, ...]
    #: the platform's measured grid intensity for the installation's zone and year, as a
    #: note (evidence shown beside the CBAM factor, never used in its place)
    measured_grid_note: str = ""
    #: (origin, CN code) → the default-value rows a precursor without SEE may take
    default_rows: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    #: the version and its file, as each estimate's provenance names them
    disclosure: dict[str, Any] = field(default_factory=dict)
    #: the positive verification report covering the period, as provenance cites it
    verification: dict[str, Any] | None = None


class Case(NamedTuple):
    cn_code: str
    case: dict
    cited: list[dict]
    notes: list[str]


_FIELD = re.compile(r"^(?P<section>\w+)\[(?P<item>.*)\]\.(?P<field>\w+)$")


def canonical(value: Disclosed) -> float | None:
    """The reviewed number in the value's own (canonical) unit."""
    if value.status == CORRECTED:
        if value.unit and value.corrected_unit and value.corrected_unit != value.unit:
            return convert(value.corrected_value, value.corrected_unit, (value.unit,)).value
        return value.corrected_value
    return value.value


def _evidence(value: Disclosed, used_as: str) -> dict:
    out: dict[str, Any] = {
        "input": used_as,
        "field": value.field,
        "value": canonical(value) if value.value is not None else value.text,
        "unit": value.unit,
        "status": value.status,
        "quote": value.quote,
        "value_id": value.id,
    }
    if value.page is not None:
        out["page"] = value.page
    elif value.cell:
        out["cell"] = value.cell
    elif value.line is not None:
        out["line"] = value.line
    if value.status == CORRECTED:
        out["extracted"] = {"value": value.value, "unit": value.unit}
        out["reason"] = value.reason
    return out


def _records(values) -> dict[str, dict[str, dict[str, Disclosed]]]:
    """Template values → {section: {item: {field: value}}}."""
    out: dict[str, dict[str, dict[str, Disclosed]]] = {}
    for v in values:
        match = _FIELD.match(v.field)
        if match:
            out.setdefault(match["section"], {}).setdefault(match["item"], {})[match["field"]] = v
    return out


def _default_see(facts: Facts, origin: str, cn_code: str) -> dict | None:
    try:
        result = methodologies.run_case(
            {
                "methodology": "cbam.default",
                "cn_code": cn_code,
                "origin": origin,
                "year": facts.year,
                "default_values": facts.default_rows.get((origin, cn_code), []),
            }
        )
    except MethodologyError:
        return None
    return result


#: Sources of electricity whose actual emission factor CBAM admits (IR 2025/2547 Annex II
#: D.4, D.4.3; Reg. 2023/956 Annex IV pt 6): a power purchase agreement, or a direct
#: technical link to the generating plant (the template's "onsite").
ACTUAL_ELECTRICITY_SOURCES = {
    "ppa": "a power purchase agreement",
    "onsite": "a direct technical link",
}


def _electricity_factor(rec, item: str, facts: Facts, cite, notes) -> float | None:
    """The emission factor [t/MWh] CBAM admits for one disclosed electricity record:

    - the disclosed factor when the record's source is a power purchase agreement or a
      direct technical link ("ppa", "onsite"): IR 2025/2547 Annex II D.4 (third indent)
      and D.4.3, Reg. 2023/956 Annex IV pt 6;
    - otherwise the country factor of IR 2025/2621 Annex II (Art. 1(3); IR 2025/2547
      Annex II D.4, first indent), whatever factor the disclosure states (shown as
      evidence, not used).

    Returns None (and says why in ``notes``) when no factor applies."""
    source = ""
    if "source" in rec:
        source = rec["source"].text.strip().lower()
        cite(rec["source"], f"electricity[{item}].source")
    if "ef" in rec and source in ACTUAL_ELECTRICITY_SOURCES:
        cite(rec["ef"], f"electricity[{item}].ef_t_per_mwh")
        notes.append(
            f"electricity[{item}]: actual factor {canonical(rec['ef']):g} t/MWh, justified by "
            f"{ACTUAL_ELECTRICITY_SOURCES[source]} (IR 2025/2547 Annex II D.4.3; the "
            "evidence it lists is for the verifier to check)"
        )
        return canonical(rec["ef"])
    try:
        factor = cbam_tables.grid_factor(facts.installation.country)
    except MethodologyError as exc:
        notes.append(f"electricity[{item}]: no CBAM factor ({exc}); left out")
        return None
    if "ef" in rec:
        cite(rec["ef"], f"electricity[{item}].ef_t_per_mwh (evidence only, not used)")
    stated = f"; the disclosed {canonical(rec['ef']):g} t/MWh is not used" if "ef" in rec else ""
    notes.append(
        f"electricity[{item}]: source {source or 'not stated'}, no power purchase agreement "
        f"or direct technical link: CBAM country factor {factor.value:g} t/MWh "
        f"({factor.source}, {factor.row}"
        + (", as Other countries and territories" if factor.fallback else "")
        + f"){stated}; {facts.measured_grid_note}"
    )
    return factor.value


def _electricity(records, facts: Facts, share: float, cite, notes):
    consumed, emissions, counted = 0.0, 0.0, 0.0
    for item, rec in records.get("electricity", {}).items():
        if "consumed" not in rec:
            continue
        mwh = canonical(rec["consumed"])
        cite(rec["consumed"], f"electricity[{item}].consumed_mwh")
        consumed += mwh
        ef = _electricity_factor(rec, item, facts, cite, notes)
        if ef is not None:
            emissions += mwh * ef
            counted += mwh
    if counted == 0:
        return {"consumed_mwh": 0.0, "ef_t_per_mwh": 0.0}, consumed
    return {"consumed_mwh": counted * share, "ef_t_per_mwh": emissions / counted}, consumed


def _streams(records, share: float, cite, notes) -> list[dict]:
    streams = []
    for item, rec in records.get("fuel", {}).items():
        if "amount" not in rec:
            continue
        amount = rec["amount"]
        unit = amount.unit
        kind = rec["kind"].text if "kind" in rec else ""
        ef = rec.get("ef")
        if not kind:
            if ef is not None and ef.unit == "t/t":
                kind = "process"
            elif "carbon_content" in rec and ef is None:
                kind = "mass_balance_in"
            else:
                kind = "combustion"
        path = f"direct.source_streams[{len(streams)}]"
        name = rec["name"].text if "name" in rec else item
        ad = canonical(amount) * share
        if kind == "combustion":
            ncv = rec.get("ncv")
            if ef is None or ef.unit != "t/TJ" or (unit != "TJ" and ncv is None):
                notes.append(f"fuel[{item}] ({name}): no NCV or emission factor; left out")
                continue
            stream = {"type": "combustion", "name": name, "ef_t_per_tj": canonical(ef)}
            if unit == "TJ":  # energy given: AD × NCV with NCV 1 TJ/TJ
                stream |= {"ad_t": ad, "ncv_tj_per_t": 1.0}
            elif unit == "t":
                stream |= {"ad_t": ad, "ncv_tj_per_t": canonical(ncv)}
            else:
                stream |= {"ad_1000nm3": ad, "ncv_tj_per_1000nm3": canonical(ncv)}
            if "oxidation_factor" in rec:
                stream["oxidation_factor"] = canonical(rec["oxidation_factor"])
                cite(rec["oxidation_factor"], f"{path}.oxidation_factor")
            if ncv is not None:
                cite(ncv, f"{path}.ncv")
            cite(ef, f"{path}.ef_t_per_tj")
        elif kind == "process":
            if ef is None or ef.unit != "t/t" or unit != "t":
                notes.append(
                    f"fuel[{item}] ({name}): a process stream needs t and tCO2/t; left out"
                )
                continue
            stream = {"type": "process", "name": name, "ad_t": ad, "ef_t_per_t": canonical(ef)}
            cite(ef, f"{path}.ef_t_per_t")
        else:
            carbon = rec.get("carbon_content")
            if carbon is None or unit != "t":
                notes.append(f"fuel[{item}] ({name}): mass balance needs t and carbon content")
                continue
            stream = {
                "type": "mass_balance",
                "name": name,
                "ad_t": ad,
                "carbon_content_t_per_t": canonical(carbon),
                "output": kind == "mass_balance_out",
            }
            cite(carbon, f"{path}.carbon_content_t_per_t")
        cite(amount, f"{path}.ad")
        streams.append(stream)
    return streams


STEEL_ROUTES = ("bf_bof", "dri_eaf", "scrap_eaf")


def _route_case(facts: Facts, cn: str, production: float, records, share, cite, notes):
    """A ``route.steel`` case for a partial disclosure (production and electricity known,
    no source stream): the installation's route, IPCC Tier 1 factors (tier "modelled").
    A DRI-EAF works needs its DRI charged (``dri_t``): the disclosed precursors of CN 7203
    (direct reduced iron), allocated by the good's share of production; without one the
    route model cannot run and the notes say so."""
    route = next((r for r in facts.installation.routes if r in STEEL_ROUTES), None)
    if route is None or not cn.startswith(("72", "73")):
        return None
    electricity, _ = _electricity(records, facts, share, cite, notes)
    case = {
        "methodology": "route.steel",
        "route": route,
        "cn_code": cn,
        "production_t": production,
        "electricity_mwh": electricity["consumed_mwh"],
        "electricity_ef_t_per_mwh": electricity["ef_t_per_mwh"],
    }
    if route == "dri_eaf":
        case["reductant"] = "gas"
        dri = [
            (item, rec)
            for item, rec in records.get("precursor", {}).items()
            if {"cn_code", "mass"} <= rec.keys()
            and rec["cn_code"].text.replace(" ", "").startswith("7203")
        ]
        if not dri:
            notes.append(
                "dri_eaf: no precursor of CN 7203 (direct reduced iron) disclosed, so the "
                "DRI charged (dri_t) is unknown and the route model cannot run"
            )
            return None
        for item, rec in dri:
            cite(rec["mass"], f"dri_t (precursor[{item}].mass)")
        case["dri_t"] = sum(canonical(rec["mass"]) for _, rec in dri) * share
    return case


def _template_cases(facts: Facts, notes: list[str]) -> list[Case]:
    """A case per disclosed good of our template."""
    installation = facts.installation
    records = _records(facts.values)
    # Goods records of the same CN code are one good (their production adds up).
    by_cn: dict[str, list[tuple[str, dict]]] = {}
    for item, rec in records.get("goods", {}).items():
        if "cn_code" in rec and "production" in rec and canonical(rec["production"]) > 0:
            by_cn.setdefault(rec["cn_code"].text, []).append((item, rec))
    total = sum(canonical(r["production"]) for group in by_cn.values() for _, r in group)
    out = []
    for cn, group in by_cn.items():
        cited: list[dict] = []

        def cite(value: Disclosed, used_as: str) -> None:
            cited.append(_evidence(value, used_as))  # noqa: B023

        item = "+".join(i for i, _ in group)
        production = sum(canonical(r["production"]) for _, r in group)
        share = production / total
        local_notes: list[str] = []
        if len(by_cn) > 1:
            local_notes.append(
                f"installation-wide data allocated to CN {cn} by its share of production "
                f"({production:g} of {total:g} t = {share:.6g}); a simplification of the "
                "attribution to production processes (IR 2025/2547 Annex III)"
            )
        for _, good in group:
            cite(good["cn_code"], "good.cn_code")
            cite(good["production"], "good.activity_level_t")
        direct: dict[str, Any] = {"source_streams": _streams(records, share, cite, local_notes)}
        if not direct["source_streams"]:
            case = _route_case(facts, cn, production, records, share, cite, local_notes)
            if case is None:
                local_notes.append(
                    f"goods[{item}]: no usable fuel or material, and no route model applies "
                    "(an iron or steel good of an installation whose route is known); "
                    "not estimated"
                )
            else:
                local_notes.append(
                    f"goods[{item}]: no usable fuel or material: modelled with route.steel "
                    f"({case['route']}) from the disclosed production and electricity"
                )
                out.append(Case(cn, case, cited, local_notes))
            notes.extend(local_notes)
            continue
        heat = records.get("heat", {})
        for h_item, rec in heat.items():
            ef = rec.get("ef")
            for side in ("imported", "exported"):
                if side not in rec:
                    continue
                if ef is None:
                    local_notes.append(
                        f"heat[{h_item}].{side}: no emission factor given; not counted"
                    )
                    continue
                direct[f"heat_{side}_tj"] = canonical(rec[side]) * share
                direct[f"heat_{side}_ef_t_per_tj"] = canonical(ef)
                cite(rec[side], f"direct.heat_{side}_tj")
                cite(ef, f"direct.heat_{side}_ef_t_per_tj")
        electricity, _ = _electricity(records, facts, share, cite, local_notes)
        precursors = []
        for p_item, rec in records.get("precursor", {}).items():
            if not {"cn_code", "mass", "origin"} <= rec.keys():
                continue
            p = {
                "cn_code": rec["cn_code"].text,
                "mass_t": canonical(rec["mass"]) * share,
                "origin": rec["origin"].text,
            }
            for key in ("cn_code", "mass", "origin"):
                cite(rec[key], f"precursors[{len(precursors)}].{key}")
            if "see_direct" in rec:
                p["see_direct_t_per_t"] = canonical(rec["see_direct"])
                p["see_indirect_t_per_t"] = (
                    canonical(rec["see_indirect"]) if "see_indirect" in rec else 0.0
                )
                cite(rec["see_direct"], f"precursors[{len(precursors)}].see_direct_t_per_t")
                if "see_indirect" in rec:
                    cite(rec["see_indirect"], f"precursors[{len(precursors)}].see_indirect")
            else:
                default = _default_see(facts, p["origin"], p["cn_code"])
                if default is None:
                    local_notes.append(f"precursor[{p_item}]: no SEE and no default; left out")
                    continue
                p["see_direct_t_per_t"] = default["see_direct_t_per_t"]
                p["see_indirect_t_per_t"] = default["see_indirect_t_per_t"] or 0.0
                local_notes.append(
                    f"precursor[{p_item}]: SEE from the CBAM default value "
                    f"({default['see_direct_t_per_t']:g} + {p['see_indirect_t_per_t']:g} t/t, "
                    f"trace {default['trace_sha256'][:12]}…)"
                )
            precursors.append(p)
        case = {
            "methodology": "cbam.installation",
            "installation_id": installation.identifier,
            "good": {"cn_code": cn, "activity_level_t": production},
            "direct": direct,
            "electricity": electricity,
            "precursors": precursors,
            "tier": "disclosed",
        }
        notes.extend(local_notes)
        out.append(Case(cn, case, cited, local_notes))
    return out


def _communicated_cases(facts: Facts, notes: list[str]) -> list[Case]:
    """SEE communicated per CN code (CBAM template, or a PDF's see_direct/see_indirect for
    the version's CN code) as a one-tonne case: attributed direct emissions SEE_dir, and
    indirect SEE_indir as embedded electricity × its factor (or 1 MWh × SEE_indir)."""
    installation = facts.installation
    by_cn: dict[str, dict[str, Disclosed]] = {}
    for v in facts.values:
        if facts.kind == CBAM_TEMPLATE:
            cn, _, field = v.field.partition(".")
        else:
            cn, field = facts.cn_code, v.field
            if v.unit and v.unit != "t/t" and field.startswith("see_"):
                try:
                    convert(1.0, v.unit, ("t/t",))
                except UnitError:
                    continue
        if cn and field in ("see_direct", "see_indirect", "embedded_electricity"):
            by_cn.setdefault(cn, {})[field] = v
    out = []
    for cn, rec in by_cn.items():
        if "see_direct" not in rec:
            notes.append(f"{cn}: no SEE (direct); not estimated")
            continue
        cited = [_evidence(rec["see_direct"], "direct.attributed_emissions_t")]
        direct = canonical(rec["see_direct"])
        if facts.kind == PDF and rec["see_direct"].unit:
            direct = convert(direct, rec["see_direct"].unit, ("t/t",)).value
        indirect = canonical(rec["see_indirect"]) if "see_indirect" in rec else 0.0
        local = ["SEE communicated per tonne: the case is one tonne of good"]
        electricity = {"consumed_mwh": 0.0, "ef_t_per_mwh": 0.0}
        if "see_indirect" in rec:
            cited.append(_evidence(rec["see_indirect"], "electricity (indirect SEE)"))
            mwh = canonical(rec["embedded_electricity"]) if "embedded_electricity" in rec else 0
            if mwh:
                cited.append(_evidence(rec["embedded_electricity"], "electricity.consumed_mwh"))
                electricity = {"consumed_mwh": mwh, "ef_t_per_mwh": indirect / mwh}
            else:
                electricity = {"consumed_mwh": 1.0, "ef_t_per_mwh": indirect}
                local.append("indirect SEE entered as 1 MWh × SEE_indirect tCO2e/MWh")
        else:
            local.append("no indirect SEE communicated; indirect counted zero (lower bound)")
        case = {
            "methodology": "cbam.installation",
            "installation_id": installation.identifier,
            "good": {"cn_code": cn, "activity_level_t": 1.0},
            "direct": {"attributed_emissions_t": direct},
            "electricity": electricity,
            "precursors": [],
            "tier": "disclosed",
        }
        out.append(Case(cn, case, cited, local))
    return out


LADDER_WHY = {
    DISCLOSED: (
        "disclosed actual: the exporter's confirmed disclosure for this installation and "
        "period (version {v}) ranks above modelled and default values (docs/design.md §2); a "
        "verified estimate would rank above it"
    ),
    VERIFIED: (
        "verified actual: the exporter's confirmed disclosure (version {v}) carries a "
        "verification report with a positive opinion for its reporting period (IR 2025/2546); "
        "it ranks above disclosed, modelled and default values (docs/design.md §2)"
    ),
    MODELLED: (
        "modelled: the confirmed disclosure (version {v}) is partial (production and "
        "energy, no source streams), so a route model computed it; it ranks above the "
        "default value and below disclosed and verified actual data (docs/design.md §2)"
    ),
}


def lookups_needed(kind: str, values: tuple[Disclosed, ...]) -> tuple[set, bool]:
    """What the fetch must look up for these values: the (origin, CN code) pairs of the
    precursors that state no SEE (their default value), and whether an electricity record
    falls back to the CBAM country factor (the measured grid note goes beside it)."""
    if kind != TEMPLATE:
        return set(), False
    records = _records(values)
    defaults = {
        (rec["origin"].text, rec["cn_code"].text)
        for rec in records.get("precursor", {}).values()
        if {"cn_code", "mass", "origin"} <= rec.keys() and "see_direct" not in rec
    }
    grid = any(
        "consumed" in rec
        and not (
            "ef" in rec
            and "source" in rec
            and rec["source"].text.strip().lower() in ACTUAL_ELECTRICITY_SOURCES
        )
        for rec in records.get("electricity", {}).values()
    )
    return defaults, grid


def version_cases(facts: Facts, notes: list[str]) -> list[Case]:
    """A case (CN code, case, cited evidence, its notes) per good the version's values
    describe; what is left out, and why, is appended to ``notes``."""
    if facts.kind == TEMPLATE:
        return _template_cases(facts, notes)
    cases = _communicated_cases(facts, notes)
    if not cases:
        notes.append(
            "no confirmed value maps to an installation input (a PDF's figures feed the "
            "engine when it gives see_direct in t/t and the upload names the CN code)"
        )
    return cases


def case_findings(cases: list[Case], *, file: str) -> list[dict]:
    """The findings that hold a confirmed version for an official's review
    (:mod:`apps.disclosures.plausibility`): each case the engine would be fed is run;
    a :class:`~methodologies.errors.CaseError` (an implausible or malformed value, with
    the engine's physical ranges) and the zero-emission claims the rules do not admit
    without evidence are findings. Each names the CN code, the case key, the reason, the
    ``file`` and, where a disclosed value gave the key, its field, where it is in the file
    and its id."""
    findings = []
    for cn, case, cited, _ in cases:
        try:
            result = methodologies.run_case(case)
        except CaseError as exc:
            found = [refusal_finding(exc)]
        except MethodologyError:
            continue  # not a value's plausibility: noted when the version is applied
        else:
            found = zero_findings(case, result)
        for finding in found:
            item = {"cn_code": cn, **finding, "file": file}
            key = finding["key"]  # the case key; a citation names it, or its stem ("….ad")
            evidence = next(
                (c for c in cited if c["input"] == key or key.startswith(c["input"] + "_")),
                None,
            )
            if evidence is not None:
                item["field"] = evidence["field"]
                item["value_id"] = evidence["value_id"]
                for where in ("line", "cell", "page"):
                    if where in evidence:
                        item[where] = evidence[where]
            findings.append(item)
    return findings


def disclosed_production_t(facts: Facts) -> float | None:
    """The installation's disclosed annual production [t]: the goods records' production
    of our template, converted to tonnes; None when the version discloses none."""
    amounts = []
    for record in _records(facts.values).get("goods", {}).values():
        if "production" not in record or not canonical(record["production"]):
            continue
        value = record["production"]
        amount = canonical(value)
        if value.unit and value.unit != "t":
            amount = convert(amount, value.unit, ("t",)).value
        amounts.append(amount)
    return float(sum(amounts)) if amounts else None


def verified_case(case: dict, verified: bool) -> dict:
    """A disclosed ``cbam.installation`` case becomes verified when a positive report
    covers its period; a modelled case (a route model) stays modelled: the report
    verifies the disclosed data, not the platform's model."""
    if not verified or case.get("methodology") != "cbam.installation":
        return case
    return {**case, "tier": VERIFIED}


def provenance(*, facts: Facts, case: Case, tier: str, review: dict | None) -> dict:
    """What an estimate's trace says of the disclosure behind it: the version and its file
    (``facts.disclosure``), each value it cites, its notes, its rung of the ladder and,
    where they apply, the verification report and the official's decision on a held
    version. The confirmation adds the reconciliation flags once the satellite check ran."""
    out: dict[str, Any] = {
        "disclosure": facts.disclosure,
        "values": case.cited,
        "notes": case.notes,
        "ladder": {"tier": tier, "why": LADDER_WHY[tier].format(v=facts.disclosure["version"])},
    }
    if tier == VERIFIED and facts.verification is not None:
        out["verification"] = facts.verification
    if review is not None:
        out["review"] = review
    return out


class Run(NamedTuple):
    """One case as the engine took it: its result and the provenance its estimate will
    carry, or the engine's reason for refusing it."""

    case: Case
    result: dict | None
    provenance: dict | None = None
    refusal: str = ""


@dataclass(frozen=True)
class Computed:
    """Everything a confirmation computes from its :class:`Facts`, before it writes."""

    cases: list[Case]
    notes: list[str]  # what the mapping left out, and why
    findings: list[dict]  # non-empty: the version is held (case_findings)
    runs: list[Run]  # each case run as it would be recorded (verified when a report says so)
    production_t: float | None  # disclosed_production_t


def compute(facts: Facts, *, file: str, review: dict | None = None) -> Computed:
    """Map ``facts`` to cases and run each: the findings that would hold the version and
    the results its estimates would record (tier "verified" where ``facts.verification``
    names a positive report), with their provenance (``review``: an official's decision
    on a held version) and the disclosed production."""
    notes: list[str] = []
    found = version_cases(facts, notes)
    runs = []
    for case in found:
        try:
            result = methodologies.run_case(verified_case(case.case, bool(facts.verification)))
        except MethodologyError as exc:
            refusal = f"{case.cn_code}: the engine refused the case: {exc}"
            runs.append(Run(case, None, refusal=refusal))
        else:
            tier = result.get("tier", DISCLOSED)
            cited = provenance(facts=facts, case=case, tier=tier, review=review)
            runs.append(Run(case, result, cited))
    return Computed(
        cases=found,
        notes=notes,
        findings=case_findings(found, file=file),
        runs=runs,
        production_t=disclosed_production_t(facts),
    )
