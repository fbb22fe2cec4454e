"""The figures section of an installation's page (apps/facilities/panels.py): the plant's
current estimates with their intervals (the modelled rung and its evidence), and the
exporters linked or suggested to it with their shipments and the gap between the two
figures (docs/registry.md, the installation page); its reported emissions (EU ETS) where
known beside the modelled ones with their interval (docs/modelled.md); and the flags of
its disclosed production against the registry's capacity (apps/shipments/risk.py).
Suggestions name other organisations: officials, auditors and admins only."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from apps.estimates.models import Estimate
from apps.facilities.models import MatchSuggestion
from apps.facilities.panels import installation_panel
from apps.facilities.selectors import (
    installation_emissions_compared,
    match_deciders,
    match_reviewers,
)
from apps.shipments.models import Shipment
from apps.shipments.risk import capacity_flags


@installation_panel(order=15, template="shipments/_installation_figures.html")
def figures_panel(user, installation) -> dict:
    current = list(
        Estimate.objects.filter(installation=installation, superseded_by__isnull=True)
        .defer("trace")
        .order_by("-period_start", "cn_code", "tier")
    )
    links = []
    if match_reviewers(user):
        suggestions = list(
            installation.match_suggestions.filter(kind=MatchSuggestion.Kind.INSTALLATION)
            .select_related("organisation", "decided_by")
            .order_by("-score")
        )
        totals = {
            r["exporter_id"]: r
            for r in Shipment.objects.filter(
                is_current=True,
                exporter_id__in=[s.organisation_id for s in suggestions],
                origin=installation.country,
            )
            .filter(Q(installation__isnull=True) | Q(installation=installation))
            .values("exporter_id")
            .annotate(
                n=Count("id"),
                mass=Sum("net_mass_t"),
                cbam=Sum("embedded_emissions_t"),
                best=Sum("best_embedded_emissions_t"),
            )
        }
        for s in suggestions:
            t = totals.get(s.organisation_id, {})
            gap = (t.get("cbam") or 0.0) - (t.get("best") or 0.0) if t else None
            links.append({"suggestion": s, "shipments": t.get("n", 0), "gap": gap})
    return {
        "current_estimates": current,
        "links": links,
        "can_decide": match_deciders(user),
        "emissions_compared": installation_emissions_compared(installation),
        "capacity_flags": capacity_flags({installation.pk}),
    }
