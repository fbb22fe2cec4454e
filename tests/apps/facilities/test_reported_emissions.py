"""Reported emissions where known (docs/modelled.md, "Reported emissions"): the EU ETS
verified emissions of a plant's site, loaded from the committed Austrian subset
(fixtures/eu_ets/README.md) by ``manage.py eu_ets_load``, shown on the installation page
and in the API's installation detail beside the modelled direct emissions and their
interval.

Hand-read figures (fixtures/eu_ets/eutl_compliance_matched.csv): Linz 2015, only AT_16
reports, 8,712,811 t; Kirchdorf 2015, AT_91, 206,097 t. The modelled rows are made up for
the test: Linz 8.0 Mt [6.0, 10.0] (reported inside), Kirchdorf 300 kt [250, 350] kt
(reported outside).
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.facilities.models import Installation, InstallationEmission, ReportedEmission

EUTL = Path(__file__).resolve().parents[3] / "fixtures" / "eu_ets"
FILES = [str(EUTL / "eutl_installation_matched.csv"), str(EUTL / "eutl_compliance_matched.csv")]


@pytest.fixture
def plants(db, users):
    made = {}
    for p in json.loads((EUTL / "gem_plants_matched.json").read_text()):
        made[p["identifier"]] = Installation.objects.create(
            identifier=p["identifier"],
            name=p["name"],
            other_names=p["other_names"],
            owner_name=p["owner"],
            parents=p["parents"],
            country=p["country"],
            municipality=p["municipality"],
            latitude=p["latitude"],
            longitude=p["longitude"],
            capacities=p["capacities"],
        )
    linz, kirchdorf = made["P100000120010"], made["P100000125245"]
    for plant, (mid, low, high) in (
        (linz, (8.0e6, 6.0e6, 10.0e6)),
        (kirchdorf, (300e3, 250e3, 350e3)),
    ):
        InstallationEmission.objects.create(
            installation=plant,
            year=2015,
            tier="modelled",
            production_t=1.0,
            production_source="capacity",
            direct_emissions_t=mid,
            direct_emissions_p05_t=low,
            direct_emissions_p95_t=high,
            indirect_emissions_t=0.0,
        )
    return {**users, "linz": linz, "kirchdorf": kirchdorf}


def test_the_load_sums_each_site_and_is_idempotent(plants):
    out = StringIO()
    call_command("eu_ets_load", *FILES, stdout=out)
    # 5 + 1 + 1 + 1 + 2 installations (tests/apps/facilities/test_eutl_matching.py), 8 years each
    assert out.getvalue().startswith("5 plant(s) matched to 10 EU ETS installation(s); 40 year")
    linz = ReportedEmission.objects.get(installation=plants["linz"], year=2015)
    assert linz.emissions_t == 8_712_811.0
    assert linz.eutl_ids == ["AT_14", "AT_15", "AT_16", "AT_208", "AT_231"]
    assert "eutl_compliance_matched.csv sha256" in linz.source
    kirchdorf = ReportedEmission.objects.get(installation=plants["kirchdorf"], year=2015)
    assert kirchdorf.emissions_t == 206_097.0 and kirchdorf.eutl_ids == ["AT_91"]
    count = ReportedEmission.objects.count()
    again = StringIO()
    call_command("eu_ets_load", *FILES, stdout=again)
    assert "0 year(s) stored, 0 updated" in again.getvalue()
    assert ReportedEmission.objects.count() == count


def test_a_missing_file_is_named(plants, tmp_path):
    with pytest.raises(CommandError, match=r"compliance\.csv: no such file"):
        call_command("eu_ets_load", FILES[0], str(tmp_path / "compliance.csv"))


def test_page_and_api_show_reported_beside_modelled(plants, client):
    call_command("eu_ets_load", *FILES, stdout=StringIO())
    api = APIClient()
    api.force_authenticate(plants["official"])
    body = api.get(f"/api/v1/installations/{plants['linz'].pk}/").json()
    row = next(r for r in body["emissions"] if r["year"] == 2015)
    assert row["reported_t"] == 8_712_811.0 and row["modelled_t"] == 8.0e6
    assert (row["modelled_p05_t"], row["modelled_p95_t"]) == (6.0e6, 10.0e6)
    assert row["inside_interval"] is True
    other = api.get(f"/api/v1/installations/{plants['kirchdorf'].pk}/").json()
    row = next(r for r in other["emissions"] if r["year"] == 2015)
    assert row["reported_t"] == 206_097.0 and row["inside_interval"] is False
    # A year with a reported figure and no modelled one: reported, no comparison.
    only = next(r for r in other["emissions"] if r["year"] == 2016)
    assert only["modelled_t"] is None and only["inside_interval"] is None
    assert "emissions" not in api.get("/api/v1/installations/").json()["results"][0]
    client.force_login(plants["official"])
    page = client.get(f"/installations/{plants['kirchdorf'].pk}/").content.decode()
    assert "Modelled and reported emissions" in page
    assert "206097" in page and "250000 – 350000" in page
