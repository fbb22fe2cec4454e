"""Country averages: Ember (co2.js average-intensities.json) and the IFI grid factors CSV,
checked against co2.js's own parse (marginal-intensities-2021.json). Files in
fixtures/grid/co2js/ (see fixtures/grid/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.base import UnreadableFile
from ingest.grid_averages import read_ember, read_grid_averages, read_ifi

CO2JS = Path(__file__).resolve().parents[2] / "fixtures" / "grid" / "co2js"
IFI = CO2JS / "IFI_Default_Grid_Factors_2021_v3.1_unfccc.csv"
IFI_KEYS = {
    "cm_firm_g_per_kwh": "Firm Energy (e.g., Hydro, Geothermal)",
    "cm_intermittent_g_per_kwh": "Intermittent Energy (e.g., Solar, Wind, Tidal)",
    "cm_efficiency_g_per_kwh": "Energy Efficiency",
    "cm_consumption_g_per_kwh": "Electricity Consumption",
    "om_g_per_kwh": "Operating Margin Grid Emission",
}
# co2.js gives these two codes wrongly (Canary Islands → KY, Cayman Islands → CY = Cyprus).
CO2JS_CODE_ERRORS = {"Canary Islands (Spain)", "Cayman Islands"}


def test_ember_rows_keep_their_own_latest_year():
    data, meta = read_ember(CO2JS / "average-intensities.json")
    # shared/data README §4: 222 entries; latest year differs by country
    assert len(data) == 222 and meta["errors"] == []
    assert meta["years"] == {2022: 39, 2023: 81, 2024: 102}
    de = data[data["code"] == "DEU"].iloc[0]
    assert (de["iso2"], de["year"], de["intensity_g_per_kwh"]) == ("DE", 2024, 342.06)
    afg = data[data["code"] == "AFG"].iloc[0]
    assert (afg["year"], afg["intensity_g_per_kwh"]) == (2023, 123.71)
    world = data[data["code"] == "World"].iloc[0]
    assert world["is_region"] and world["intensity_g_per_kwh"] == 472.94


def test_ifi_csv_matches_co2js_own_parse():
    data, _ = read_ifi(IFI)
    expected = json.loads((CO2JS / "marginal-intensities-2021.json").read_text(encoding="utf-8"))
    expected = {name.strip(): row for name, row in expected.items()}
    assert len(data) == len(expected) == 233
    assert set(data["name"]) == set(expected)
    for row in data.itertuples():
        want = expected[row.name]
        for field, key in IFI_KEYS.items():
            assert getattr(row, field) == float(want[key]), (row.name, field)
        if row.name not in CO2JS_CODE_ERRORS:
            assert (row.iso2, row.iso3) == (want["country_code_iso_2"], want["country_code_iso_3"])


def test_ifi_header_and_footnotes_are_not_data():
    data, meta = read_ifi(IFI)
    assert meta["header_lines"] == 5  # three records, two of them with a line break inside
    assert meta["columns"]["om_g_per_kwh"].startswith("Operating Margin Grid Emission Factor")
    assert len(meta["notes"]) == 2 and meta["notes"][0].startswith("Note 1:")
    assert meta["errors"] == []
    afg = data[data["name"] == "Afghanistan"].iloc[0]
    # "Afghanistan",193,331,193,193,414
    assert [afg.cm_firm_g_per_kwh, afg.cm_intermittent_g_per_kwh, afg.om_g_per_kwh] == [
        193.0,
        331.0,
        414.0,
    ]
    eu = data[data["is_region"]].iloc[0]
    assert eu["name"] == "Memo:  EU 27" and eu["om_g_per_kwh"] == 409.0
    cayman = data[data["name"] == "Cayman Islands"].iloc[0]
    assert (cayman["iso2"], cayman["iso3"]) == ("KY", "CYM")


def test_dispatch_and_unreadable(tmp_path):
    assert read_grid_averages(IFI)[1]["source"] == "ifi"
    assert read_grid_averages(CO2JS / "average-intensities.json")[1]["source"] == "ember"
    with pytest.raises(UnreadableFile):
        read_ember(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UnreadableFile):
        read_ember(bad)
