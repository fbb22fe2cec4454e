"""This area's part of ``manage.py demo``: the modelled rung of every operating plant of
the registry the previous step loaded (docs/modelled.md)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count

from apps.estimates.modelling import installations_model, registry_years
from apps.estimates.models import Estimate, Tier
from apps.facilities.models import InstallationEmission


def run(*, command, number: int) -> None:
    command._heading(f"{number}. The modelled rung of every operating plant")
    years = sorted(
        set(registry_years(source="gem_steel")) | set(registry_years(source="gem_cement"))
    )
    if not years:
        command.stdout.write("  the registry covers no year: nothing to model")
        return
    if not settings.CM_MODEL_ON_REGISTRY_INGEST:
        # Each registry ingest models its plants unless this is off: then model them here.
        installations_model(years=years)
    rows = InstallationEmission.objects.filter(tier=Tier.MODELLED, year__in=years)
    by_source = dict(
        rows.values_list("production_source").annotate(n=Count("id")).order_by("production_source")
    )
    goods = Estimate.objects.filter(tier=Tier.MODELLED, installation__isnull=False).count()
    command.stdout.write(
        f"  modelled rung: {rows.count():,} plant-years ({years[0]}–{years[-1]}), "
        + ", ".join(f"{k} {v:,}" for k, v in by_source.items())
        + f" by production source; {goods:,} per-good estimates with their traces; "
        f"GET /api/v1/installation-emissions/?year={years[-1]}"
    )
