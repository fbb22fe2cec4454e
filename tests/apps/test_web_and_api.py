"""Pages and the REST API answer a logged-in user, refuse an anonymous one, and scope
exporters to their own organisation."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from apps.shipments.models import Shipment
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, make_users, write_customs
from tests.worlds import module_world

pytestmark = pytest.mark.services


@module_world
def api_world(tmp_path):
    """Built once per module on committed transactions (tests/worlds.py)."""
    users = make_users()
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "w.csv",
            [
                "W1,1,2026-03-02,72081000,CN,Exporter A,Imp,1000000,,4000,",
                "W1,2,2026-03-02,76011010,IN,Exporter A,Imp,20000,,4000,",
                "W2,1,2026-05-02,25232900,TR,Exporter B,Imp,30000,,4000,",
            ],
        ),
    )
    return users


@pytest.fixture
def world(api_world, db, settings):
    return api_world.use(settings)


def token_for(client: APIClient, username: str) -> str:
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": "pw-" + username}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["expires"]
    return response.json()["token"]


def test_anonymous_is_refused_by_pages_and_api(world, client):
    assert client.get("/shipments/").status_code == 302
    assert client.get("/shipments/").url.startswith("/login/")
    assert APIClient().get("/api/v1/shipments/").status_code in (401, 403)


def test_a_wrong_password_gets_no_token(world):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "official", "password": "nope"}, format="json"
    )
    assert response.status_code == 401


def test_the_shipments_api_lists_and_filters_with_a_token(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token_for(api, "official"))
    page = api.get("/api/v1/shipments/").json()
    assert set(page) >= {"results", "next"}
    assert len(page["results"]) == 3
    row = page["results"][0]
    for key in (
        "id",
        "declaration_id",
        "line",
        "date",
        "cn_code",
        "origin",
        "net_mass_t",
        "see_direct_t_per_t",
        "see_indirect_t_per_t",
        "see_total_t_per_t",
        "embedded_emissions_t",
        "tier",
        "estimate",
    ):
        assert key in row
    assert [r["origin"] for r in api.get("/api/v1/shipments/?origin=CN").json()["results"]] == [
        "CN"
    ]
    assert len(api.get("/api/v1/shipments/?cn_code=72").json()["results"]) == 1
    assert len(api.get("/api/v1/shipments/?period_from=2026-04-01").json()["results"]) == 1
    detail = api.get(f"/api/v1/shipments/{row['id']}/")
    assert detail.status_code == 200


def test_exporters_see_only_their_own_shipments(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token_for(api, "exporter_b"))
    rows = api.get("/api/v1/shipments/").json()["results"]
    assert {r["exporter"] for r in rows} == {"Exporter B"}
    foreign = Shipment.objects.filter(exporter__name="Exporter A").first()
    assert api.get(f"/api/v1/shipments/{foreign.pk}/").status_code == 404
    assert api.get(f"/api/v1/estimates/{foreign.estimate_id}/").status_code == 404


def test_the_trace_is_served_as_canonical_bytes_and_recomputes(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token_for(api, "auditor"))
    shipment = Shipment.objects.get(declaration_id="W1", line=1)
    response = api.get(f"/api/v1/estimates/{shipment.estimate_id}/trace")
    assert response.status_code == 200
    assert response["X-Trace-SHA256"] == hashlib.sha256(response.content).hexdigest()
    verify = api.post(f"/api/v1/estimates/{shipment.estimate_id}/verify").json()
    assert verify == {
        "match": True,
        "stored_sha256": response["X-Trace-SHA256"],
        "recomputed_sha256": response["X-Trace-SHA256"],
        "differences": [],
    }


def test_the_pages_show_the_list_and_the_shipment_report(world, client):
    client.force_login(world["official"])
    listing = client.get("/shipments/?cn_code=7208")
    assert listing.status_code == 200
    assert b"W1 / 1" in listing.content and b"W2 / 1" not in listing.content
    shipment = Shipment.objects.get(declaration_id="W1", line=1)
    report = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert "Default value, 2026 mark-up (+10 %)" in report
    assert "3.5056" in report
    assert "cbam.default" in report
    assert "Implementing Regulation (EU) 2025/2621" in report


def test_the_openapi_schema_and_docs_are_served_without_a_cdn(world, client):
    client.force_login(world["official"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/shipments/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs.split("<body")[0]


def test_totals_group_by_origin_cn_code_and_month(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token_for(api, "official"))
    rows = api.get("/api/v1/totals/?group_by=origin,cn_code,month").json()["results"]
    by_key = {(r["origin"], r["cn_code"], r["month"]): r for r in rows}
    steel = by_key[("CN", "72081000", "2026-03-01")]
    assert steel["net_mass_t"] == pytest.approx(1000.0)
    assert steel["embedded_emissions_t"] == pytest.approx(1000 * 3.5056)
    assert len(rows) == 3
    by_origin = api.get("/api/v1/totals/?group_by=origin").json()["results"]
    assert {r["origin"] for r in by_origin} == {"CN", "IN", "TR"}
    assert api.get("/api/v1/totals/?group_by=colour").status_code == 400

    exporter = APIClient()
    exporter.credentials(HTTP_AUTHORIZATION="Token " + token_for(exporter, "exporter_b"))
    own = exporter.get("/api/v1/totals/?group_by=exporter").json()["results"]
    assert [r["exporter"] for r in own] == ["Exporter B"]


def test_the_list_read_with_values_equals_the_documented_serializer(world):
    """The list API reads its page with values() for speed; every field and value must be
    what ShipmentSerializer (the schema's serializer) gives for the same rows."""
    from rest_framework.renderers import JSONRenderer

    from apps.shipments.api import ShipmentSerializer
    from apps.shipments.selectors import shipment_list

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token_for(client, "official"))
    listed = client.get("/api/v1/shipments/").json()["results"]
    rows = shipment_list(user=world["official"]).order_by("-id")
    documented = ShipmentSerializer(rows, many=True).data
    assert len(listed) == len(documented) == 3
    import json

    assert listed == json.loads(JSONRenderer().render(documented))
