"""Importers: officials browse the importers of the customs lines; an importer's member
reads only the customs lines naming its organisation and downloads its own Registry report
(valid against v19); every other page and API route is closed to it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from lxml import etree

from apps.accounts.models import Organisation, User
from apps.shipments.importer_views import importers_ensure
from ingest.cbam_report import NS, SCHEMAS
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def world(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv",
            [
                "R1,1,2026-03-02,72081000,CN,Rep Steel,Imp,900000,,4000,",
                "R1,2,2026-03-02,72081000,CN,Rep Steel,Imp,5000,,4000,",
                "R3,1,2026-03-05,72081000,CN,Rep Steel,Other Importer,1000,,4000,",
            ],
        ),
    )
    assert importers_ensure() == 2
    assert importers_ensure() == 2  # idempotent
    imp = Organisation.objects.get(name="Imp")
    assert imp.kind == Organisation.Kind.IMPORTER
    imp.eori = "DE1234567890"
    imp.save()
    member = User.objects.create_user(
        "importer", password="pw-importer", role=User.Role.IMPORTER, organisation=imp
    )
    return {**users, "importer": member}


def test_an_importer_reads_only_its_own_lines_and_downloads_its_report(world):
    client = Client()
    client.force_login(world["importer"])
    api = json.loads(client.get("/api/v1/shipments/").content)
    assert sorted(r["declaration_id"] for r in api["results"]) == ["R1", "R1"]
    assert client.get("/").url == "/importer/"
    home = client.get("/importer/")
    assert home.status_code == 200 and "2 lines" in home.content.decode()
    xml = client.get("/importer/report.xml?year=2026&quarter=1")
    assert xml.status_code == 200
    doc = etree.fromstring(xml.content)
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS["19.00"])))
    assert schema.validate(doc), schema.error_log
    assert doc.findtext(f".//{{{NS}}}MeasureImported/{{{NS}}}NetMass") == "905"
    # everything else is closed to an importer, pages and API alike
    for url in ("/disclosures/", "/dashboard/", "/importers/", "/reconciliation/"):
        assert client.get(url).status_code == 403, url
    for url in ("/api/v1/estimates/", "/api/v1/disclosures/", "/api/v1/totals/"):
        assert client.get(url).status_code == 403, url


def test_officials_browse_the_importers(world):
    client = Client()
    client.force_login(world["official"])
    page = client.get("/importers/").content.decode()
    assert "Imp" in page and "Other Importer" in page and "DE1234567890" in page
    exporter = Client()
    exporter.force_login(world["exporter_a"])
    assert exporter.get("/importers/").status_code == 403
