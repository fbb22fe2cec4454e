"""Grid pages and API per role: zones, factors, intensity series, the lookup, hydrogen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.facilities.models import Installation
from apps.grid.services import hydrogen_assessment_run
from tests.apps.grid.conftest import EMBER, FACTORS_CSV, PT_WEEK, hourly_csv
from tests.apps.helpers import make_users
from tests.worlds import module_world

UTC = dt.UTC


def _load(source: str, path) -> None:
    """The ``load`` fixture's ingest (tests/apps/grid/conftest.py), on committed
    transactions: the run's on-commit task runs at once."""
    from apps.evidence.models import IngestRun
    from apps.evidence.services import evidence_store_path, ingest_run_create

    evidence = evidence_store_path(path=path)
    run = ingest_run_create(source=source, evidence=evidence, original_name=path.name)
    run.refresh_from_db()
    assert run.status == IngestRun.Status.DONE, run.failure


@module_world
def grid_world(tmp_path):
    """Portugal's week, Ember averages, DE's factors, and one assessment of org A."""
    users = make_users()
    load = _load
    lines = FACTORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    subset = tmp_path / "factors.csv"
    subset.write_text(
        lines[0] + "".join(x for x in lines[1:] if x.startswith(("DE,", "_DEFAULT,"))),
        encoding="utf-8",
    )
    load("factors", subset)
    load("grid", EMBER)
    load("grid", PT_WEEK)
    rows = [(f"2024-01-01 {h:02d}:00", 300.0, 300.0) for h in range(4)]
    load("grid", hourly_csv(tmp_path / "h2.csv", "H2-TEST", rows))
    installation = Installation.objects.create(
        identifier="H2-A",
        name="Electrolyser of A",
        organisation=users["org_a"],
        country="PT",
        routes=[Installation.Route.H2_ELECTROLYSIS],
        grid_zone="H2-TEST",
    )
    assessment = hydrogen_assessment_run(
        installation=installation,
        start=dt.datetime(2024, 1, 1, tzinfo=UTC),
        renewable_mwh=[20.0, 0.0, 20.0, 0.0],
        consumption_mwh=[10.0] * 4,
        electrolyser_efficiency=0.6,
    )
    return {**users, "assessment": assessment}


@pytest.fixture
def world(grid_world, db, settings):
    """Built once per module (tests/worlds.py); its grid store is the module's VAR_DIR."""
    return grid_world.use(settings)


def _client(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["official", "auditor", "admin", "exporter_a"])
def test_every_role_reads_the_zone_pages(world, client, role):
    c = _client(client, world[role])
    listing = c.get(reverse("grid-zone-list"))
    assert listing.status_code == 200
    assert b"H2-TEST" in listing.content and b"PT" in listing.content
    page = c.get(reverse("grid-zone-detail", args=["PT"]), {"year": "2024"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Carbon intensity of PT, 2024" in html
    assert "gap-filled" in html  # the publisher's estimated hours are flagged
    assert "country PT: Ember 2024 annual average" in html  # the chain, step by step


def test_an_unknown_zone_is_404_and_anonymous_users_are_sent_to_log_in(world, client):
    assert client.get(reverse("grid-zone-list")).status_code == 302
    c = _client(client, world["official"])
    assert c.get(reverse("grid-zone-detail", args=["NOPE"])).status_code == 404


def test_the_zone_page_lists_factors_valid_on_its_date_with_overrides(world, client):
    c = _client(client, world["official"])
    page = c.get(reverse("grid-zone-detail", args=["H2-TEST"]))
    assert page.status_code == 200
    html = page.content.decode()
    # H2-TEST has no library entry of its own: every factor shown is a global default,
    # e.g. coal 760 (defaults.yaml, IPCC 2014), valid always.
    assert "Emission factors valid on 2024-07-01" in html
    assert "zone H2-TEST override" not in html
    assert "global default" in html and "IPCC 2014" in html


@pytest.mark.parametrize("role", ["official", "auditor", "admin", "exporter_a"])
def test_the_hydrogen_report_shows_both_verdicts_with_chart_and_table(world, client, role):
    c = _client(client, world[role])
    a = world["assessment"]
    page = c.get(reverse("hydrogen-report", args=[a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Month by month" in html and "Hour by hour" in html
    assert html.count("<svg") >= 2
    # Monthly: 40 MWh PPA cover 40 MWh: 0 g/MJ, passes; hourly: 20 MWh of grid at 300
    # g/kWh = 6,000,000 g / (40 × 3600 × 0.6 = 86,400 MJ) = 69.44 g/MJ, fails.
    # Each period is judged on its own; the mean is shown for information only.
    assert "Passes: every month at or below 28.2 gCO₂e/MJ" in html
    assert "the mean over the year, 0.00 gCO₂e/MJ" in html
    assert "Fails: an hour above 28.2 gCO₂e/MJ" in html
    assert "the mean, 69.44 gCO₂e/MJ" in html
    assert "Hours above the threshold on their own: 2 of 4" in html


def test_an_exporter_cannot_read_another_organisations_hydrogen_report(world, client):
    c = _client(client, world["exporter_b"])
    assert c.get(reverse("hydrogen-report", args=[world["assessment"].pk])).status_code == 404
    listing = c.get(reverse("grid-zone-list")).content.decode()
    assert "Electrolyser of A" not in listing
    assert c.get(f"/api/v1/grid/hydrogen/{world['assessment'].pk}/").status_code == 404
    assert c.get("/api/v1/grid/hydrogen/").json()["results"] == []


def test_the_api_lists_zones_with_their_store_files(world, client):
    c = _client(client, world["auditor"])
    zones = c.get("/api/v1/grid/zones/", {"country": "PT"}).json()["results"]
    assert [z["key"] for z in zones] == ["PT"]
    series = zones[0]["series"][0]
    assert (series["year"], series["hours"], series["measured"]) == (2024, 168, 155)
    assert series["gap_filled"] == 13  # estimated by the publisher
    assert c.get("/api/v1/grid/zones/PT/").json()["key"] == "PT"


def test_the_api_filters_factors_by_validity(world, client):
    c = _client(client, world["auditor"])
    rows = c.get(
        "/api/v1/grid/factors/",
        {"zone": "DE", "kind": "direct", "mode": "coal", "valid_at": "2024-06-01T00:00:00Z"},
    ).json()["results"]
    # zones/DE.yaml: direct coal 1080.4 gCO2eq/kWh from 2024-01-01 ("EU-ETS 2025, ENTSO-E 2024").
    assert [(r["value_g_per_kwh"], r["valid_to"]) for r in rows] == [
        (1080.4, "2025-01-01T00:00:00Z")
    ]


def test_the_api_gives_hourly_and_monthly_intensity_with_provenance(world, client):
    c = _client(client, world["official"])
    hourly = c.get(
        "/api/v1/grid/zones/PT/intensity/", {"start": "2024-01-01T00:00", "end": "2024-01-01T02:00"}
    ).json()
    assert hourly["unit"] == "gCO2eq/kWh"
    # PT_2024_hourly_first_week.csv lines 2-3: direct 92.93 and 85.58.
    assert [(r["direct"], r["provenance"]) for r in hourly["results"]] == [
        (92.93, "measured"),
        (85.58, "measured"),
    ]
    monthly = c.get(
        "/api/v1/grid/zones/PT/intensity/",
        {"start": "2024-01-01", "end": "2025-01-01", "resolution": "monthly"},
    ).json()["results"]
    assert len(monthly) == 1 and monthly[0]["hours"] == 168 and monthly[0]["gap_filled"] == 13
    bad = c.get("/api/v1/grid/zones/PT/intensity/", {"start": "2024-02-01", "end": "2024-01-01"})
    assert bad.status_code == 400


def test_the_api_lookup_names_each_step(world, client):
    c = _client(client, world["auditor"])
    found = c.get(
        "/api/v1/grid/lookup/", {"zone": "DE", "country": "DE", "year": 2024, "kind": "lifecycle"}
    ).json()
    assert found["steps"][0] == "zone DE: no hours of this zone in the store"
    assert found["steps"][1].startswith("country DE: Ember 2024 annual average")
    # average-intensities.json: Germany 2024, 342.06 gCO2/kWh.
    assert found["value_t_per_mwh"] == pytest.approx(0.34206)
    assert found["kind"] == "lifecycle"


def test_the_api_requires_authentication(world, client):
    assert client.get("/api/v1/grid/zones/").status_code in (401, 403)
    assert client.get("/api/v1/grid/factors/").status_code in (401, 403)
