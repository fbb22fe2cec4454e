"""``production_above_capacity`` (docs/registry.md, "Production above capacity"): a
disclosed or verified annual production above the installation's registry capacity by
more than 10 % is flagged, with both figures and the source, in the risk view and on the
installation page.

Hand-worked: operating crude steel 1,000,000 + "operating pre-retirement" crude steel
200,000 = 1,200,000 t/a (iron 900,000 is a smaller unit; 5,000,000 under construction does
not count); the ceiling is 1.1 × 1,200,000 = 1,320,000 t. Disclosed 1,400,000 t of CN 7208
(ratio 1.1667) is flagged; 1,300,000 t of CN 7210 (1.0833) is not; a modelled 5,000,000 t
is not a disclosure.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.estimates.services import estimate_record
from apps.facilities.models import Installation
from apps.facilities.selectors import installation_registry_capacity
from apps.shipments.risk import capacity_flags
from apps.shipments.services import shipment_figures_rechoose
from methodologies.trace import canonical_bytes, sha256_hex
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services


def disclosed(plant, cn, production, tier="disclosed", see=1.9):
    trace = {
        "methodology": {"id": "cbam.installation", "version": "test"},
        "case": {"good": {"cn_code": cn, "activity_level_t": production}},
    }
    with transaction.atomic():
        return estimate_record(
            result={
                "see_direct_t_per_t": see,
                "see_total_t_per_t": see,
                "trace": trace,
                "trace_sha256": sha256_hex(canonical_bytes(trace)),
            },
            subject_key=f"installation|{plant.identifier}|{cn}|2026",
            tier=tier,
            cn_code=cn,
            origin=plant.country,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            installation=plant,
        )


@pytest.fixture
def world(postgres_tx, users, tmp_path):
    plant = Installation.objects.create(
        identifier="CAP1",
        name="Capacity Works",
        country="TR",
        source_release="GEM Global Iron and Steel Tracker, September 2025 (V1)",
        capacities=[
            {"unit": "crude_steel", "status": "operating", "capacity_t": 1_000_000},
            {"unit": "iron", "status": "operating", "capacity_t": 900_000},
            {"unit": "crude_steel", "status": "operating pre-retirement", "capacity_t": 200_000},
            {"unit": "crude_steel", "status": "construction", "capacity_t": 5_000_000},
        ],
    )
    over = disclosed(plant, "7208", 1_400_000)
    disclosed(plant, "7210", 1_300_000)
    disclosed(plant, "7211", 5_000_000, tier="modelled")
    return {**users, "plant": plant, "over": over}


def test_the_capacity_is_the_largest_operating_unit(world):
    assert installation_registry_capacity(world["plant"]) == (1_200_000.0, "crude_steel")
    assert installation_registry_capacity(Installation(capacities=[])) is None


def test_production_above_capacity_is_flagged_with_its_trace(world):
    (flag,) = capacity_flags({world["plant"].pk})
    assert flag["flag"] == "production_above_capacity"
    trace = flag["trace"]
    assert trace["estimate"] == world["over"].pk and trace["cn_code"] == "7208"
    assert (trace["disclosed_production_t"], trace["capacity_t"]) == (1_400_000.0, 1_200_000.0)
    assert trace["ratio"] == pytest.approx(1.4 / 1.2)
    assert trace["capacity_source"].startswith("GEM Global Iron and Steel Tracker")
    assert "exceeds the registry capacity 1,200,000 t/a (crude_steel" in flag["reason"]


def test_shown_in_the_risk_view_and_on_the_installation_page(world, client, tmp_path):
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "c.csv", ["K1,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,CAP1"]
        ),
    )
    shipment_figures_rechoose()
    api = APIClient()
    api.force_authenticate(world["official"])
    body = api.get("/api/v1/risk/?origin=TR").json()
    (plant,) = [r for r in body["installations"] if r["name"] == "Capacity Works"]
    assert [f["flag"] for f in plant["flags"]].count("production_above_capacity") == 1
    exporter = body["exporters"][0]
    assert "production_above_capacity" in {f["flag"] for f in exporter["flags"]}
    client.force_login(world["official"])
    page = client.get(f"/installations/{world['plant'].pk}/").content.decode()
    assert 'id="capacity-flags"' in page and "production_above_capacity" in page
