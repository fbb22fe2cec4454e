"""Filters run inside the caller's scope (issue #16 item 7): an exporter who filters a list
by another exporter's name learns nothing, not even whether that name exists.

The world: exporters A and B ship the same good (CN 72081000) from the same origin (CN) in
the same year, so both lines use the same default-value estimate (IR 2025/2621, CN 7208,
China). Before the fix ``/api/v1/estimates/?exporter=`` searched every exporter's
shipments: A asked "Exporter B" (or any prefix of it, one character at a time) and got the
shared estimate back, which told it that B exists and ships that good from China.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


@pytest.fixture
def shared_world(postgres, users, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    summary = ingest_json(
        "customs",
        write_customs(
            tmp_path / "shared.csv",
            [
                "S1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
                "S2,1,2026-03-09,72081000,CN,Exporter B,Imp,2000000,,4000,",
                "S3,1,2026-04-01,25232900,TR,Exporter B,Imp,30000,,4000,",
            ],
        ),
    )
    assert summary["accepted"] == 3, summary
    return users


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[0]}")
    return client


def _ids(client: APIClient, path: str) -> set[int]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_estimates_exporter_filter_searches_only_the_callers_shipments(shared_world):
    a = _api(shared_world["exporter_a"])
    own = _ids(a, "/api/v1/estimates/?exporter=Exporter+A")
    assert len(own) == 1  # the default value of (CN, 72081000, 2026), shared with B
    # Every name and prefix of the competitor answers the same as a name that does not exist.
    for probe in ("Exporter+B", "r+B", "B", "xyz-no-such-exporter"):
        assert _ids(a, f"/api/v1/estimates/?exporter={probe}") == set(), probe
    # An official still finds the estimate through either exporter.
    official = _api(shared_world["official"])
    assert _ids(official, "/api/v1/estimates/?exporter=Exporter+B") >= own


def _zip_count(client: APIClient, query: str) -> int:
    response = client.get(f"/api/v1/estimates/traces.zip?{query}")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert len([n for n in archive.namelist() if n.startswith("traces/")]) == manifest["count"]
    return manifest["count"]


def test_the_trace_archive_filter_searches_only_the_callers_shipments(shared_world):
    a = _api(shared_world["exporter_a"])
    assert _zip_count(a, "exporter=Exporter+A") == 1
    assert _zip_count(a, "exporter=Exporter+B") == 0
    assert _zip_count(a, "exporter=B") == 0


def test_the_shipment_filters_search_only_the_callers_shipments(shared_world):
    b = _api(shared_world["exporter_b"])
    for query in ("exporter=Exporter+A", "q=Exporter+A", "q=S1", "exporter=A"):
        assert _ids(b, f"/api/v1/shipments/?{query}") == set(), query
    assert len(_ids(b, "/api/v1/shipments/?exporter=Exporter+B")) == 2
