"""Both figures of a shipment (docs/design.md): the CBAM figure (verified, else default
with mark-up) and the best estimate (verified, disclosed, modelled, a capacity-weighted
mixture of the exporter's plants, else default without mark-up), re-chosen when evidence
changes, with flags and the officials' risk view.

Hand-worked numbers (Annex I of IR 2025/2621, Türkiye, CN 7208: total 2.4275 tCO2e/t,
direct-only; 2026 mark-up +10 % → 2.6703):

- plant P1, 3,000,000 t/a, modelled 2.2 t/t [1.9, 2.5]; plant P2, 1,000,000 t/a,
  modelled 0.6 t/t [0.5, 0.7];
- mixture weights 0.75 / 0.25 → SEE 0.75 × 2.2 + 0.25 × 0.6 = 1.8 t/t; its 5 %/95 %
  quantiles (σ1 = 0.6 / 3.2897, σ2 = 0.2 / 3.2897) 0.548833 / 2.473779 t/t
  (methodologies/mixture.py; checked by tests/methodologies/test_mixture.py);
- 1,000 t shipped: CBAM figure 2,670.3 t, best estimate 1,800 t, gap 870.3 tCO2e; the
  default 2.6703 exceeds the p95 2.473779: ``default_overstates``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.estimates.services import estimate_record
from apps.facilities.models import Installation, MatchSuggestion
from apps.facilities.services import match_decide
from apps.shipments.models import Shipment, ShipmentTotal
from apps.shipments.services import shipment_figures_rechoose
from methodologies.trace import canonical_bytes, sha256_hex
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, make_users, write_customs
from tests.worlds import module_world

pytestmark = pytest.mark.services


def modelled(installation, see, low, high, tier="modelled", cn="7208"):
    """A modelled (or disclosed) estimate as ``model_installations`` records it."""
    result = {"see_direct_t_per_t": see, "see_total_t_per_t": see, "tier": tier}
    trace = {
        "methodology": {"id": "test.modelled", "version": "0"},
        "case": {"installation": installation.identifier},
        "result": {**result, "interval_low_t_per_t": low, "interval_high_t_per_t": high},
    }
    with transaction.atomic():  # audited with the change it records
        return _record(installation, result, trace, low, high, tier, cn, see)


def _record(installation, result, trace, low, high, tier, cn, see):
    return estimate_record(
        result={
            **result,
            "interval_low_t_per_t": low,
            "interval_high_t_per_t": high,
            "trace": trace,
            "trace_sha256": sha256_hex(canonical_bytes(trace)),
        },
        subject_key=f"modelled|{installation.identifier}|{cn}|2026|{see}",
        tier=tier,
        cn_code=cn,
        origin=installation.country,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        installation=installation,
    )


def build_world(users: dict, tmp_path) -> dict:
    """Defaults, two declaration lines of 1,000 t and 500 t, plants P1 and P2 modelled."""
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "customs.csv",
            [
                "F1,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,",
                "F1,2,2026-04-02,72085120,IN,Exporter A,Imp,500000,,4000,",
            ],
        ),
    )
    p1 = Installation.objects.create(
        identifier="P1",
        name="Plant One (real name in the demo)",
        country="TR",
        capacities=[{"unit": "BF", "status": "operating", "capacity_t": 3_000_000}],
    )
    p2 = Installation.objects.create(
        identifier="P2",
        name="Plant Two",
        country="TR",
        capacities=[{"unit": "EAF", "status": "operating", "capacity_t": 1_000_000}],
    )
    e1 = modelled(p1, 2.2, 1.9, 2.5)
    e2 = modelled(p2, 0.6, 0.5, 0.7)
    return {**users, "p1": p1, "p2": p2, "e1": e1, "e2": e2}


@module_world
def figures_world(tmp):
    return build_world(make_users(), tmp)


@pytest.fixture
def world(figures_world, db, settings):
    """The module's world (tests/worlds.py), read inside this test's own transaction."""
    return figures_world.use(settings)


def link(world, plant, decision="confirmed"):
    suggestion, _ = MatchSuggestion.objects.get_or_create(
        kind=MatchSuggestion.Kind.INSTALLATION,
        organisation=world["org_b"],
        installation=plant,
        defaults={"score": 0.9},
    )
    return match_decide(suggestion_id=suggestion.pk, decision=decision, actor=world["official"])


def test_before_any_evidence_the_best_estimate_is_the_default_without_markup(world):
    s = Shipment.objects.get(declaration_id="F1", line=1)
    assert (s.tier, s.best_tier) == ("default", "default")
    assert s.estimate.see_total_t_per_t == 2.6703
    assert s.best_estimate.see_total_t_per_t == 2.4275  # the published total, unmarked
    assert s.best_embedded_emissions_t == pytest.approx(1000 * 2.4275)


def test_linked_plants_give_the_capacity_weighted_mixture(world):
    link(world, world["p1"])
    s = Shipment.objects.get(declaration_id="F1", line=1)
    assert s.best_estimate_id == world["e1"].pk  # one plant: its estimate
    link(world, world["p2"])
    s.refresh_from_db()
    mix = s.best_estimate
    assert mix.methodology == "estimate.mixture" and mix.tier == "modelled"
    assert mix.see_total_t_per_t == pytest.approx(1.8)
    assert (mix.interval_low_t_per_t, mix.interval_high_t_per_t) == (0.548833, 2.473779)
    assert s.tier == "default" and s.embedded_emissions_t == pytest.approx(2670.3)
    assert s.best_embedded_emissions_t == pytest.approx(1800.0)
    # The other exporter's shipment is untouched (still its unmarked default).
    other = Shipment.objects.get(declaration_id="F1", line=2)
    assert other.best_tier == "default" and other.best_estimate.see_total_t_per_t == 4.28
    # Totals follow, both figures.
    total = ShipmentTotal.objects.get(exporter=world["org_b"])
    assert total.best_embedded_emissions_t == pytest.approx(1800.0)
    assert total.best_modelled_mass_t == pytest.approx(1000.0)
    assert total.embedded_emissions_t == pytest.approx(2670.3)
    # Idempotent: nothing changes on a second pass.
    assert shipment_figures_rechoose().shipments == 0
    # Undoing a link re-chooses: one plant left.
    link(world, world["p2"], decision="rejected")
    s.refresh_from_db()
    assert s.best_estimate_id == world["e1"].pk


def test_risk_view_ranks_the_gap_with_its_flags(world, client):
    link(world, world["p1"])
    link(world, world["p2"])
    modelled(world["p2"], 0.95, None, None, tier="disclosed")  # outside P2's [0.5, 0.7]
    shipment_figures_rechoose(installations=[world["p2"].pk])
    api = APIClient()
    api.force_authenticate(world["official"])
    body = api.get("/api/v1/risk/?cn_code=7208&origin=TR").json()
    top = body["exporters"][0]
    assert top["name"] == "Exporter B"
    flags = {f["flag"] for f in top["flags"]}
    assert {"default_overstates", "see_outside_modelled_interval"} <= flags
    # P2's disclosed 0.95 replaces its modelled rung in the mixture: 0.75·2.2 + 0.25·0.95
    assert top["best_embedded_emissions_t"] == pytest.approx(1000 * (1.65 + 0.2375))
    assert top["gap_t"] == pytest.approx(2670.3 - 1887.5)
    plants = {r["name"]: r for r in body["installations"]}
    assert plants["Plant One (real name in the demo)"]["gap_t"] == pytest.approx(
        0.75 * (2670.3 - 1887.5)
    )
    assert api.get("/api/v1/risk/?origin=IN").json()["exporters"][0]["name"] == "Exporter A"
    exporter = APIClient()
    exporter.force_authenticate(world["exporter_a"])
    assert exporter.get("/api/v1/risk/").status_code == 403
    client.force_login(world["official"])
    page = client.get("/risk/?cn_code=7208").content.decode()
    assert "Exporter B" in page and "default_overstates" in page
    csv = client.get("/risk/?cn_code=7208&format=csv")
    assert csv.status_code == 200 and b"Exporter B" in b"".join(csv.streaming_content)


def test_the_shipments_api_serves_both_figures(world):
    link(world, world["p1"])
    link(world, world["p2"])
    api = APIClient()
    api.force_authenticate(world["official"])
    rows = api.get("/api/v1/shipments/?origin=TR").json()["results"]
    (row,) = rows
    assert row["tier"] == "default" and row["best_tier"] == "modelled"
    assert row["best_see_total_t_per_t"] == pytest.approx(1.8)
    assert row["best_interval_t_per_t"] == {"p05": 0.548833, "p95": 2.473779}
    assert row["installation"] is None
    one = api.get(f"/api/v1/shipments/{row['id']}/").json()
    assert {k: one[k] for k in row} == row


def test_the_command_fills_the_figures_of_a_database_from_before_best_estimates(world):
    """Migration 0007 adds ``best_*`` empty: ``manage.py figures_rechoose`` fills them
    (and the totals' best columns), and a second run changes nothing."""
    from io import StringIO

    from django.core.management import call_command

    from apps.shipments.selectors import totals_differences

    link(world, world["p1"])
    link(world, world["p2"])
    # What 0007 leaves on existing rows: the best estimate empty, its totals 0.
    Shipment.objects.update(best_estimate=None, best_tier="", best_embedded_emissions_t=None)
    ShipmentTotal.objects.update(best_embedded_emissions_t=0.0, best_modelled_mass_t=0.0)
    ShipmentTotal.objects.update(best_default_mass_t=0.0)
    assert totals_differences() == []  # totals agree with the emptied rows
    out = StringIO()
    call_command("figures_rechoose", stdout=out)
    assert out.getvalue().startswith("2 shipment(s) changed in 2 month(s)")
    s = Shipment.objects.get(declaration_id="F1", line=1)
    assert s.best_tier == "modelled" and s.best_embedded_emissions_t == pytest.approx(1800.0)
    other = Shipment.objects.get(declaration_id="F1", line=2)
    assert other.best_tier == "default" and other.best_embedded_emissions_t == pytest.approx(2140)
    total = ShipmentTotal.objects.get(exporter=world["org_b"])
    assert total.best_modelled_mass_t == pytest.approx(1000.0)
    assert total.best_embedded_emissions_t == pytest.approx(1800.0)
    assert totals_differences() == []
    again = StringIO()
    call_command("figures_rechoose", stdout=again)
    assert again.getvalue().startswith("0 shipment(s) changed")


def test_two_re_choices_in_one_transaction(world):
    """A confirmation may re-choose more than once before it commits: the temporary tables
    of the first pass (dropped at commit) do not stop the second."""
    with transaction.atomic():
        link(world, world["p1"])
        link(world, world["p2"])
    s = Shipment.objects.get(declaration_id="F1", line=1)
    assert s.best_estimate.methodology == "estimate.mixture"
    assert s.best_embedded_emissions_t == pytest.approx(1800.0)
    total = ShipmentTotal.objects.get(exporter=world["org_b"])
    assert total.best_modelled_mass_t == pytest.approx(1000.0)


def test_the_tier_filters_find_the_lines_of_exporters_reaching_plants(world):
    """No index holds a tier (a re-choice rewrites the rows heap-only): the best-tier
    filter reads the lines that declare an installation and those of exporters that
    reach plants. An undeclared line whose exporter's plant is modelled is among them."""
    link(world, world["p1"])
    api = APIClient()
    api.force_authenticate(world["official"])

    def lines(query):
        rows = api.get(f"/api/v1/shipments/?{query}").json()["results"]
        return sorted((r["declaration_id"], r["line"]) for r in rows)

    assert lines("best_tier=modelled") == [("F1", 1)]
    assert lines("best_tier=default") == [("F1", 2)]
    assert lines("best_tier=disclosed") == []
    assert lines("tier=default") == [("F1", 1), ("F1", 2)]


def test_a_line_the_monthly_totals_miss_is_re_chosen_all_the_same(world):
    """A re-choice of every shipment on PostgreSQL takes its groups from the monthly
    totals; a line they do not account for (here written behind their back, in a group
    of its own) is caught by the write, which reads the groups from the rows and
    chooses again. Elsewhere the groups are always read from the rows."""
    link(world, world["p1"])  # Exporter B's TR lines now form a group of their own
    first = Shipment.objects.get(declaration_id="F1", line=1)
    Shipment.objects.create(
        declaration_id="X1",
        line=1,
        date=dt.date(2026, 5, 4),
        cn_code="72085120",
        origin="TR",
        exporter=world["org_a"],  # not linked: the group (TR, 7208…, 2026, none, none)
        net_mass_t=10.0,
        mass_unit="t",
        ingest_run_id=first.ingest_run_id,
        source_line=1,
    )
    out = shipment_figures_rechoose()
    assert out.shipments == 1
    s = Shipment.objects.get(declaration_id="X1")
    assert (s.tier, s.best_tier) == ("default", "default")
    assert s.embedded_emissions_t == pytest.approx(26.703)
    assert s.best_embedded_emissions_t == pytest.approx(24.275)
    assert shipment_figures_rechoose().shipments == 0
    # No totals at all: the groups are read from the rows.
    ShipmentTotal.objects.all().delete()
    Shipment.objects.filter(declaration_id="X1").update(best_estimate=None, best_tier="")
    assert shipment_figures_rechoose().shipments == 1
    assert Shipment.objects.get(declaration_id="X1").best_tier == "default"
