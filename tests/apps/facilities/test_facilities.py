"""`manage.py ingest facilities` end to end (the real WRI GPPD file, GeoJSON, GeoPackage),
and the installation pages and API, scoped by role."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod, Transformer
from rest_framework.test import APIClient

from apps.accounts.models import Organisation
from apps.accounts.services import organisation_key
from apps.facilities.models import Installation
from tests.apps.helpers import ingest_json
from tests.apps.satellite.helpers import ROOT

pytestmark = pytest.mark.services

GPPD_IND = ROOT / "fixtures" / "facilities" / "database_IND.csv"


def test_the_real_gppd_file_becomes_installations_with_buffers_and_owners(postgres):
    summary = ingest_json("facilities", GPPD_IND)
    # 907 plants, 46 without coordinates (fixtures/facilities/README.md).
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (861, 46, 0)
    assert all({"line", "field", "value", "reason"} <= set(e) for e in summary["errors"])
    assert {e["field"] for e in summary["errors"]} == {"latitude"}

    aditya = Installation.objects.get(identifier="WRI1019881")
    assert aditya.name == "ADITYA CEMENT WORKS"
    assert aditya.organisation.name == "Ultratech Cement ltd"
    assert aditya.organisation.kind == Organisation.Kind.EXPORTER
    assert (aditya.latitude, aditya.longitude) == (24.7663, 74.609)
    assert aditya.footprint_source == "buffer_500m" and aditya.source_line == 3
    ring = aditya.footprint_geojson["coordinates"][0]
    assert len(ring) == 65  # 64 vertices, closed
    # Every vertex is 500 m (geodesic, WGS 84) from the plant.
    _, _, dist = Geod(ellps="WGS84").inv(
        [aditya.longitude] * 64, [aditya.latitude] * 64, *zip(*ring[:64], strict=True)
    )
    assert max(abs(d - 500.0) for d in dist) < 1e-6

    # Owners are matched by their normalised name; plants without an owner belong to none.
    with_owner = Installation.objects.exclude(owner_name="")
    assert all(organisation_key(i.owner_name) == i.organisation.key for i in with_owner)
    assert Installation.objects.filter(owner_name="", organisation=None).count() == 861 - len(
        with_owner
    )

    again = ingest_json("facilities", GPPD_IND)
    assert (again["accepted"], again["duplicates"]) == (0, 861)
    assert Installation.objects.count() == 861


def feature(ident, geometry, **props):
    return {"type": "Feature", "properties": {"id": ident, **props}, "geometry": geometry}


def test_geojson_with_declared_footprints_routes_and_corrections(postgres, tmp_path):
    kiln = shapely.box(29.00, 41.00, 29.01, 41.005)
    features = [
        feature(
            "TR-CEM-1",
            json.loads(shapely.to_geojson(kiln)),
            name="Kiln Works",
            owner="Anatolia Cement A.S.",
            country="Türkiye",
            routes="cement",
            grid_zone="TR",
            reference_production_t=1_200_000,
        ),
        feature(
            "TR-STL-1",
            {"type": "Point", "coordinates": [29.1, 41.1]},
            name="Bosphorus Steel",
            owner="Bosphorus Steel",
            routes="scrap_eaf; bogus_route",
        ),
    ]
    path = tmp_path / "plants.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    summary = ingest_json("facilities", path)
    assert (summary["accepted"], summary["rejected"]) == (2, 0)
    assert summary["errors"] == [
        {
            "line": 2,
            "field": "routes",
            "value": "bogus_route",
            "reason": summary["errors"][0]["reason"],
        }
    ]
    kiln_row = Installation.objects.get(identifier="TR-CEM-1")
    assert kiln_row.footprint_source == "declared" and kiln_row.country == "TR"
    assert shapely.equals(shapely.from_geojson(json.dumps(kiln_row.footprint_geojson)), kiln)
    assert (kiln_row.routes, kiln_row.grid_zone) == (["cement"], "TR")
    assert kiln_row.reference_production_t == 1_200_000
    steel = Installation.objects.get(identifier="TR-STL-1")
    assert steel.routes == ["scrap_eaf"] and steel.footprint_source == "buffer_500m"

    # The kiln's footprint is corrected: one update, the other is a duplicate.
    features[0]["geometry"] = json.loads(shapely.to_geojson(shapely.box(29, 41, 29.02, 41.01)))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    again = ingest_json("facilities", path)
    assert (again["accepted"], again["duplicates"]) == (1, 1)
    kiln_row.refresh_from_db()
    assert shapely.from_geojson(json.dumps(kiln_row.footprint_geojson)).bounds[2] == 29.02


def test_geopackage_in_a_projected_crs_is_read_in_wgs84(postgres, tmp_path):
    frame = gpd.GeoDataFrame(
        {"facility_id": ["GPKG-1"], "name": ["Smelter"], "owner": ["Nordic Aluminium"]},
        geometry=[shapely.box(500_000, 5_000_000, 500_600, 5_000_400)],
        crs="EPSG:32631",
    )
    path = tmp_path / "plants.gpkg"
    frame.to_file(path, driver="GPKG")
    assert ingest_json("facilities", path)["accepted"] == 1
    smelter = Installation.objects.get(identifier="GPKG-1")
    lon, lat = shapely.from_geojson(json.dumps(smelter.footprint_geojson)).centroid.coords[0]
    # The box's centre (500 300 E, 5 000 200 N) in UTM 31N, by PROJ: 3.00382° E, 45.15528° N.
    want = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True).transform(
        500_300, 5_000_200
    )
    assert (lon, lat) == pytest.approx(want, abs=1e-6)
    assert smelter.organisation.name == "Nordic Aluminium"


@pytest.fixture
def two_owners(postgres, users):
    own = Installation.objects.create(
        identifier="A-1",
        name="Alpha Mill",
        organisation=users["org_a"],
        country="IN",
        latitude=24.7,
        longitude=74.6,
        footprint_geojson=json.loads(shapely.to_geojson(shapely.Point(74.6, 24.7).buffer(0.004))),
        footprint_source="declared",
        routes=["bf_bof"],
        grid_zone="IN-NO",
    )
    other = Installation.objects.create(
        identifier="B-1", name="Beta Works", organisation=users["org_b"], country="IN"
    )
    return users, own, other


def test_installation_pages_are_scoped_to_the_exporters_organisation(two_owners, client):
    users, own, other = two_owners
    client.force_login(users["official"])
    listing = client.get("/installations/").content.decode()
    assert "Alpha Mill" in listing and "Beta Works" in listing
    assert 'href="/installations/"' in listing  # the nav link
    page = client.get(f"/installations/{own.pk}/").content.decode()
    assert "Steel: blast furnace – basic oxygen furnace" in page and "IN-NO" in page
    assert 'class="map"' in page and "<path d=" in page  # the footprint, inline SVG
    assert 'id="disclosures"' in page

    client.force_login(users["exporter_a"])
    listing = client.get("/installations/").content.decode()
    assert "Alpha Mill" in listing and "Beta Works" not in listing
    assert client.get(f"/installations/{other.pk}/").status_code == 404
    assert client.get(f"/installations/{own.pk}/").status_code == 200


def test_installations_api_filters_and_scopes(two_owners):
    users, own, _ = two_owners
    api = APIClient()
    api.force_authenticate(users["auditor"])
    everything = api.get("/api/v1/installations/").json()["results"]
    assert {i["identifier"] for i in everything} == {"A-1", "B-1"}
    routed = api.get("/api/v1/installations/", {"route": "bf_bof"}).json()["results"]
    assert [i["identifier"] for i in routed] == ["A-1"]
    assert routed[0]["footprint_geojson"]["type"] == "Polygon"
    api.force_authenticate(users["exporter_b"])
    assert [i["identifier"] for i in api.get("/api/v1/installations/").json()["results"]] == ["B-1"]
    assert api.get(f"/api/v1/installations/{own.pk}/").status_code == 404
    schema = api.get("/api/schema/").content.decode()
    for route in ("installations", "observations", "activity-indices", "reconciliation-flags"):
        assert f"/api/v1/{route}/" in schema
