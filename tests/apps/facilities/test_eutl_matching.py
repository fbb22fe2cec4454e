"""Plants matched to the EU ETS installations of their site, on the committed Austrian
subset (fixtures/eu_ets/README.md): the works' own installations are found, the town's
heating plants, lime works and other industry are not, and the reported figures summed
per site are the EUTL's own (read off fixtures/eu_ets/eutl_compliance_matched.csv)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from apps.facilities.matching import eutl_site_matches
from ingest.base import UnreadableFile
from ingest.eu_ets.reader import read_eutl_compliance, read_eutl_installations

EUTL = Path(__file__).resolve().parents[3] / "fixtures" / "eu_ets"


def sites():
    plants = json.loads((EUTL / "gem_plants_matched.json").read_text())
    inst, meta = read_eutl_installations(EUTL / "eutl_installation_matched.csv")
    assert meta["rows_read"] == 78
    candidates = [
        {
            "identifier": p["identifier"],
            "names": [p["name"], *p["other_names"], p["owner"]],
            "owners": [p["owner"], *(x["name"] for x in p["parents"])],
            "country": p["country"],
            "municipality": p["municipality"],
            "latitude": p["latitude"],
            "longitude": p["longitude"],
        }
        for p in plants
    ]
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "city": r.city,
            "country": r.country,
            "latitude": None if math.isnan(r.latitude) else r.latitude,
            "longitude": None if math.isnan(r.longitude) else r.longitude,
        }
        for r in inst.itertuples()
    ]
    found: dict[str, list[str]] = {}
    for m in eutl_site_matches(candidates, rows):
        found.setdefault(m.plant, []).append(m.eutl_id)
    return found


def test_each_plant_gets_its_own_installations_and_no_neighbour():
    assert sites() == {
        # coke ovens, the works' power plant (carries the owner's name), steelworks,
        # the L6 extension and "other installations"; not the lime works (AT_17) nor
        # Linz AG's district heating plants (AT_43, AT_45, AT_46)
        "P100000120010": ["AT_14", "AT_15", "AT_16", "AT_208", "AT_231"],
        "P100000125244": ["AT_31"],
        # not "FW Kirchdorf" (a heating plant with the town's name only)
        "P100000125245": ["AT_91"],
        # not the lime kilns "Wietersdorfer & Peggauer (Kalk) Peggau" (AT_57)
        "P100000125249": ["AT_56"],
        "P100000125250": ["AT_221", "AT_55"],
    }


def test_a_site_reports_the_sum_of_its_installations():
    comp, meta = read_eutl_compliance(EUTL / "eutl_compliance_matched.csv")
    assert meta["rows_read"] == 395
    emitted = {(r.installation_id, r.year): r.emission_t for r in comp.itertuples()}
    linz = sites()["P100000120010"]
    # 2015: only AT_16 "Voestalpine Stahl Linz" reports (8,712,811 t); the other four
    # installations have no 2015 row in the EUTL extract.
    assert sum(emitted.get((i, 2015), 0.0) for i in linz) == 8_712_811.0
    # Kirchdorf 2015: AT_91 "Zementwerk Hofmann Kirchdorf" 206,097 t
    assert emitted[("AT_91", 2015)] == 206_097.0


def test_a_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(UnreadableFile, match="no such file"):
        read_eutl_compliance(tmp_path / "compliance.csv")
    bad = tmp_path / "installation.csv"
    bad.write_text("id,name\nAT_1,x\n")
    with pytest.raises(UnreadableFile, match="missing column"):
        read_eutl_installations(bad)
