"""Recompute a CBAM communication template with the engine (pure: no Django).

:func:`recompute_template` takes what :func:`ingest.disclosure.template_full.
read_template_full` read and builds, for every production process of the installation,
a ``cbam.installation`` case from the template's own inputs (docs/official-formats.md,
"Recomputing it"):

- ``good.activity_level_t``: the process's total production (``D_Processes`` (a));
- ``direct``: DirEm (g), measurable heat imported and exported (h, TJ × tCO2/TJ), waste
  gas imported and exported (i, TJ, valued at the standard natural-gas factor 56.1
  tCO2/TJ, exported gas with the standard Corr_η 0.667: IR 2025/2547 Annex II point G and
  Annex III A.2.3, the factors the template itself applies), electricity exported (k);
- ``electricity``: consumption and its emission factor (j);
- ``precursors``: the other processes' output consumed in this one (c), at the SEE the
  engine computed for them, and the purchased precursors consumed in it (``E_PurchPrec``
  (b)), at the SEE the supplier communicated, with their country.

Processes are computed in the order of the precursor chain (a cycle is refused). Each
product of ``Summary_Products`` takes the SEE of its process. The engine's SEE (direct) is
compared with the template's. For the indirect SEE two figures differ by definition: the
template's "SEE (indirect)" is the process's own indirect emissions plus *all* its
precursors' indirect emissions, whereas the engine's CBAM-counted indirect drops the
indirect emissions of a precursor that is itself an Annex II good (Reg. 2023/956 Annex II;
docs/method-cbam.md). The comparison with the template therefore uses the template's
definition, built from the engine's attributed indirect emissions (AttrEm_indir):
``(AttrEm_indir + Σ M_i × SEE_i,indir) / AL``; the engine's own figure is kept beside it
(``see_indirect_counted_t_per_t``).

Agreement: within :data:`TOLERANCE_T_PER_T` (absolute) or a relative 1e-6: the
template's SEE are floating-point results of the same arithmetic, so any larger gap is a
difference of inputs or of rules, which is then a flag naming the first step where the
two computations part.
"""

from __future__ import annotations

from typing import Any

from methodologies.cbam_installation import compute_installation
from methodologies.errors import CaseError

#: Standard emission factor of natural gas used to value waste gases (IR 2025/2547
#: Annex II point G; the template's D_Processes (i) applies the same 56.1 tCO2/TJ).
EF_NG_T_PER_TJ = 56.1
#: Half a unit of the third decimal: the template shows SEE to three decimals.
TOLERANCE_T_PER_T = 0.0005
RELATIVE_TOLERANCE = 1e-6


#: tCO2 per tC, as the template's mass balance applies it (IR 2025/2547 Annex II: 44/12
#: rounded to the factor the Commission's template uses, f = 3.664).
F_CO2_PER_C = 3.664
#: Source streams agree with the template's stated emissions (AU) within this (t) or
#: the relative tolerance above.
TOLERANCE_T = 0.001


class TemplateRecomputeError(ValueError):
    """The template's inputs cannot be turned into engine cases (named)."""


def _agree(a: float, b: float | None) -> bool:
    if b is None:
        return False
    return abs(a - b) <= max(TOLERANCE_T_PER_T, RELATIVE_TOLERANCE * abs(b))


def _order(processes: dict[str, dict]) -> list[str]:
    """Process names, suppliers before consumers; a cycle raises naming it."""
    feeds = {name: [c["to"] for c in p["consumed_in"]] for name, p in processes.items()}
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise TemplateRecomputeError(
                "D_Processes: the processes consume each other in a cycle: "
                + " → ".join([*path, name])
            )
        state[name] = 1
        for supplier, targets in feeds.items():
            if name in targets:
                visit(supplier, [*path, name])
        state[name] = 2
        done.append(name)

    for name in processes:
        visit(name, [])
    return done


def _cn_of(category: str, template: dict, products: list[dict], process: str = "") -> str:
    """The CN code a process or purchased precursor is computed under: the first product
    of that process in Summary_Products, else the first code of its category in the
    template's own CN list (``Parameters_CNCodes``)."""
    for product in products:
        if process and product.get("process") == process:
            return product["cn_code"]
    codes = template.get("cn_codes", {}).get(category) or []
    if not codes:
        raise TemplateRecomputeError(
            f"no CN code for the aggregated goods category {category!r} in the template's "
            "CN list (Parameters_CNCodes)"
        )
    return codes[0]


def process_case(
    process: dict,
    *,
    cn_code: str,
    installation_id: str,
    precursors: list[dict],
) -> dict[str, Any]:
    """The ``cbam.installation`` case of one production process of the template."""
    direct: dict[str, Any] = {"attributed_emissions_t": process["direct_emissions_t"]}
    if process["heat_imported_tj"]:
        direct["heat_imported_tj"] = process["heat_imported_tj"]
        direct["heat_imported_ef_t_per_tj"] = process["heat_imported_ef_t_per_tj"]
    if process["heat_exported_tj"]:
        direct["heat_exported_tj"] = process["heat_exported_tj"]
        direct["heat_exported_ef_t_per_tj"] = process["heat_exported_ef_t_per_tj"]
    if process["waste_gas_imported_tj"] or process["waste_gas_exported_tj"]:
        direct["waste_gas_imported_tj"] = process["waste_gas_imported_tj"]
        direct["waste_gas_exported_tj"] = process["waste_gas_exported_tj"]
        direct["waste_gas_ef_t_per_tj"] = EF_NG_T_PER_TJ
    if process["electricity_exported_mwh"]:
        direct["electricity_exported_mwh"] = process["electricity_exported_mwh"]
        direct["electricity_exported_ef_t_per_mwh"] = process["electricity_exported_ef_t_per_mwh"]
    case: dict[str, Any] = {
        "methodology": "cbam.installation",
        "installation_id": f"{installation_id}/{process['name']}",
        "good": {"cn_code": cn_code, "activity_level_t": process["activity_level_t"]},
        "direct": direct,
        "tier": "disclosed",
    }
    if process["electricity_mwh"]:
        case["electricity"] = {
            "consumed_mwh": process["electricity_mwh"],
            "ef_t_per_mwh": process["electricity_ef_t_per_mwh"],
        }
    if precursors:
        case["precursors"] = [
            {
                k: p[k]
                for k in (
                    "cn_code",
                    "mass_t",
                    "origin",
                    "see_direct_t_per_t",
                    "see_indirect_t_per_t",
                )
            }
            for p in precursors
        ]
    return case


def _ratio(value: float | None, unit: str) -> float:
    """A factor as the template gives it (a percentage with unit "%"), as a fraction; an
    empty factor is 100 % (the template's default)."""
    if value is None:
        return 1.0
    return value / 100.0 if unit.strip() == "%" else value


def source_stream_emissions(stream: dict) -> tuple[float | None, str]:
    """``(fossil tCO2, formula)`` of one ``B_EmInst`` source stream from its own inputs, as
    IR 2025/2547 Annex II (calculation-based methodology) and the template compute it:

    - combustion: AD × NCV × EF × OxF (EF per TJ: × 1/1000 for NCV in GJ), or AD × EF × OxF
      with an EF per unit of activity;
    - process emissions: AD × EF × ConvF;
    - mass balance: AD × C × 3.664 (outputs carry a negative AD);

    each times the fossil share (1 − biomass content). ``(None, reason)`` for a method or
    a missing input the recomputation cannot use."""
    method = stream["method"].strip().lower()
    ad = stream["ad"]
    if ad is None:
        return None, "no activity data"
    fossil = (
        1.0 - _ratio(stream["biomass_content"], stream["biomass_content_unit"])
        if (stream["biomass_content"] is not None)
        else 1.0
    )
    ef, ncv = stream["ef"], stream["ncv"]
    if method == "combustion":
        if ef is None:
            return None, "no emission factor"
        oxf = _ratio(stream["oxidation_factor"], stream["oxidation_factor_unit"])
        if stream["ef_unit"].replace(" ", "").lower().endswith("/tj"):
            if ncv is None:
                return None, "no net calorific value"
            return ad * ncv * ef / 1000.0 * oxf * fossil, "AD × NCV × EF / 1000 × OxF"
        return ad * ef * oxf * fossil, "AD × EF × OxF"
    if method == "process emissions":
        if ef is None:
            return None, "no emission factor"
        conv = _ratio(stream["conversion_factor"], stream["conversion_factor_unit"])
        return ad * ef * conv * fossil, "AD × EF × ConvF"
    if method == "mass balance":
        c = stream["carbon_content"]
        if c is None:
            return None, "no carbon content"
        c = _ratio(c, stream["carbon_content_unit"]) if stream["carbon_content_unit"] == "%" else c
        return ad * c * F_CO2_PER_C * fossil, "AD × C × 3.664"
    return None, f"method {stream['method']!r} is not recomputed"


def source_streams_check(template: dict) -> tuple[list[dict], list[dict]]:
    """Each source stream of ``B_EmInst`` (a) recomputed from its inputs beside the
    template's stated emissions (AU), and a flag for each that disagrees (both figures,
    the formula and its cells)."""
    rows, flags = [], []
    for stream in template.get("source_streams", []):
        computed, formula = source_stream_emissions(stream)
        stated = stream.get("stated_emissions_t")
        cells = stream["cells"]
        row = {
            "row": stream["row"],
            "name": stream["name"],
            "method": stream["method"],
            "emissions_t": computed,
            "template_emissions_t": stated,
            "formula": formula,
            "cell": cells.get("stated_emissions_t", ""),
        }
        if computed is None or stated is None:
            row["agrees"] = None  # nothing to compare
        else:
            row["agrees"] = abs(computed - stated) <= max(
                TOLERANCE_T, RELATIVE_TOLERANCE * abs(stated)
            )
        rows.append(row)
        if row["agrees"] is False:
            inputs = ", ".join(
                cells[k]
                for k in ("ad", "ncv", "ef", "carbon_content", "oxidation_factor",
                          "conversion_factor", "biomass_content")
                if stream.get(k) is not None and k in cells
            )  # fmt: skip
            step = f"B_EmInst: source stream {stream['name']!r}: {formula} ({inputs})"
            flags.append(
                {
                    "cn_code": "",
                    "cell": row["cell"],
                    "field": "source_stream",
                    "platform_t": computed,
                    "template_t": stated,
                    "difference_t": computed - stated,
                    "step": step,
                    "reason": (
                        f"{row['cell']}: the template states {stated} tCO2 for source stream "
                        f"{stream['name']!r}; its own inputs give {computed:.6f} "
                        f"(first step where they part: {step})"
                    ),
                }
            )
    return rows, flags


def recompute_template(template: dict) -> dict:
    """Recompute every process and product of a read template with the engine.

    Returns ``{"processes": [{name, case, see_direct_t_per_t, see_indirect_t_per_t,
    see_indirect_counted_t_per_t, trace_sha256}], "products": [{cn_code, process,
    see_direct_t_per_t, see_indirect_t_per_t, see_indirect_counted_t_per_t,
    template_see_direct_t_per_t, template_see_indirect_t_per_t, agrees, cell}],
    "source_streams": [{row, name, method, emissions_t, template_emissions_t, formula,
    agrees, cell}], "flags": [...]}``. A flag names the product (or the source stream),
    both figures and the first step where the computations part: a source stream whose
    stated emissions its own inputs do not give comes first.
    """
    products = template["products"]
    country = template["installation"].get("country_code") or ""
    installation_id = template["installation"].get("name") or "installation"
    processes = {p["name"]: p for p in template["processes"]}
    purchased = template["purchased_precursors"]
    computed: dict[str, dict] = {}
    for name in _order(processes):
        process = processes[name]
        cn = _cn_of(process["aggregated_good"], template, products, name)
        precursors = []
        for supplier_name, supplier in processes.items():
            for use in supplier["consumed_in"]:
                if use["to"] == name:
                    up = computed[supplier_name]
                    precursors.append(
                        {
                            "name": supplier_name,
                            "kind": "process",
                            "cn_code": up["cn_code"],
                            "mass_t": use["mass_t"],
                            "origin": country,
                            "see_direct_t_per_t": up["see_direct_t_per_t"],
                            "see_indirect_t_per_t": up["see_indirect_t_per_t"],
                            "cell": use["cell"],
                        }
                    )
        for bought in purchased:
            for use in bought["consumed_in"]:
                if use["to"] == name:
                    precursors.append(
                        {
                            "name": bought["name"],
                            "kind": "purchased",
                            "cn_code": _cn_of(bought["aggregated_good"], template, []),
                            "mass_t": use["mass_t"],
                            "origin": bought["country"] or country,
                            "see_direct_t_per_t": bought["see_direct_t_per_t"],
                            "see_indirect_t_per_t": bought["see_indirect_t_per_t"],
                            "cell": use["cell"],
                        }
                    )
        case = process_case(
            process, cn_code=cn, installation_id=installation_id, precursors=precursors
        )
        try:
            result = compute_installation(case)
        except CaseError as exc:
            raise TemplateRecomputeError(
                f"D_Processes: process {name!r} ({process['cells']['activity_level_t']}): {exc}"
            ) from exc
        al = process["activity_level_t"]
        indirect = (
            result.attributed_indirect_emissions_t
            + sum(p["mass_t"] * p["see_indirect_t_per_t"] for p in precursors)
        ) / al
        computed[name] = {
            "name": name,
            "cn_code": cn,
            "case": case,
            "precursors": precursors,
            "activity_level_t": al,
            "attributed_direct_emissions_t": result.attributed_direct_emissions_t,
            "attributed_indirect_emissions_t": result.attributed_indirect_emissions_t,
            "see_direct_t_per_t": result.see_direct_t_per_t,
            "see_indirect_t_per_t": indirect,
            "see_indirect_counted_t_per_t": result.see_indirect_t_per_t,
            "trace_sha256": result.trace_sha256,
            "cells": process["cells"],
        }
    streams, stream_flags = source_streams_check(template)
    out_products, flags = [], list(stream_flags)
    for product in products:
        name = product.get("process") or ""
        up = computed.get(name)
        row = {
            "cn_code": product["cn_code"],
            "process": name,
            "template_see_direct_t_per_t": product["see_direct_t_per_t"],
            "template_see_indirect_t_per_t": product["see_indirect_t_per_t"],
            "cell": product["cells"].get("see_direct", ""),
        }
        if up is None:
            row.update(
                see_direct_t_per_t=None,
                see_indirect_t_per_t=None,
                see_indirect_counted_t_per_t=None,
                agrees=False,
            )
            flags.append(
                {
                    "cn_code": product["cn_code"],
                    "cell": row["cell"],
                    "step": "Summary_Products: production process",
                    "reason": f"the product names production process {name!r}, which "
                    "D_Processes does not define",
                }
            )
            out_products.append(row)
            continue
        row.update(
            see_direct_t_per_t=up["see_direct_t_per_t"],
            see_indirect_t_per_t=up["see_indirect_t_per_t"],
            see_indirect_counted_t_per_t=up["see_indirect_counted_t_per_t"],
        )
        direct_ok = _agree(up["see_direct_t_per_t"], product["see_direct_t_per_t"])
        indirect_ok = _agree(up["see_indirect_t_per_t"], product["see_indirect_t_per_t"])
        row["agrees"] = direct_ok and indirect_ok
        out_products.append(row)
        for which, ok in (("direct", direct_ok), ("indirect", indirect_ok)):
            if not ok:
                flag = _flag(product, which, up, computed, processes)
                if which == "direct" and stream_flags:
                    # the source streams are computed before any process's emissions
                    flag["step"] = stream_flags[0]["step"]
                    flag["reason"] = flag["reason"].split(" (first step")[0] + (
                        f" (first step where they part: {flag['step']})"
                    )
                flags.append(flag)
    return {
        "source_streams": streams,
        "processes": [
            {k: v for k, v in c.items() if k not in ("cells",)} for c in computed.values()
        ],
        "products": out_products,
        "flags": flags,
    }


def _flag(product: dict, which: str, up: dict, computed: dict, processes: dict) -> dict:
    """The disagreement of one product: both figures and the first step where they part.

    The steps, in the order the template computes them: each precursor's SEE (a process
    upstream whose own products disagree parts first), then the process's attributed
    emissions over its activity level, then the SEE itself."""
    platform = up[f"see_{which}_t_per_t"]
    stated = product[f"see_{which}_t_per_t"]
    step = f"D_Processes: {up['name']}: SEE ({which}) = (attributed emissions + precursors) / "
    step += f"activity level ({up['cells']['activity_level_t']})"
    for p in up["precursors"]:
        if p["kind"] == "process":
            upstream = computed[p["name"]]
            step = (
                f"D_Processes: precursor process {p['name']!r} consumed in {up['name']!r} "
                f"({p['cell']}): its SEE ({which}) {upstream[f'see_{which}_t_per_t']:.6f}"
            )
            break
    return {
        "cn_code": product["cn_code"],
        "cell": product["cells"].get(f"see_{which}", ""),
        "field": f"see_{which}",
        "platform_t_per_t": platform,
        "template_t_per_t": stated,
        "difference_t_per_t": None if stated is None else platform - stated,
        "step": step,
        "reason": (
            f"{product['cells'].get(f'see_{which}', 'Summary_Products')}: the template states "
            f"SEE ({which}) {stated} tCO2e/t for CN {product['cn_code']}; its own inputs give "
            f"{platform:.6f} (first step where they part: {step})"
        ),
    }


# --- writing: a confirmed disclosure into the Commission's blank template --------------

#: Rows of the blank template v2.1.1 (docs/official-formats.md, "Writing it").
PROCESS_BLOCK_ROWS = 65  # D_Processes: process k opens at row 11 + 65 (k - 1)
PRECURSOR_BLOCK_ROWS = 44  # E_PurchPrec: purchased precursor k opens at row 14 + 44 (k - 1)
MAX_PROCESSES = 10
MAX_PURCHASED = 20


class TemplateWriteMappingError(ValueError):
    """A disclosure that the template's layout cannot hold (named)."""


def _template_code(cn_code: str, categories: dict[str, str]) -> tuple[str, str]:
    """(8-digit CN code, aggregated goods category) of ``cn_code`` in the template's own
    CN list: the code itself, else the first listed code that starts with it."""
    if cn_code in categories:
        return cn_code, categories[cn_code]
    for code, category in categories.items():
        if code.startswith(cn_code):
            return code, category
    raise TemplateWriteMappingError(
        f"CN {cn_code} is not in the template's CN list (Parameters_CNCodes)"
    )


def good_from_case(case: dict, *, name: str = "") -> dict:
    """What the template needs of one good, from the engine case the platform computed it
    with: activity level, attributed direct emissions (DirEm after the heat, waste-gas and
    electricity-export corrections), electricity and its factor, and each precursor with
    the SEE the engine counted for it (zero for an exempt origin; no indirect for an
    Annex II precursor), so that the template's formulas give the platform's SEE."""
    result = compute_installation(case)
    normalised = result.case
    good = normalised["good"]
    electricity = normalised.get("electricity") or {}
    precursors = []
    for i, p in enumerate(normalised.get("precursors") or []):
        mass = float(p["mass_t"])
        precursors.append(
            {
                "cn_code": p.get("cn_code") or p["installation"]["good"]["cn_code"],
                "origin": p.get("origin", ""),
                "mass_t": mass,
                "see_direct_t_per_t": result.precursor_direct_t[i] / mass,
                "see_indirect_t_per_t": result.precursor_indirect_t[i] / mass,
            }
        )
    return {
        "cn_code": good["cn_code"],
        "name": name or f"CN {good['cn_code']}",
        "activity_level_t": float(good["activity_level_t"]),
        "direct_emissions_t": result.attributed_direct_emissions_t,
        "electricity_mwh": float(electricity.get("consumed_mwh", 0) or 0),
        "electricity_ef_t_per_mwh": float(electricity.get("ef_t_per_mwh", 0) or 0),
        "precursors": precursors,
        "see_direct_t_per_t": result.see_direct_t_per_t,
        "see_indirect_t_per_t": result.see_indirect_t_per_t,
    }


def template_cells(
    *,
    installation: dict,
    period: tuple[Any, Any],
    goods: list[dict],
    cn_categories: dict[str, str],
) -> dict[tuple[str, str], Any]:
    """The input cells of the blank template v2.1.1 for a disclosure: one production
    process per good (named after its CN code), its purchased precursors in
    ``E_PurchPrec``, and one ``Summary_Products`` row per good.

    ``installation``: ``name``, ``country`` (name as the template lists it, optional),
    ``street``, ``city``, ``unlocode``, ``latitude``, ``longitude`` (all optional but
    ``name``); ``cn_categories``: CN code → aggregated goods category (the template's
    ``Parameters_CNCodes``). A precursor's SEE (indirect) is written as its specific
    electricity consumption 1 MWh/t × an emission factor equal to that SEE (the template
    has no cell for the SEE (indirect) itself: E_PurchPrec (e) iv. = ii. × iii.)."""
    if len(goods) > MAX_PROCESSES:
        raise TemplateWriteMappingError(
            f"{len(goods)} goods: the template holds {MAX_PROCESSES} production processes"
        )
    cells: dict[tuple[str, str], Any] = {
        ("A_InstData", "I9"): period[0],
        ("A_InstData", "L9"): period[1],
        ("A_InstData", "I20"): installation["name"],
    }
    for field, cell in (
        ("street", "I21"),
        ("city", "I25"),
        ("country", "I26"),
        ("unlocode", "I27"),
        ("latitude", "I28"),
        ("longitude", "I29"),
    ):
        if installation.get(field) not in (None, ""):
            cells[("A_InstData", cell)] = installation[field]
    categories: list[str] = []
    purchased: list[tuple[int, dict, str, str]] = []  # (process k, precursor, code, category)
    for k, good in enumerate(goods, start=1):
        code, category = _template_code(good["cn_code"], cn_categories)
        if category not in categories:
            categories.append(category)
        process = f"P{k} {code}"
        row = 10 + (k - 1)
        cells[("A_InstData", f"E{82 + k}")] = category
        cells[("A_InstData", f"L{82 + k}")] = process
        off = PROCESS_BLOCK_ROWS * (k - 1)
        al = good["activity_level_t"]
        cells[("D_Processes", f"L{16 + off}")] = al
        cells[("D_Processes", f"L{27 + off}")] = al
        cells[("D_Processes", f"K{50 + off}")] = False  # no heat: corrections are in DirEm
        cells[("D_Processes", f"L{50 + off}")] = False  # no waste gas, likewise
        cells[("D_Processes", f"L{54 + off}")] = good["direct_emissions_t"]
        cells[("D_Processes", f"L{65 + off}")] = good["electricity_mwh"]
        cells[("D_Processes", f"L{66 + off}")] = good["electricity_ef_t_per_mwh"]
        cells[("D_Processes", f"L{71 + off}")] = 0.0
        cells[("Summary_Products", f"D{row}")] = process
        cells[("Summary_Products", f"F{row}")] = code
        cells[("Summary_Products", f"H{row}")] = good.get("name", "")
        for p in good["precursors"]:
            p_code, p_category = _template_code(p["cn_code"], cn_categories)
            purchased.append((k, p, p_code, p_category))
    if len(categories) > 10:
        raise TemplateWriteMappingError("the template lists at most 10 aggregated goods")
    for i, category in enumerate(categories):
        cells[("A_InstData", f"E{62 + i}")] = category
    if len(purchased) > MAX_PURCHASED:
        raise TemplateWriteMappingError(
            f"{len(purchased)} precursors: the template holds {MAX_PURCHASED}"
        )
    for j, (k, p, code, category) in enumerate(purchased, start=1):
        name = f"PP{j} {code} for P{k}"
        cells[("A_InstData", f"E{101 + j}")] = category
        cells[("A_InstData", f"F{101 + j}")] = p.get("origin", "")
        cells[("A_InstData", f"L{101 + j}")] = name
        off = PRECURSOR_BLOCK_ROWS * (j - 1)
        cells[("E_PurchPrec", f"L{17 + off}")] = p["mass_t"]
        for other in range(1, len(goods) + 1):  # consumed in its good's process only
            cells[("E_PurchPrec", f"L{27 + other + off}")] = p["mass_t"] if other == k else 0.0
        cells[("E_PurchPrec", f"L{49 + off}")] = p["see_direct_t_per_t"]
        cells[("E_PurchPrec", f"L{50 + off}")] = 1.0
        cells[("E_PurchPrec", f"L{51 + off}")] = p["see_indirect_t_per_t"]
    return cells
