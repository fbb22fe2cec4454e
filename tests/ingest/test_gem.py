"""The Global Energy Monitor tracker reader on the real workbooks (fixtures/plants/, copies
of the September 2025 steel and July 2025 cement releases, CC BY 4.0) and on a small
workbook written here with the same sheets for the quirks. Expected values are read off the
workbooks' cells by hand (row numbers are the sheets' own)."""

from __future__ import annotations

from datetime import datetime

import pytest
from numpy.testing import assert_allclose
from openpyxl import Workbook

from ingest.base import UnreadableFile
from ingest.facilities.gem import gem_tracker, read_gem, steel_routes
from tests.ingest.conftest import ROOT

PLANTS = ROOT / "fixtures" / "plants"
STEEL = PLANTS / "GEM_Global_Iron_and_Steel_Tracker_Sep2025_V1_plant_level.xlsx"
CEMENT = PLANTS / "Global-Cement-and-Concrete-Tracker_July-2025.xlsx"


@pytest.fixture(scope="module")
def steel():
    return read_gem(STEEL)


@pytest.fixture(scope="module")
def cement():
    return read_gem(CEMENT)


def by_id(plants, ident):
    return next(p for p in plants if p["identifier"] == ident)


def test_the_steel_tracker_has_its_1209_plants_and_its_release(steel):
    plants, meta = steel
    assert meta["tracker"] == "gem_steel" and len(plants) == 1209
    assert meta["release"] == "Global Iron and Steel Tracker, September 2025 (V1)"
    assert meta["licence"] == "CC BY 4.0" and meta["rows_rejected"] == 0


def test_a_plant_whose_capacity_is_split_over_status_rows_keeps_each_row(steel):
    # 'Plant capacities and status' rows 3 and 4: P100000120439 operating since 2017 with
    # 2,200 ttpa crude steel (EAF) and 2,500 ttpa DRI; announced for 2026 with 1,800 and 2,500.
    p = by_id(steel[0], "P100000120439")
    crude = sorted(
        (c["status"], c["start_year"], c["capacity_t"])
        for c in p["capacities"]
        if c["unit"] == "crude_steel"
    )
    assert crude == [("announced", 2026, 1_800_000.0), ("operating", 2017, 2_200_000.0)]
    assert p["status"] == "operating"  # the plant's status: its most active row
    assert p["equipment"] == ["EAF", "DRI"] and p["routes"] == ["dri_eaf"]
    assert p["country"] == "DZ"
    assert_allclose([p["latitude"], p["longitude"]], [36.7539610, 6.2444200])
    assert p["coordinate_accuracy"] == "exact"
    # Parent "Industries Qatar QPSC [49.0%]; unknown [5.0%]; Groupe Industriel Sider SpA"
    assert p["parents"] == [
        {"name": "Industries Qatar QPSC", "share": 0.49},
        {"name": "unknown", "share": 0.05},
        {"name": "Groupe Industriel Sider SpA", "share": None},
    ]


def test_production_is_kept_by_type_and_year_and_a_greater_than_zero_cell_is_a_row_error(steel):
    # 'Plant production' row 39: Alchevsk (P100000120905), BOF steel: 2019 unknown,
    # 2020 740 ttpa, 2021 '>0', 2022 '>0', 2023 and 2024 unknown.
    plants, meta = steel
    p = by_id(plants, "P100000120905")
    bof = [(r["year"], r["production_t"]) for r in p["production"] if r["type"] == "bof_steel"]
    assert bof == [(2020, 740_000.0)]
    errors = [e for e in meta["errors"] if e.line == 39 and "Plant production" in e.reason]
    assert [(e.field, e.value) for e in errors] == [("2021", ">0"), ("2022", ">0")]
    assert all("'>0' gives no amount" in e.reason for e in errors)
    # 'unknown' and 'N/A' are "not known", not errors; every error names its sheet.
    assert not any(e.value.lower() in ("unknown", "n/a") for e in meta["errors"])
    assert all(e.reason.startswith("sheet '") for e in meta["errors"])


def test_steel_routes_follow_the_main_equipment():
    assert steel_routes(["BF", "BOF"]) == ["bf_bof"]
    assert steel_routes(["EAF"]) == ["scrap_eaf"]
    assert steel_routes(["EAF", "DRI"]) == ["dri_eaf"]
    assert steel_routes(["BF", "BOF", "EAF"]) == ["bf_bof", "scrap_eaf"]
    assert steel_routes(["BF"]) == [] and steel_routes(["DRI"]) == []


def test_the_cement_tracker_has_its_3515_plants_with_sfi_ids_and_mtpa_in_tonnes(cement):
    plants, meta = cement
    assert meta["tracker"] == "gem_cement" and len(plants) == 3515
    assert meta["release"].startswith("Global Cement and Concrete Tracker")
    # 'Plant Data' row 3: Afghan Cement Ghori II, cement 0.15 Mtpa, clinker 0.365 Mtpa,
    # SFI GACTAFG0001, integrated, wet, operating since 2009.
    p = by_id(plants, "P100000123428")
    caps = {c["unit"]: c["capacity_t"] for c in p["capacities"]}
    assert caps == {"cement": 150_000.0, "clinker": 365_000.0}
    assert (p["sfi_id"], p["plant_type"], p["production_type"]) == (
        "GACTAFG0001",
        "integrated",
        "wet",
    )
    assert (p["status"], p["start_year"], p["country"], p["routes"]) == (
        "operating",
        2009,
        "AF",
        ["cement"],
    )
    assert p["owners"] == [{"name": "Afghan Cement LLC", "share": 1.0}]
    grinding = [q for q in plants if q["plant_type"] == "grinding"]
    assert grinding and all(q["routes"] == ["cement_grinding"] for q in grinding)


def _small_steel(path, *, capacity=700, production=">0", coords="41.0946110, 20.0261170"):
    wb = Workbook()
    wb.active.title = "About"
    wb["About"].append([None, "Global Iron and Steel Tracker, Test 2099 (V9)"])
    data = wb.create_sheet("Plant data")
    data.append(
        [
            "Plant ID",
            "Plant name (English)",
            "Owner",
            "Owner (other language)",
            "Parent",
            "Country/Area",
            "Coordinates",
            "Coordinate accuracy",
            "Start date",
            "Main production equipment",
        ]
    )
    data.append(
        [
            "P1",
            "Plant one",
            "Novolipetsk Steel",
            "ПАО «НЛМК»",
            "NLMK [100.0%]",
            "Russia",
            coords,
            "approximate",
            datetime(1998, 5, 1),
            "BF; BOF",
        ]
    )
    data.append(["P2", "Plant two", "", "", "", "Atlantis", "", "", "unknown", "EAF"])
    caps = wb.create_sheet("Plant capacities and status")
    caps.append(["Plant ID", "Status", "Start date", "Nominal crude steel capacity (ttpa)"])
    caps.append(["P1", "operating", 1998, capacity])
    caps.append(["P9", "operating", 1998, 100])
    prod = wb.create_sheet("Plant production")
    prod.append(["Plant ID", "Plant name (English)", "Type of production", 2023, 2024])
    prod.append(["P1", "Plant one", "Crude steel production (ttpa)", 650, production])
    wb.save(path)
    return path


def test_bad_cells_are_row_errors_and_the_rest_of_the_plant_is_kept(tmp_path):
    plants, meta = read_gem(_small_steel(tmp_path / "gist.xlsx", coords="91.5, 20.0"))
    p1, p2 = plants
    assert p1["latitude"] is None and p1["capacities"][0]["capacity_t"] == 700_000.0
    assert p1["production"] == [{"type": "crude_steel", "year": 2023, "production_t": 650_000.0}]
    assert p1["owner_local"] == "ПАО «НЛМК»" and p1["start_year"] == 1998
    assert p2["country"] == "" and p2["routes"] == ["scrap_eaf"]
    found = {(e.line, e.field, e.value) for e in meta["errors"]}
    assert found == {
        (2, "Coordinates", "91.5, 20.0"),  # latitude out of range
        (3, "Country/Area", "Atlantis"),
        (3, "Plant ID", "P9"),  # capacities of a plant the plant sheet does not have
        (2, "2024", ">0"),
    }


def test_a_file_that_is_no_gem_tracker_is_refused(tmp_path):
    wb = Workbook()
    wb.active.append(["facility_id", "latitude", "longitude"])
    wb.save(tmp_path / "other.xlsx")
    assert gem_tracker(tmp_path / "other.xlsx") is None
    assert gem_tracker(STEEL) == "gem_steel" and gem_tracker(CEMENT) == "gem_cement"
    with pytest.raises(UnreadableFile, match="not a Global Energy Monitor"):
        read_gem(tmp_path / "other.xlsx")


def test_calamine_gives_the_cells_openpyxl_gives(steel, monkeypatch):
    """The reader reads with python-calamine (docs/dependencies.md) and converts its cells
    to openpyxl's values (None for an empty cell, an integer for a whole number): read
    through openpyxl's read-only mode instead, the steel tracker (every kind of cell: text,
    whole and fractional numbers, dates, year headers) gives the same plants, rows and
    errors."""
    from openpyxl import load_workbook

    from ingest.facilities import gem

    monkeypatch.setattr(
        gem, "_open", lambda path, handle: load_workbook(handle, read_only=True, data_only=True)
    )
    plants, meta = read_gem(STEEL)
    assert plants == steel[0]
    assert meta == steel[1]
    assert len(plants) == 1209 and len(meta["errors"]) == 219
