"""``ingest.facilities`` on the WRI GPPD India file (fixtures/facilities) and small files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import Geod

from ingest.base import MissingColumns
from ingest.facilities import read_facilities

GPPD_IND = Path(__file__).resolve().parents[2] / "fixtures" / "facilities" / "database_IND.csv"


@pytest.fixture(scope="module")
def india():
    return read_facilities(GPPD_IND)


def test_gppd_india_rows_without_coordinates_are_rejected_and_the_rest_kept(india):
    data, meta = india
    # 907 plants in WRI's file (data README §5); 46 have empty latitude and longitude
    assert meta["rows_read"] == 907
    assert meta["rows_accepted"] == 861 and meta["rows_rejected"] == 46
    assert len(meta["errors"]) == 46
    assert {e.field for e in meta["errors"]} == {"latitude"}
    assert all("no coordinates" in e.reason for e in meta["errors"])
    assert data.crs.to_epsg() == 4326
    assert meta["columns"]["facility_id"] == "gppd_idnr"


def test_a_captive_cement_plant_reads_with_its_owner_fuel_and_country(india):
    data, _ = india
    row = data[data["name"] == "ADITYA CEMENT WORKS"].iloc[0]
    # database_IND.csv line 3: WRI1019881, 98 MW, coal, Ultratech, 24.7663 N 74.609 E
    assert row["facility_id"] == "WRI1019881"
    assert row["country"] == "IN"
    assert row["owner"] == "Ultratech Cement ltd"
    assert row["primary_fuel"] == "Coal"
    assert_allclose(row["capacity_mw"], 98.0)
    assert_allclose([row["latitude"], row["longitude"]], [24.7663, 74.609])
    assert row["source_line"] == 3
    assert row["footprint_source"] == "buffer_500m"


def test_the_default_footprint_is_a_500_m_geodesic_disc(india):
    data, _ = india
    geod = Geod(ellps="WGS84")
    # far north and near the equator alike: the buffer is metric everywhere
    for geom, lon, lat in zip(
        data.geometry[:50], data["longitude"], data["latitude"], strict=False
    ):
        xs, ys = np.asarray(geom.exterior.coords).T
        _, _, dist = geod.inv(np.full(len(xs), lon), np.full(len(ys), lat), xs, ys)
        assert_allclose(dist, 500.0, rtol=1e-9)
        area = abs(geod.geometry_area_perimeter(geom)[0])
        assert_allclose(area, 64 / 2 * 500**2 * np.sin(2 * np.pi / 64), rtol=1e-4)


def test_declared_footprints_and_bad_rows_in_a_csv(tmp_path):
    path = tmp_path / "plants.csv"
    path.write_text(
        "id,name,country,latitude,longitude,footprint_wkt,capacity\n"
        '"A1",Kiln,India,24.5,74.5,"POLYGON((74.5 24.5,74.51 24.5,74.51 24.51,74.5 24.5))",10\n'
        "A2,Mill,Atlantis,10,10,,\n"
        "A3,Far,DE,95,10,,\n"
        ",Nameless,DE,50,10,,\n"
        "A5,Bad wkt,DE,50,10,POLYGON((0 0)),x\n"
        "A6,Plain,FR,45,2,,5\n"
    )
    data, meta = read_facilities(path)
    assert list(data["facility_id"]) == ["A1", "A6"]
    assert list(data["footprint_source"]) == ["declared", "buffer_500m"]
    assert list(data["country"]) == ["IN", "FR"]
    found = {(e.line, e.field) for e in meta["errors"]}
    assert found == {
        (3, "country"),
        (4, "latitude"),
        (5, "facility_id"),
        (6, "capacity_mw"),
        (6, "footprint"),
    }


def test_geojson_points_and_polygons(tmp_path):
    features = gpd.GeoDataFrame(
        {"gppd_idnr": ["P", "Q"], "name": ["point", "polygon"], "country": ["AUS", "AU"]},
        geometry=[shapely.Point(151.2, -33.9), shapely.box(150, -34, 150.01, -33.99)],
        crs="EPSG:4326",
    )
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps(json.loads(features.to_json())))
    data, meta = read_facilities(path)
    assert list(data["footprint_source"]) == ["buffer_500m", "declared"]
    assert list(data["country"]) == ["AU", "AU"]
    assert_allclose(data.loc[0, ["longitude", "latitude"]].astype(float), [151.2, -33.9])
    assert data.geometry.iloc[1].equals(features.geometry.iloc[1])
    assert meta["format"] == "geojson"


def test_a_file_without_an_identifier_column_names_what_is_missing(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,latitude,longitude\nA,1,2\n")
    with pytest.raises(MissingColumns, match="facility_id"):
        read_facilities(path)
