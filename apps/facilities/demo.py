"""This area's part of ``manage.py demo``: the plant registry from Global Energy Monitor's
steel and cement trackers (fixtures/plants/, CC BY 4.0), then entity resolution between the
demo's exporters and the plants' owners, whose suggestions wait in the review queue; and
the EU ETS verified emissions of the committed Austrian subset (fixtures/eu_ets/), shown on
those plants' pages beside the modelled ones (docs/modelled.md)."""

from __future__ import annotations

from django.conf import settings

from apps.facilities.models import Installation, MatchSuggestion, ReportedEmission
from apps.facilities.services import matches_suggest, reported_emissions_load

PLANTS = settings.BASE_DIR / "fixtures" / "plants"
EUTL = settings.BASE_DIR / "fixtures" / "eu_ets"
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
    made = matches_suggest()
    queued = MatchSuggestion.objects.filter(status=MatchSuggestion.Status.SUGGESTED).count()
    command.stdout.write(
        f"  entity resolution: {made['organisation']} exporter spellings and "
        f"{made['installation']} exporter–plant links suggested; {queued} wait for review "
        "at /matches/"
    )
    reported = reported_emissions_load(
        installations_csv=EUTL / "eutl_installation_matched.csv",
        compliance_csv=EUTL / "eutl_compliance_matched.csv",
    )
    linz = Installation.objects.filter(identifier="P100000120010").first()
    command.stdout.write(
        f"  reported emissions (EU ETS, fixtures/eu_ets): {reported['plants']} plants matched "
        f"to {reported['eutl_installations']} EU ETS installations, "
        f"{ReportedEmission.objects.count()} plant-years stored"
        + (f"; see /installations/{linz.pk}/#reported" if linz else "")
    )
