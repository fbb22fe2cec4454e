"""Reads of the totals kept in the cache (dashboard sums, the exporters of a CN code, the
origin's default value) are shared between page views, and never outlive the totals they
summed: an ingest or an estimate applied to shipments changes what the pages show at once."""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import F

from apps.audit.services import audit_append
from apps.shipments.models import ShipmentTotal
from apps.shipments.selectors import cached_on_totals, exporter_comparison, totals_version
from tests.apps.helpers import ingest_json, write_customs


def test_a_cached_read_is_computed_once_while_the_totals_stand(world):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cached_on_totals("test:once", compute) == 1
    assert cached_on_totals("test:once", compute) == 1
    assert len(calls) == 1


def test_the_totals_version_moves_with_an_ingest_and_with_the_audit_log(world_tx, tmp_path):
    before = totals_version()
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "more.csv", ["W9,1,2026-06-01,72081000,CN,Exporter A,Importer,1000,,4000,"]
        ),
    )
    after_ingest = totals_version()
    assert after_ingest != before
    # Anything else that rewrites totals appends to the audit log in the same transaction
    # (apps.estimates.services: an estimate applied to shipments).
    with transaction.atomic():
        audit_append(actor=None, action="estimate.apply", object_type="estimate", object_id=1)
    assert totals_version() != after_ingest


def test_the_comparison_of_exporters_follows_the_totals(world_tx, tmp_path):
    official = world_tx["official"]
    first = exporter_comparison(cn_code="72081000", user=official)
    mass = {row["exporter"]: row["net_mass_t"] for row in first}
    assert mass == {"Exporter A": 1000.0, "Exporter B": 500.0}
    # Rows changed without an ingest or an audit event are not seen (the cache holds)...
    ShipmentTotal.objects.filter(cn_code="72081000").update(net_mass_t=F("net_mass_t") * 2)
    assert exporter_comparison(cn_code="72081000", user=official) == first
    # ...an ingest that adds a shipment is, on the next page view.
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "more.csv", ["W9,1,2026-06-01,72081000,CN,Exporter B,Importer,700000,,4000,"]
        ),
    )
    after = {
        row["exporter"]: row["net_mass_t"]
        for row in exporter_comparison(cn_code="72081000", user=official)
    }
    assert after["Exporter B"] == 500.0 * 2 + 700.0


def test_the_report_shows_the_new_comparison_after_an_ingest(world_tx, client, tmp_path):
    client.force_login(world_tx["official"])
    url = f"/shipments/{world_tx['steel_cn_a'].pk}/"
    assert "1500.0" not in client.get(url).content.decode()
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "more.csv", ["W9,1,2026-06-01,72081000,CN,Exporter A,Importer,500000,,4000,"]
        ),
    )
    assert "1500.0" in client.get(url).content.decode()  # Exporter A: 1000 t + 500 t


def test_a_shipment_on_the_default_value_is_compared_with_the_estimate_it_uses(world, client):
    """The report's default-value card reads the stored estimate's result, which is what
    the engine gives for the shipment's origin, CN code and year."""
    from apps.shipments.reports import default_comparison, default_comparison_of

    shipment = world["steel_cn_a"]
    estimate = shipment.estimate
    assert estimate.subject_key == f"default|CN|{shipment.cn_code}|{shipment.date.year}"
    stored = default_comparison_of(json.loads(estimate.trace)["result"])
    fresh = default_comparison(origin="CN", cn_code=shipment.cn_code, year=shipment.date.year)
    assert stored == fresh
    client.force_login(world["official"])
    body = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert f"{fresh['see_total_t_per_t']:.4f}" in body
