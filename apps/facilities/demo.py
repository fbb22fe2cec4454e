"""This area's part of ``manage.py demo``: the plant registry from Global Energy Monitor's
steel and cement trackers (fixtures/plants/, CC BY 4.0), then entity resolution between the
demo's exporters and the plants' owners, whose suggestions wait in the review queue."""

from __future__ import annotations

from django.conf import settings

from apps.facilities.modelling import installations_model, registry_years
from apps.facilities.models import Installation, InstallationEmission, MatchSuggestion
from apps.facilities.services import matches_suggest

PLANTS = settings.BASE_DIR / "fixtures" / "plants"
TRACKERS = (
    PLANTS / "GEM_Global_Iron_and_Steel_Tracker_Sep2025_V1_plant_level.xlsx",
    PLANTS / "Global-Cement-and-Concrete-Tracker_July-2025.xlsx",
)


def run(*, command, number: int) -> None:
    """Ingest both trackers through the queue, suggest matches, and print the counts."""
    command._heading(f"{number}. Plant registry (Global Energy Monitor, CC BY 4.0)")
    for path in TRACKERS:
        command.stdout.write(f"{path.name}:")
        command._ingest("facilities", path)
    steel = Installation.objects.filter(source="gem_steel")
    cement = Installation.objects.filter(source="gem_cement")
    command.stdout.write(
        f"  registry: {steel.count():,} steel plants, {cement.count():,} cement plants "
        f"({steel.filter(status='operating').count():,} and "
        f"{cement.filter(status='operating').count():,} operating)"
    )
    # The modelled rung (docs/modelled.md): each registry ingest models its plants
    # (CM_MODEL_ON_REGISTRY_INGEST); this call finds that work done (idempotent) or
    # finishes it, and prints what is stored.
    years = sorted(
        set(registry_years(source="gem_steel")) | set(registry_years(source="gem_cement"))
    )
    if settings.CM_MODEL_ON_REGISTRY_INGEST and years:
        summary = installations_model(years=years)
        rows = InstallationEmission.objects.filter(tier="modelled", year__in=years)
        command.stdout.write(
            f"  modelled rung: {rows.count():,} plant-years ({years[0]}–{years[-1]}), "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.by_source.items()))
            + " by production source; "
            f"{summary.estimates_created + summary.estimates_existing:,} per-good estimates; "
            f"GET /api/v1/installation-emissions/?year={years[-1]}"
        )
    made = matches_suggest()
    queued = MatchSuggestion.objects.filter(status=MatchSuggestion.Status.SUGGESTED).count()
    command.stdout.write(
        f"  entity resolution: {made['organisation']} exporter spellings and "
        f"{made['installation']} exporter–plant links suggested; {queued} wait for review "
        "at /matches/"
    )
