"""This area's part of ``manage.py demo``: the two figures of the demo's shipments.

The registry's plants were modelled by the registry step (the modelled rung); this step
confirms the best-scored suggested links between the demo's
synthetic exporters and real plants of their shipments' countries (as the demo official,
audited), re-chooses both figures of every shipment, and prints the best-estimate tiers
and the top of the officials' risk view. The shipments are synthetic; the plants are real
(Global Energy Monitor, CC BY 4.0): the pages say so wherever both appear."""

from __future__ import annotations

from django.db.models import Sum

from apps.accounts.models import User
from apps.facilities.models import MatchSuggestion
from apps.facilities.services import match_decide
from apps.shipments.models import Shipment
from apps.shipments.risk import risk_ranking
from apps.shipments.services import shipment_figures_rechoose

LINKS = 3


def run(*, command, number: int) -> None:
    command._heading(f"{number}. Two figures per shipment: CBAM figure and best estimate")
    official = User.objects.filter(role=User.Role.OFFICIAL).order_by("id").first()
    origins = dict(
        Shipment.objects.filter(is_current=True)
        .values_list("exporter_id", "origin")
        .order_by("exporter_id", "origin")
        .distinct()
    )
    linked = 0
    for s in MatchSuggestion.objects.filter(
        kind=MatchSuggestion.Kind.INSTALLATION, status=MatchSuggestion.Status.SUGGESTED
    ).select_related("organisation", "installation"):
        if linked >= LINKS or origins.get(s.organisation_id) != s.installation.country:
            continue
        match_decide(
            suggestion_id=s.pk,
            decision=MatchSuggestion.Status.CONFIRMED,
            actor=official,
            note="demo: synthetic exporter linked to a real plant",
        )
        command.stdout.write(
            f"  linked synthetic exporter {s.organisation.name} → real plant "
            f"{s.installation.name} ({s.installation.identifier}, {s.installation.country})"
        )
        linked += 1
    out = shipment_figures_rechoose(actor=official)
    tiers = dict(
        Shipment.objects.filter(is_current=True)
        .values_list("best_tier")
        .annotate(t=Sum("net_mass_t"))
        .order_by()
    )
    command.stdout.write(
        f"  re-chosen: {out.shipments:,} shipments changed, {out.mixtures} mixtures; "
        "best estimate by tier (t): "
        + ", ".join(f"{k or 'none'} {v:,.0f}" for k, v in sorted(tiers.items()))
    )
    ranking = risk_ranking(limit=3)
    for row in ranking["exporters"]:
        flags = ", ".join(sorted({f["flag"] for f in row.flags})) or "no flag"
        command.stdout.write(
            f"  risk: {row.name} (synthetic) gap {row.gap_t:,.1f} tCO2e, potential "
            f"{row.potential_gap_t:,.1f}; {flags}"
        )
    command.stdout.write("  risk view: /risk/ (officials), API /api/v1/risk/")
