"""This area's part of ``manage.py demo``: the real factor library, ENTSO-E files, the
Portugal hourly series and country averages, a real year of German hourly intensity
(Electricity Maps, 2023), and an electrolyser on the German grid assessed with monthly and
with hourly matching (its solar PPA and load profile are invented, and said so)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from apps.accounts.models import Organisation
from apps.facilities.models import Installation
from apps.grid import synthetic
from apps.grid.models import EmissionFactor, GridZone, IntensitySeries
from apps.grid.selectors import grid_factor_lookup
from apps.grid.services import hydrogen_assessment_run

GRID = settings.BASE_DIR / "fixtures" / "grid"
FACTOR_LIBRARY = GRID / "electricitymaps" / "emission_factors_flat.csv"
GRID_FILES = [
    *sorted((GRID / "entsoe").glob("*.xml")),
    GRID / "electricitymaps" / "PT_2024_hourly_first_week.csv",
    GRID / "electricitymaps" / "DE_2023_hourly.csv",  # a real year, 8,760 hours
    GRID / "co2js" / "average-intensities.json",
    GRID / "co2js" / "IFI_Default_Grid_Factors_2021_v3.1_unfccc.csv",
]
YEAR, SEED = 2023, 2024  # the year of the real German series

#: (identifier, name, zone, country, electrolyser MW, solar PPA MW peak, efficiency)
ELECTROLYSERS = (
    ("DEMO-H2-DE-01", "Solar electrolyser, Germany (demo)", "DE", "DE", 10.0, 75.0, 0.65),
)
BASE_URL = "http://127.0.0.1:8000"


def run(*, command, number: int) -> None:
    """Add this area's sample data through the queue and print what it shows."""
    command._heading(f"{number}. Grid telemetry and hydrogen")
    command.stdout.write("factor library (Electricity Maps config, 202 zones + global defaults):")
    command._ingest("factors", FACTOR_LIBRARY)
    for path in GRID_FILES:
        command.stdout.write(f"{path.name}:")
        command._ingest("grid", path)
    command.stdout.write(
        f"  store: {IntensitySeries.objects.count()} zone-year files, "
        f"{EmissionFactor.objects.count():,} factors, {GridZone.objects.count()} zones"
    )

    organisation = _exporter_organisation()
    lines = []
    for ident, name, zone, country, load_mw, solar_mw, efficiency in ELECTROLYSERS:
        installation, _ = Installation.objects.get_or_create(
            identifier=ident,
            defaults={
                "name": name,
                "organisation": organisation,
                "country": country,
                "routes": [Installation.Route.H2_ELECTROLYSIS],
                "grid_zone": zone,
            },
        )
        _, ppa, consumption = synthetic.electrolyser_profile(
            year=YEAR, seed=SEED + len(lines), load_mw=load_mw, solar_mw=solar_mw
        )
        assessment = hydrogen_assessment_run(
            installation=installation,
            start=dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC),
            renewable_mwh=ppa,
            consumption_mwh=consumption,
            electrolyser_efficiency=efficiency,
        )
        verdict = "differs" if assessment.monthly_passes != assessment.hourly_passes else "same"
        lines.append(
            f"  {name} [{zone}, {load_mw:g} MW, solar PPA {solar_mw:g} MWp]: monthly "
            f"{'passes' if assessment.monthly_passes else 'fails'} "
            f"({assessment.monthly_g_per_mj:.2f} g/MJ), hourly "
            f"{'passes' if assessment.hourly_passes else 'fails'} "
            f"({assessment.hourly_g_per_mj:.2f} g/MJ) — verdict {verdict}; 45V "
            f"{assessment.us45v_credit_usd_per_kg:.3f} USD/kg; "
            f"{assessment.gap_filled_hours} gap-filled hours used\n"
            f"    {BASE_URL}/grid/hydrogen/{assessment.pk}/"
        )
    command.stdout.write(
        f"hydrogen producers of {organisation.name} (RFNBO threshold 28.2 gCO2e/MJ; real "
        f"German grid {YEAR}, invented solar PPA and load profile, seed {SEED}):"
    )
    command.stdout.write("\n".join(lines))
    factor = grid_factor_lookup(zone="DE", country="DE", year=YEAR, kind="direct")
    command.stdout.write(
        f"fallback chain for an installation in DE, {YEAR}: {factor.value_t_per_mwh:.4f} "
        f"tCO2e/MWh ({factor.kind}); " + " → ".join(factor.steps)
    )
    command.stdout.write(
        f"pages: {BASE_URL}/grid/  {BASE_URL}/grid/zones/DE/?year={YEAR}  "
        f"{BASE_URL}/grid/zones/PT/?year=2024  {BASE_URL}/grid/zones/FI/\n"
        f"API:   {BASE_URL}/api/v1/grid/zones/  "
        f"{BASE_URL}/api/v1/grid/zones/PT/intensity/?start=2024-01-01&end=2024-01-08  "
        f"{BASE_URL}/api/v1/grid/lookup/?zone=PT&country=PT&year=2024&kind=lifecycle"
    )


def _exporter_organisation() -> Organisation:
    """The electrolyser's owner: a hydrogen producer of its own (fictional), not the demo
    exporter user's steel company — an exporter ships what it makes."""
    organisation, _ = Organisation.objects.get_or_create(
        key="demo hydrogen exporter",
        defaults={
            "name": "Lausitz Solar Hydrogen GmbH (fictional)",
            "kind": Organisation.Kind.EXPORTER,
        },
    )
    return organisation
