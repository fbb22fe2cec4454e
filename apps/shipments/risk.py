"""The risk view of officials: exporters and installations ranked by the gap between the
two figures of their shipments (CBAM figure − best estimate, tCO2e), with the flags that
explain it (docs/web.md, the risk view; docs/design.md, the two figures).

Reads only. Flags are computed when asked, each with its trace (the values compared):

- ``see_outside_modelled_interval``: a disclosed or verified SEE outside the modelled
  interval [p05, p95] of the same installation, good and year;
- ``production_contradicted``: an open reconciliation flag of the satellite area
  (disclosed production against satellite-implied activity, ``apps.satellite``);
- ``production_above_capacity``: a disclosed or verified annual production of a good
  above the installation's registry capacity by more than :data:`CAPACITY_TOLERANCE`
  (docs/registry.md, "Production above capacity");
- ``default_overstates``: the CBAM figure (a default with mark-up) above the best
  estimate's p95, i.e. by more than its uncertainty: an exporter for whom disclosure
  would pay.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from apps.estimates.models import Estimate, Tier
from apps.shipments.models import Shipment


@dataclass
class RiskRow:
    """One exporter or installation of the ranking."""

    kind: str  # "exporter" or "installation"
    id: int
    name: str
    country: str
    shipments: int = 0
    net_mass_t: float = 0.0
    cbam_t: float = 0.0
    best_t: float = 0.0
    best_tiers: dict[str, float] = field(default_factory=dict)  # tier → mass [t]
    flags: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # What confirming the suggested (not yet decided) links would remove [tCO2e].
    potential_gap_t: float = 0.0

    @property
    def gap_t(self) -> float:
        return self.cbam_t - self.best_t

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "shipments": self.shipments,
            "net_mass_t": self.net_mass_t,
            "cbam_embedded_emissions_t": self.cbam_t,
            "best_embedded_emissions_t": self.best_t,
            "gap_t": self.gap_t,
            "potential_gap_t": self.potential_gap_t,
            "best_tiers": self.best_tiers,
            "flags": self.flags,
            "reasons": self.reasons,
        }


def _scope(
    cn_code: str = "",
    origin: str = "",
    period_from=None,
    period_to=None,
    include_implausible: bool = False,
) -> Q:
    q = Q(is_current=True, best_estimate_id__isnull=False, estimate_id__isnull=False)
    if not include_implausible:  # lines flagged at ingest (apps.shipments.plausibility)
        q &= Q(implausible=False)
    if cn_code:
        q &= Q(cn_code__startswith=cn_code)
    if origin:
        q &= Q(origin=origin.upper())
    if period_from:
        q &= Q(date__gte=period_from)
    if period_to:
        q &= Q(date__lte=period_to)
    return q


def interval_flags(estimates: list[Estimate]) -> list[dict[str, Any]]:
    """``see_outside_modelled_interval`` for each disclosed or verified estimate whose SEE
    lies outside the current modelled interval of its installation, good and year."""
    actual = [
        e
        for e in estimates
        if e.tier in (Tier.DISCLOSED, Tier.VERIFIED) and e.installation_id is not None
    ]
    if not actual:
        return []
    modelled = Estimate.objects.filter(
        tier=Tier.MODELLED,
        superseded_by__isnull=True,
        installation_id__in={e.installation_id for e in actual},
        interval_low_t_per_t__isnull=False,
        interval_high_t_per_t__isnull=False,
    ).defer("trace")
    out = []
    for e in actual:
        for m in modelled:
            if (
                m.installation_id == e.installation_id
                and m.period_start.year == e.period_start.year
                and (e.cn_code.startswith(m.cn_code) or m.cn_code.startswith(e.cn_code))
                and not m.interval_low_t_per_t <= e.see_total_t_per_t <= m.interval_high_t_per_t
            ):
                out.append(
                    {
                        "flag": "see_outside_modelled_interval",
                        "installation": e.installation_id,
                        "reason": (
                            f"{e.tier} SEE {e.see_total_t_per_t:.4f} t/t (estimate {e.pk}) is "
                            f"outside the modelled interval {m.interval_low_t_per_t:.4f}–"
                            f"{m.interval_high_t_per_t:.4f} t/t (estimate {m.pk}), CN "
                            f"{e.cn_code}, {e.period_start.year}"
                        ),
                        "trace": {
                            "estimate": e.pk,
                            "see_total_t_per_t": e.see_total_t_per_t,
                            "modelled_estimate": m.pk,
                            "p05": m.interval_low_t_per_t,
                            "p95": m.interval_high_t_per_t,
                        },
                    }
                )
                break
    return out


def production_flags(installation_ids: set[int]) -> list[dict[str, Any]]:
    """``production_contradicted``: the satellite area's open reconciliation flags."""
    from apps.satellite.models import ReconciliationFlag

    return [
        {
            "flag": "production_contradicted",
            "installation": f.installation_id,
            "reason": f.reason,
            "trace": {
                "reconciliation_flag": f.pk,
                "period": f.period,
                "disclosed": f.disclosed_value,
                "satellite": f.satellite_value,
                "z_score": f.z_score,
                "trace_sha256": f.trace_sha256,
            },
        }
        for f in ReconciliationFlag.objects.filter(
            installation_id__in=installation_ids,
            status__in=[ReconciliationFlag.Status.OPEN, ReconciliationFlag.Status.REVIEW],
        ).defer("trace")
    ]


CAPACITY_TOLERANCE = 0.10  # production may exceed nominal capacity by this share


def _activity_t(trace: dict) -> float | None:
    """The annual production [t] of the good an estimate's case states: the good's
    activity level (``cbam.installation``) or the production of a route model."""
    from methodologies.uncertainty import nominal

    case = trace.get("case") or {}
    value = (case.get("good") or {}).get("activity_level_t", case.get("production_t"))
    if value is None:
        return None
    try:
        return float(nominal(value))
    except (KeyError, TypeError, ValueError):
        return None


def capacity_flags(installation_ids: set[int]) -> list[dict[str, Any]]:
    """``production_above_capacity``: each current disclosed or verified estimate whose
    good's annual production exceeds the installation's registry capacity
    (:func:`apps.facilities.selectors.installation_registry_capacity`) by more than
    :data:`CAPACITY_TOLERANCE`; the trace names both figures and their sources."""
    from apps.facilities.models import Installation
    from apps.facilities.selectors import installation_registry_capacity

    if not installation_ids:
        return []
    plants = {
        i.pk: i
        for i in Installation.objects.filter(pk__in=installation_ids).only(
            "identifier", "capacities", "source", "source_release"
        )
    }
    out = []
    for e in Estimate.objects.filter(
        installation_id__in=list(plants),
        tier__in=[Tier.DISCLOSED, Tier.VERIFIED],
        superseded_by__isnull=True,
    ).order_by("installation_id", "period_start", "cn_code", "pk"):
        plant = plants[e.installation_id]
        stated = installation_registry_capacity(plant)
        production = _activity_t(json.loads(e.trace))
        if stated is None or production is None:
            continue
        capacity, unit = stated
        if production <= capacity * (1 + CAPACITY_TOLERANCE):
            continue
        source = plant.source_release or plant.source or "registry"
        out.append(
            {
                "flag": "production_above_capacity",
                "installation": e.installation_id,
                "reason": (
                    f"{e.tier} production {production:,.0f} t of CN {e.cn_code} in "
                    f"{e.period_start.year} (estimate {e.pk}) exceeds the registry capacity "
                    f"{capacity:,.0f} t/a ({unit or 'all units'}, {source}) by "
                    f"{production / capacity - 1:.0%}, more than the "
                    f"{CAPACITY_TOLERANCE:.0%} tolerance"
                ),
                "trace": {
                    "estimate": e.pk,
                    "tier": e.tier,
                    "cn_code": e.cn_code,
                    "year": e.period_start.year,
                    "disclosed_production_t": production,
                    "capacity_t": capacity,
                    "capacity_unit": unit,
                    "capacity_source": source,
                    "tolerance": CAPACITY_TOLERANCE,
                    "ratio": production / capacity,
                },
            }
        )
    return out


def overstatement_flag(cbam: Estimate, best: Estimate, mass_t: float) -> dict | None:
    """``default_overstates``: a default CBAM figure above the best estimate's p95."""
    if cbam.tier != Tier.DEFAULT or best.tier == Tier.DEFAULT:
        return None
    bound = best.interval_high_t_per_t
    if bound is None or cbam.see_total_t_per_t <= bound:
        return None
    return {
        "flag": "default_overstates",
        "installation": best.installation_id,
        "reason": (
            f"default {cbam.see_total_t_per_t:.4f} t/t (with mark-up) exceeds the {best.tier} "
            f"estimate's p95 {bound:.4f} t/t (best {best.see_total_t_per_t:.4f} t/t) on "
            f"{mass_t:,.0f} t: disclosure would pay"
        ),
        "trace": {
            "cbam_estimate": cbam.pk,
            "cbam_see_total_t_per_t": cbam.see_total_t_per_t,
            "best_estimate": best.pk,
            "best_see_total_t_per_t": best.see_total_t_per_t,
            "p95": bound,
            "net_mass_t": mass_t,
        },
    }


def _components(estimate: Estimate) -> dict[int | None, float]:
    """Installation id → share of a best estimate: itself, or a mixture's weights."""
    if estimate.methodology != "estimate.mixture":
        return {estimate.installation_id: 1.0}
    from apps.facilities.models import Installation

    weights = json.loads(estimate.trace)["result"]["weights"]
    ids = dict(
        Installation.objects.filter(identifier__in=list(weights)).values_list("identifier", "id")
    )
    return {ids.get(k): w for k, w in weights.items()}


def risk_ranking(
    *,
    cn_code: str = "",
    origin: str = "",
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    limit: int = 100,
    include_implausible: bool = False,
) -> dict[str, list[RiskRow]]:
    """Exporters and installations ranked by gap (tCO2e, largest first), with reasons;
    lines flagged implausible at ingest are left out unless ``include_implausible``.

    One grouped query over the current shipments (by exporter, CBAM estimate and best
    estimate); an installation's share of a mixture's gap follows the mixture's weights."""
    from apps.accounts.models import Organisation
    from apps.facilities.models import Installation

    groups = list(
        Shipment.objects.filter(
            _scope(cn_code, origin, period_from, period_to, include_implausible)
        )
        .values("exporter_id", "estimate_id", "best_estimate_id")
        .annotate(
            mass=Sum("net_mass_t"),
            cbam=Coalesce(Sum("embedded_emissions_t"), 0.0),
            best=Coalesce(Sum("best_embedded_emissions_t"), 0.0),
            n=Count("id"),
        )
        .order_by()
    )
    ids = {g["estimate_id"] for g in groups} | {g["best_estimate_id"] for g in groups}
    estimates = Estimate.objects.in_bulk(ids)
    orgs = Organisation.objects.in_bulk({g["exporter_id"] for g in groups})
    exporters: dict[int, RiskRow] = {}
    plants: dict[int, RiskRow] = {}
    shares: dict[int, dict[int | None, float]] = {}
    for g in groups:
        cbam, best = estimates[g["estimate_id"]], estimates[g["best_estimate_id"]]
        org = orgs[g["exporter_id"]]
        row = exporters.setdefault(org.pk, RiskRow("exporter", org.pk, org.name, org.country))
        rows = [(row, 1.0)]
        share = shares.setdefault(best.pk, _components(best))
        for inst, w in share.items():
            if inst is not None:
                rows.append((plants.setdefault(inst, RiskRow("installation", inst, "", "")), w))
        flag = overstatement_flag(cbam, best, g["mass"])
        for r, w in rows:
            r.shipments += g["n"] if w == 1.0 or r.kind == "exporter" else 0
            r.net_mass_t += w * g["mass"]
            r.cbam_t += w * g["cbam"]
            r.best_t += w * g["best"]
            r.best_tiers[best.tier] = r.best_tiers.get(best.tier, 0.0) + w * g["mass"]
            if flag and (r.kind == "exporter" or flag["installation"] in (None, r.id)):
                if flag["reason"] not in (f["reason"] for f in r.flags):
                    r.flags.append(flag)
    for inst in Installation.objects.filter(pk__in=list(plants)).only("name", "country"):
        plants[inst.pk].name, plants[inst.pk].country = inst.name, inst.country
    # The disclosed and verified values of the plants reached (a mixture's components too).
    actual = Estimate.objects.filter(
        installation_id__in=list(plants),
        tier__in=[Tier.DISCLOSED, Tier.VERIFIED],
        superseded_by__isnull=True,
    ).defer("trace")
    extra = (
        interval_flags(list(actual)) + production_flags(set(plants)) + capacity_flags(set(plants))
    )
    by_plant: dict[int, list[dict]] = {}
    for f in extra:
        by_plant.setdefault(f["installation"], []).append(f)
    for pk, row in plants.items():
        row.flags += by_plant.get(pk, [])
    for g in groups:  # an exporter inherits its plants' flags
        for inst in shares[g["best_estimate_id"]]:
            for f in by_plant.get(inst, []):
                row = exporters[g["exporter_id"]]
                if f not in row.flags:
                    row.flags.append(f)
    _suggested_links(groups, estimates, exporters, plants)
    for row in [*exporters.values(), *plants.values()]:
        tiers = ", ".join(f"{t} {m:,.0f} t" for t, m in sorted(row.best_tiers.items()))
        row.reasons.append(
            f"CBAM figure {row.cbam_t:,.1f} t − best estimate {row.best_t:,.1f} t = "
            f"{row.gap_t:,.1f} tCO2e (best estimate by tier: {tiers})"
        )
        row.reasons += [f["reason"] for f in row.flags]

    def ranked(rows):
        return sorted(rows, key=lambda r: (-(r.gap_t + r.potential_gap_t), -len(r.flags), r.id))[
            :limit
        ]

    return {"exporters": ranked(exporters.values()), "installations": ranked(plants.values())}


def _suggested_links(groups, estimates, exporters, plants) -> None:
    """``default_overstates`` through a suggested link: an exporter still on the default
    whose suggested plant (same country, a current estimate of the good and year) has a
    p95 below the CBAM figure. The official follows it to the installation, weighs the
    evidence and confirms the link, which re-chooses both figures."""
    from apps.facilities.models import Installation, MatchSuggestion

    suggested: dict[int, list[int]] = {}
    for org, inst in MatchSuggestion.objects.filter(
        kind=MatchSuggestion.Kind.INSTALLATION,
        status=MatchSuggestion.Status.SUGGESTED,
        organisation_id__in=list(exporters),
    ).values_list("organisation_id", "installation_id"):
        suggested.setdefault(org, []).append(inst)
    if not suggested:
        return
    plant_ids = {i for ids in suggested.values() for i in ids}
    rungs = list(
        Estimate.objects.filter(
            installation_id__in=plant_ids,
            superseded_by__isnull=True,
            tier__in=[Tier.VERIFIED, Tier.DISCLOSED, Tier.MODELLED],
        ).defer("trace")
    )
    names, countries = {}, {}
    for pk, name, country in Installation.objects.filter(pk__in=plant_ids).values_list(
        "pk", "name", "country"
    ):
        names[pk], countries[pk] = name, country
    for g in groups:
        cbam, best = estimates[g["estimate_id"]], estimates[g["best_estimate_id"]]
        if best.tier != Tier.DEFAULT or cbam.tier != Tier.DEFAULT:
            continue
        for inst in suggested.get(g["exporter_id"], []):
            match = [
                e
                for e in rungs
                if e.installation_id == inst
                and e.origin == cbam.origin
                and cbam.cn_code.startswith(e.cn_code)
                and e.period_start.year == cbam.period_start.year
            ]
            if not match:
                continue
            e = min(match, key=lambda e: ({"verified": 0, "disclosed": 1}.get(e.tier, 2), -e.pk))
            flag = overstatement_flag(cbam, e, g["mass"])
            if flag is None:
                continue
            potential = g["mass"] * (cbam.see_total_t_per_t - e.see_total_t_per_t)
            flag["reason"] = (
                f"suggested link to {names.get(inst, inst)}, not confirmed yet: " + flag["reason"]
            )
            flag["suggested_link"] = True
            row = exporters[g["exporter_id"]]
            row.potential_gap_t += potential
            row.flags.append(flag)
            plant = plants.setdefault(
                inst, RiskRow("installation", inst, names.get(inst, ""), countries.get(inst, ""))
            )
            plant.potential_gap_t += potential
            plant.flags.append(flag)
            break
