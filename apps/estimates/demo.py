"""This area's part of ``manage.py demo``: the modelled rung of every operating plant of
the registry the previous step loaded (docs/modelled.md)."""

from __future__ import annotations

from apps.estimates.modelling import installations_model, registry_years
from apps.facilities.models import InstallationEmission


def run(*, command, number: int) -> None:
    command._heading(f"{number}. The modelled rung of every operating plant")
    # The modelled rung (docs/modelled.md): each registry ingest models its plants
    # (CM_MODEL_ON_REGISTRY_INGEST); this call finds that work done (idempotent) or
    # finishes it, and prints what is stored.
    years = sorted(
        set(registry_years(source="gem_steel")) | set(registry_years(source="gem_cement"))
    )
    if not years:
        command.stdout.write("  the registry covers no year: nothing to model")
        return
    summary = installations_model(years=years)
    rows = InstallationEmission.objects.filter(tier="modelled", year__in=years)
    command.stdout.write(
        f"  modelled rung: {rows.count():,} plant-years ({years[0]}–{years[-1]}), "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.by_source.items()))
        + " by production source; "
        f"{summary.estimates_created + summary.estimates_existing:,} per-good estimates; "
        f"GET /api/v1/installation-emissions/?year={years[-1]}"
    )
