"""Both figures of a shipment, on committed transactions: a test that ingests (the ``ingest``
command waits for its on-commit task) needs a world of its own, and a module of its own so
that it never meets the committed module world of tests/apps/shipments/test_two_figures.py
(tests/worlds.py). Hand-worked numbers: that module's docstring."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.shipments.models import Shipment
from apps.shipments.services import shipment_estimates_apply
from tests.apps.helpers import ingest_json, write_customs
from tests.apps.shipments.test_two_figures import build_world, modelled

pytestmark = pytest.mark.services


@pytest.fixture
def world_tx(postgres_tx, users, tmp_path):
    return build_world(users, tmp_path)


def test_a_verified_estimate_of_the_declared_installation_is_the_cbam_figure(world_tx, tmp_path):
    world = world_tx
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "more.csv", ["F2,1,2026-05-02,72085120,TR,Exporter B,Imp,2000000,,4000,P1"]
        ),
    )
    verified = modelled(world["p1"], 1.7, None, None, tier="verified")
    out = shipment_estimates_apply(estimate=verified)
    assert out.shipments == 1 and out.tiers_before == {"modelled": 1}
    s = Shipment.objects.get(declaration_id="F2")
    assert (s.tier, s.best_tier) == ("verified", "verified")
    assert s.embedded_emissions_t == pytest.approx(3400.0)
    # The undeclared line of the same exporter is not verified: default stays its CBAM figure.
    assert Shipment.objects.get(declaration_id="F1", line=1).tier == "default"
    # The tier filters (no index on the tiers: they read the lines that declare an
    # installation, and those of exporters reaching plants) find it, and only it.
    api = APIClient()
    api.force_authenticate(world["official"])

    def ids(query):
        return [
            r["declaration_id"] for r in api.get(f"/api/v1/shipments/?{query}").json()["results"]
        ]

    assert ids("tier=verified") == ["F2"]
    assert ids("best_tier=verified") == ["F2"]
    assert sorted(ids("tier=default")) == ["F1", "F1"]
