"""Importers from the customs lines (docs/official-formats.md, "Importers"): a customs file
that declares the importer (name, EORI) makes it an organisation at ingest — keyed by EORI
where one is given, else by the name's key — and sets each line's importer; a bad EORI is
a row error (line and field), the other rows kept; a second ingest changes nothing and
links lines stored before importers were resolved (the merge path); an importer's member
reads exactly its own lines and its report declares exactly them.

The file (``net_mass_kg``): E1/1 Acme DE… 100 t, E1/2 "ACME IMPORT GMBH." without EORI 50 t
(the same organisation: its name's key), E2/1 Acme under another EORI (FR…) 20 t (an
organisation of its own), E3/1 no name, EORI NL… 30 t (named by its EORI), E4/1 EORI "XX12"
(no such country: refused, file line 6), E5/1 Beta Trade, no EORI, 10 t.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.accounts.models import Organisation, User
from apps.shipments.models import Shipment
from apps.shipments.registry_report import importer_report
from tests.apps.helpers import DEFAULTS_CSV, ingest_json

pytestmark = pytest.mark.services

HEADER = "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,eori,net_mass_kg"
ROWS = [
    "E1,1,2026-02-03,72081000,CN,Steel A,Acme Import GmbH,DE123456789012345,100000",
    "E1,2,2026-02-03,72081000,CN,Steel A,ACME IMPORT GMBH.,,50000",
    "E2,1,2026-02-04,72081000,CN,Steel A,Acme Import GmbH,fr987654321,20000",
    "E3,1,2026-02-05,72081000,CN,Steel A,,NL000111222,30000",
    "E4,1,2026-02-05,72081000,CN,Steel A,Beta Trade,XX12,10000",
    "E5,1,2026-02-06,72081000,CN,Steel A,Beta Trade,,10000",
]


def _importers() -> dict[str, tuple]:
    return {
        f"{s.declaration_id}/{s.line}": (s.importer.name, s.importer.eori, s.importer_eori)
        for s in Shipment.objects.filter(is_current=True).select_related("importer")
    }


@pytest.fixture
def ingested(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    path = tmp_path / "customs.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    first = ingest_json("customs", path)
    return {"path": path, "first": first, **users}


def test_customs_lines_make_their_importers_organisations(ingested):
    first = ingested["first"]
    assert (first["accepted"], first["rejected"]) == (5, 1)
    [error] = first["errors"]
    assert (error["line"], error["field"], error["value"]) == (6, "importer_eori", "XX12")
    assert "does not start with a known country code (XX)" in error["reason"]

    expected = {
        "E1/1": ("Acme Import GmbH", "DE123456789012345", "DE123456789012345"),
        "E1/2": ("Acme Import GmbH", "DE123456789012345", ""),
        "E2/1": ("Acme Import GmbH", "FR987654321", "FR987654321"),
        "E3/1": ("NL000111222", "NL000111222", "NL000111222"),
        "E5/1": ("Beta Trade", "", ""),
    }
    assert _importers() == expected
    importers = Organisation.objects.filter(kind=Organisation.Kind.IMPORTER)
    assert sorted(importers.values_list("key", "eori")) == [
        ("acme import gmbh", "DE123456789012345"),
        ("beta trade", ""),
        ("eori:FR987654321", "FR987654321"),
        ("nl000111222", "NL000111222"),
    ]

    # Again: nothing new. Then lines stored before importers were resolved (unlinked by
    # hand here) are linked by the next ingest of the same file, through the merge.
    again = ingest_json("customs", ingested["path"])
    assert (again["accepted"], again["duplicates"]) == (0, 5)
    Shipment.objects.filter(declaration_id__in=["E1", "E5"]).update(importer=None)
    third = ingest_json("customs", ingested["path"])
    assert (third["accepted"], third["duplicates"]) == (0, 5)
    assert _importers() == expected
    assert importers.count() == 4
    assert Shipment.objects.count() == 5  # no new versions

    # The Registry report of the EORI declares exactly its lines: 100 + 50 t.
    report = importer_report(importer="DE123456789012345", year=2026, quarter=1)
    assert [g["net_mass_t"] for g in report["goods"]] == [150.0]


def test_an_importer_member_reads_its_own_lines_and_officials_browse_them(ingested):
    acme_fr = Organisation.objects.get(eori="FR987654321")
    member = User.objects.create_user(
        "fr", password="pw-fr-1", role="importer", organisation=acme_fr
    )
    client = Client()
    client.force_login(member)
    api = json.loads(client.get("/api/v1/shipments/").content)
    assert [(r["declaration_id"], r["line"]) for r in api["results"]] == [("E2", 1)]
    (line,) = api["results"]
    assert (line["importer"], line["importer_eori"]) == (acme_fr.pk, "FR987654321")

    official = Client()
    official.force_login(ingested["official"])
    page = official.get("/importers/").content.decode()
    for text in ("Acme Import GmbH", "(DE123456789012345)", "(FR987654321)", "NL000111222"):
        assert text in page, text
    # Acme (DE) has two lines, 150 t; Acme (FR) one line, 20 t: two rows, not one.
    assert page.count(">Acme Import GmbH<") == 2
