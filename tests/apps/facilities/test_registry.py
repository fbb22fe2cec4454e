"""The plant registry end to end: `manage.py ingest facilities` on Global Energy Monitor's
trackers (fixtures/plants/), a newer release updating plants with their history kept,
declaration lines reaching the plants they name, entity resolution with its review queue
(page and API, audited and reversible), and the installations API of docs/interfaces.md."""

from __future__ import annotations

import io
import time
from datetime import datetime

import pytest
from openpyxl import Workbook
from rest_framework.test import APIClient

from apps.accounts.models import Organisation
from apps.audit.models import AuditEvent
from apps.facilities import demo
from apps.facilities.models import Installation, InstallationVersion, MatchSuggestion
from apps.facilities.services import matches_suggest
from apps.shipments.models import Shipment
from tests.apps.helpers import ROOT, ingest_json, make_users, write_customs

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _no_modelling(settings):
    """These tests time and count the registry alone; the modelling a registry ingest runs
    afterwards is tested in test_modelling.py."""
    settings.CM_MODEL_ON_REGISTRY_INGEST = False


PLANTS = ROOT / "fixtures" / "plants"
STEEL = PLANTS / "GEM_Global_Iron_and_Steel_Tracker_Sep2025_V1_plant_level.xlsx"
CEMENT = PLANTS / "Global-Cement-and-Concrete-Tracker_July-2025.xlsx"


def small_steel(path, *, release="Test 2099 (V1)", capacity=700, owner_local="ПАО «НЛМК»"):
    """A GEM steel workbook with the published sheet and column names and two plants."""
    wb = Workbook()
    wb.active.title = "About"
    wb["About"].append([None, f"Global Iron and Steel Tracker, {release}"])
    data = wb.create_sheet("Plant data")
    data.append(
        [
            "Plant ID",
            "Plant name (English)",
            "Owner",
            "Owner (other language)",
            "Parent",
            "Country/Area",
            "Municipality",
            "Coordinates",
            "Coordinate accuracy",
            "Start date",
            "Main production equipment",
        ]
    )
    data.append(
        [
            "P1",
            "Lipetsk plant",
            "Novolipetsk Steel",
            owner_local,
            "NLMK [100.0%]",
            "Russia",
            "Lipetsk",
            "52.5900, 39.6400",
            "exact",
            datetime(1934, 11, 7),
            "BF; BOF",
        ]
    )
    data.append(
        [
            "P2",
            "Nucor Steel Berkeley plant",
            "Nucor Corp",
            "",
            "Nucor Corp [100.0%]",
            "United States",
            "Huger",
            "33.0043190, -79.8809550",
            "exact",
            1996,
            "EAF",
        ]
    )
    caps = wb.create_sheet("Plant capacities and status")
    caps.append(["Plant ID", "Status", "Start date", "Nominal crude steel capacity (ttpa)"])
    caps.append(["P1", "operating", 1934, capacity])
    caps.append(["P2", "operating", 1996, 3000])
    wb.save(path)
    return path


class DemoCommand:
    """What the demo command gives a step: a heading, an ingest, and stdout."""

    def __init__(self):
        self.stdout = io.StringIO()
        self.summaries = {}

    def _heading(self, text):
        self.stdout.write(text + "\n")

    def _ingest(self, source, path):
        self.summaries[path.name] = ingest_json(source, path)


def test_the_demo_step_loads_both_real_trackers_in_seconds_and_again_is_a_no_op(postgres):
    command = DemoCommand()
    start = time.perf_counter()
    demo.run(command=command, number=7)
    elapsed = time.perf_counter() - start
    steel, cement = command.summaries[STEEL.name], command.summaries[CEMENT.name]
    printed = command.stdout.getvalue()
    assert "7. Plant registry (Global Energy Monitor, CC BY 4.0)" in printed
    assert "registry: 1,209 steel plants, 3,515 cement plants" in printed
    # The committed EU ETS subset against the whole ingested registry: the five plants of
    # tests/apps/facilities/test_reported_emissions.py and one more Austrian plant whose
    # site takes some of the subset's neighbouring installations.
    assert (
        "reported emissions (EU ETS, fixtures/eu_ets): 6 plants matched to 15 EU ETS "
        "installations, 48 plant-years stored" in printed
    )
    linz = Installation.objects.get(identifier="P100000120010")
    assert linz.reported_emissions.get(year=2015).emissions_t == 8_712_811.0
    assert (steel["accepted"], steel["rejected"], steel["duplicates"]) == (1209, 0, 0)
    assert (cement["accepted"], cement["rejected"], cement["duplicates"]) == (3515, 0, 0)
    assert Installation.objects.count() == 1209 + 3515
    # Each bad cell is reported with its row and column; the plants are kept.
    assert all({"line", "field", "value", "reason"} <= set(e) for e in steel["errors"])
    assert any(e["value"] == ">0" for e in cement["errors"])
    print(f"both trackers ingested (and matched) in {elapsed:.1f} s")
    assert elapsed < 120  # seconds, not minutes, on a shared 2-core machine

    # GIST 'Plant data' row 1133: Nucor Steel Berkeley, owner Nucor Corp, EAF, US.
    berkeley = Installation.objects.get(identifier="P100000120938")
    assert (berkeley.source, berkeley.country, berkeley.routes) == (
        "gem_steel",
        "US",
        ["scrap_eaf"],
    )
    assert berkeley.source_release == "Global Iron and Steel Tracker, September 2025 (V1)"
    assert berkeley.footprint_source == "buffer_500m" and berkeley.organisation is None

    again = ingest_json("facilities", STEEL)
    assert (again["accepted"], again["duplicates"]) == (0, 1209)
    assert Installation.objects.count() == 1209 + 3515
    assert not InstallationVersion.objects.exists()


def test_a_newer_release_updates_plants_and_keeps_their_history(postgres, tmp_path):
    first = ingest_json("facilities", small_steel(tmp_path / "v1.xlsx"))
    assert first["accepted"] == 2
    newer = ingest_json(
        "facilities", small_steel(tmp_path / "v2.xlsx", release="Test 2100 (V1)", capacity=900)
    )
    assert (newer["accepted"], newer["duplicates"]) == (2, 0)  # both carry the new release
    assert Installation.objects.count() == 2
    p1 = Installation.objects.get(identifier="P1")
    assert p1.capacities == [
        {"unit": "crude_steel", "status": "operating", "start_year": 1934, "capacity_t": 900_000.0}
    ]
    old = InstallationVersion.objects.get(installation=p1)
    assert old.source_release == "Global Iron and Steel Tracker, Test 2099 (V1)"
    assert old.fields["capacities"][0]["capacity_t"] == 700_000.0
    assert AuditEvent.objects.filter(action="registry_update").count() == 1


def test_a_declaration_line_that_names_a_plant_links_to_it_whichever_comes_first(
    postgres, tmp_path
):
    customs = write_customs(
        tmp_path / "c.csv",
        [
            "D1,1,2026-01-15,72081000,US,Nucor Corp,Importer GmbH,1000,500,4000,P2",
            "D1,2,2026-01-15,72081000,US,Nucor Corp,Importer GmbH,1000,500,4000,",
        ],
    )
    summary = ingest_json("customs", customs)
    assert summary["accepted"] == 2, summary["errors"]
    assert not Shipment.objects.exclude(installation=None).exists()  # no registry yet
    ingest_json("facilities", small_steel(tmp_path / "v1.xlsx"))
    linked = Shipment.objects.get(declaration_id="D1", line=1)
    assert linked.installation.identifier == "P2"
    assert Shipment.objects.get(declaration_id="D1", line=2).installation is None
    # The other order: the registry first, then a customs file naming a plant.
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "d.csv",
            ["D2,1,2026-02-15,72081000,RU,NLMK,Importer GmbH,1000,500,4000,P1"],
        ),
    )
    assert Shipment.objects.get(declaration_id="D2").installation.identifier == "P1"


@pytest.fixture
def world(postgres, tmp_path):
    users = make_users()
    ingest_json("facilities", small_steel(tmp_path / "v1.xlsx"))
    exporters = {
        name: Organisation.objects.create(name=name, key=name.lower(), kind="exporter", country=c)
        for name, c in (
            ("NUCOR CORP", "US"),
            ("Nucor Corporation", "US"),
            ("Novolipetskiy Metallurgicheskiy Kombinat", "RU"),
            ("Tata Steel Ltd", "IN"),
        )
    }
    return users, exporters


def test_entity_resolution_suggests_spellings_and_plants_with_evidence(world):
    _users, _ex = world
    counts = matches_suggest()
    same = MatchSuggestion.objects.get(kind="organisation")
    assert {same.organisation.name, same.other_organisation.name} == {
        "NUCOR CORP",
        "Nucor Corporation",
    }
    assert same.score == 1.0 and same.evidence["compared"] == ["nucor", "nucor"]
    links = {
        (s.organisation.name, s.installation.identifier): s
        for s in MatchSuggestion.objects.filter(kind="installation")
    }
    # "Novolipetskiy Metallurgicheskiy Kombinat" shares no name with P1's owner
    # "Novolipetsk Steel", parent "NLMK" or "ПАО «НЛМК»" (→ "pao nlmk"): no suggestion;
    # Tata Steel matches nothing; "Exporter A" and "Exporter B" are not one organisation.
    assert set(links) == {("NUCOR CORP", "P2"), ("Nucor Corporation", "P2")}
    nucor = links[("NUCOR CORP", "P2")]
    assert nucor.evidence["plant_country"] == "US" and nucor.evidence["countries_agree"]
    assert nucor.evidence["place"] == "Huger"
    assert counts == {"organisation": 1, "installation": len(links)}
    assert matches_suggest() == {"organisation": 0, "installation": 0}  # no duplicates


def test_a_cyrillic_owner_name_meets_its_transliteration(postgres, tmp_path):
    make_users()
    ingest_json(
        "facilities",
        small_steel(tmp_path / "v1.xlsx", owner_local="Новолипецкий металлургический комбинат"),
    )
    org = Organisation.objects.create(
        name="NOVOLIPETSKIY METALLURGICHESKIY KOMBINAT PAO", key="nlmk pao", kind="exporter"
    )
    matches_suggest()
    s = MatchSuggestion.objects.get(kind="installation", organisation=org)
    assert s.installation.identifier == "P1" and s.evidence["matched_field"] == "owner_local"
    assert s.evidence["compared"][1] == "novolipetskiy metallurgicheskiy kombinat"


def client_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_officials_confirm_and_reverse_links_audited_and_exporters_then_see_the_plant(world):
    users, ex = world
    matches_suggest()
    # Exporter A's users stand for the suggestion's exporter (the world's users belong to
    # exporters A and B).
    s = MatchSuggestion.objects.get(organisation=ex["NUCOR CORP"], kind="installation")
    s.organisation = users["org_a"]
    s.save()
    exporter = client_of(users["exporter_a"])
    assert exporter.get("/api/v1/match-suggestions/").status_code == 403
    assert exporter.get("/api/v1/installations/").json()["results"] == []

    auditor = client_of(users["auditor"])
    assert auditor.get("/api/v1/match-suggestions/").status_code == 200
    refused = auditor.post(f"/api/v1/match-suggestions/{s.pk}/decide/", {"decision": "confirmed"})
    assert refused.status_code == 403

    official = client_of(users["official"])
    answer = official.post(
        f"/api/v1/match-suggestions/{s.pk}/decide/", {"decision": "confirmed"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["status"] == "confirmed"
    assert answer.json()["decided_by"] == "official"
    seen = exporter.get("/api/v1/installations/").json()["results"]
    assert [i["identifier"] for i in seen] == ["P2"]
    again = official.post(
        f"/api/v1/match-suggestions/{s.pk}/decide/", {"decision": "confirmed"}, format="json"
    )
    assert again.status_code == 400 and "already confirmed" in again.json()["decision"]

    back = official.post(
        f"/api/v1/match-suggestions/{s.pk}/decide/", {"decision": "rejected"}, format="json"
    )
    assert back.json()["status"] == "rejected"
    assert exporter.get("/api/v1/installations/").json()["results"] == []
    events = list(
        AuditEvent.objects.filter(object_type="match_suggestion", object_id=str(s.pk))
        .order_by("index")
        .values_list("action", flat=True)
    )
    assert events == ["match_confirmed", "match_rejected"]


def test_the_review_page_lists_suggestions_and_takes_decisions(world, client):
    users, _ex = world
    matches_suggest()
    client.force_login(users["official"])
    page = client.get("/matches/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nucor Steel Berkeley plant" in body and "Huger" in body
    s = MatchSuggestion.objects.filter(kind="installation").first()
    answer = client.post(f"/matches/{s.pk}/decide/", {"decision": "confirmed"})
    assert answer.status_code == 302
    s.refresh_from_db()
    assert s.status == "confirmed" and s.decided_by == users["official"]
    client.force_login(users["exporter_a"])
    assert client.get("/matches/").status_code == 403


def test_the_installations_api_has_the_design_fields_and_filters(world):
    users, _ = world
    api = client_of(users["official"])
    rows = api.get("/api/v1/installations/", {"country": "us"}).json()["results"]
    assert [r["identifier"] for r in rows] == ["P2"]
    row = rows[0]
    for key in ("identifier", "name", "country", "latitude", "longitude", "routes"):
        assert key in row
    assert (row["owner"], row["parent"]) == ("Nucor Corp", "Nucor Corp [100.0%]")
    assert row["attribution"] == (
        "Global Energy Monitor, Global Iron and Steel Tracker, Test 2099 (V1) release, CC BY 4.0"
    )
    assert row["capacities"][0]["capacity_t"] == 3_000_000.0
    by_route = api.get("/api/v1/installations/", {"route": "bf_bof"}).json()["results"]
    assert [r["identifier"] for r in by_route] == ["P1"]
    by_owner = api.get("/api/v1/installations/", {"owner": "nlmk"}).json()["results"]
    assert [r["identifier"] for r in by_owner] == ["P1"]


def test_the_registry_pages_show_gem_fields_and_the_attribution(world, client):
    users, _ = world
    client.force_login(users["official"])
    listing = client.get("/installations/", {"country": "RU"}).content.decode()
    assert "Lipetsk plant" in listing and "Nucor" not in listing
    assert "Global Energy Monitor, Global Iron and Steel Tracker, Test 2099 (V1) release" in listing
    assert "CC BY 4.0" in listing
    p1 = Installation.objects.get(identifier="P1")
    detail = client.get(f"/installations/{p1.pk}/").content.decode()
    assert "ПАО «НЛМК»" in detail and "BF; BOF" in detail and "700000" in detail
    assert "CC BY 4.0" in detail and "started 1934" in detail


def test_other_registries_come_in_through_the_generic_reader_with_the_same_fields(
    postgres, tmp_path
):
    # An aluminium smelter and an ammonia plant from a CSV with coordinates (made up here;
    # the columns are the generic reader's aliases); a bad start year is a row error and the
    # plant is kept without it.
    path = tmp_path / "smelters.csv"
    path.write_text(
        "facility_id,name,country,latitude,longitude,owner,parent,status,start_year,"
        "capacity_t,routes\n"
        "AL-1,Smelter One,Norway,59.1,9.6,Hydro Aluminium AS,Norsk Hydro ASA [100.0%],"
        "Operating,1967,230000,al_primary\n"
        "NH3-1,Ammonia One,DE,51.0,7.0,,,announced,19x8,1100000,\n",
        encoding="utf-8",
    )
    summary = ingest_json("facilities", path)
    assert (summary["accepted"], summary["rejected"]) == (2, 0)
    assert [(e["line"], e["field"], e["value"]) for e in summary["errors"]] == [
        (3, "start_year", "19x8")
    ]
    smelter = Installation.objects.get(identifier="AL-1")
    assert smelter.parents == [{"name": "Norsk Hydro ASA", "share": 1.0}]
    assert (smelter.status, smelter.start_year, smelter.routes) == (
        "operating",
        1967,
        ["al_primary"],
    )
    assert smelter.capacities == [
        {"unit": "product", "status": "operating", "start_year": 1967, "capacity_t": 230000.0}
    ]
    ammonia = Installation.objects.get(identifier="NH3-1")
    assert ammonia.start_year is None and ammonia.capacities[0]["capacity_t"] == 1_100_000.0
