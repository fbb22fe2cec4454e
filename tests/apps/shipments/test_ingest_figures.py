"""The customs ingest stores each line with both its figures already chosen (docs/design.md,
the two figures; docs/scaling.md, "Measured cost and size"): the stored lines are those a
re-choice would give, the totals hold both figures, and a choice overtaken by evidence
recorded before the lines committed is made again."""

from __future__ import annotations

import pytest

from apps.accounts.models import Organisation
from apps.accounts.services import organisations_ensure
from apps.facilities.models import Installation
from apps.shipments import services
from apps.shipments.models import LineFlag, Shipment, ShipmentTotal
from apps.shipments.services import shipment_figures_rechoose, shipment_totals_rebuild
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs
from tests.apps.shipments.test_two_figures import modelled

pytestmark = pytest.mark.services

LINES = [
    # Exporter B owns plants P1 and P2 (TR, 7208): the capacity-weighted mixture.
    "G1,1,2026-03-02,72085120,TR,Exporter B,Imp,1000000,,4000,",
    # The same exporter, a line declaring plant P2: that plant's own estimate.
    "G1,2,2026-05-02,72085120,TR,Exporter B,Imp,200000,,4000,P2",
    # Another exporter, no plant: the default value without mark-up.
    "G2,1,2026-04-02,72085120,IN,Exporter A,Imp,500000,,4000,",
    # A ton keyed as a kilogram: kept, flagged implausible.
    "G3,1,2026-06-02,72085120,IN,Exporter A,Imp,900000000000,1000,4000,",
]


@pytest.fixture
def plants(postgres):
    ingest_json("defaults", DEFAULTS_CSV)
    owner = organisations_ensure(names=["Exporter B"], kind=Organisation.Kind.EXPORTER)
    org = Organisation.objects.get(pk=owner["Exporter B"])
    p1 = Installation.objects.create(
        identifier="P1",
        name="Plant One",
        country="TR",
        organisation=org,
        capacities=[{"unit": "BF", "status": "operating", "capacity_t": 3_000_000}],
    )
    p2 = Installation.objects.create(
        identifier="P2",
        name="Plant Two",
        country="TR",
        organisation=org,
        capacities=[{"unit": "EAF", "status": "operating", "capacity_t": 1_000_000}],
    )
    e1, e2 = modelled(p1, 2.2, 1.9, 2.5), modelled(p2, 0.6, 0.5, 0.7)
    return {"p1": p1, "p2": p2, "e1": e1, "e2": e2}


def _totals() -> list[tuple]:
    return sorted(
        (
            t.origin,
            t.cn_code,
            t.exporter_id,
            t.month,
            t.shipments,
            round(t.net_mass_t, 9),
            round(t.embedded_emissions_t, 6),
            round(t.best_embedded_emissions_t, 6),
            round(t.best_modelled_mass_t, 9),
            round(t.best_default_mass_t, 9),
        )
        for t in ShipmentTotal.objects.all()
    )


def test_lines_are_stored_with_the_figures_a_rechoice_gives(plants, tmp_path):
    summary = ingest_json("customs", write_customs(tmp_path / "g.csv", LINES))
    assert summary["accepted"] == 4
    mixed = Shipment.objects.get(declaration_id="G1", line=1)
    assert mixed.best_estimate.methodology == "estimate.mixture"
    assert mixed.best_embedded_emissions_t == pytest.approx(1000 * 1.8)
    assert (mixed.tier, mixed.embedded_emissions_t) == ("default", pytest.approx(2670.3))
    declared = Shipment.objects.get(declaration_id="G1", line=2)
    assert declared.installation_id == plants["p2"].pk
    assert declared.best_estimate_id == plants["e2"].pk
    assert declared.best_embedded_emissions_t == pytest.approx(200 * 0.6)
    other = Shipment.objects.get(declaration_id="G2", line=1)
    assert (other.best_tier, other.best_estimate.see_total_t_per_t) == ("default", 4.28)
    keyed = Shipment.objects.get(declaration_id="G3", line=1)
    assert keyed.implausible and "keying error" in keyed.implausible_reason
    assert LineFlag.objects.get(shipment_id=keyed.pk).reason == keyed.implausible_reason
    assert not mixed.implausible and mixed.implausible_reason == ""

    # What a re-choice of every line would write is what the ingest stored.
    before = _totals()
    assert shipment_figures_rechoose().shipments == 0
    # The totals the ingest added up (both figures) equal a rebuild from the lines.
    shipment_totals_rebuild()
    assert _totals() == before
    assert sum(t[8] for t in before) == pytest.approx(1200.0)  # best on modelled: G1 lines


def test_a_replayed_file_adds_nothing_and_keeps_the_flags(plants, tmp_path):
    path = write_customs(tmp_path / "g.csv", LINES)
    ingest_json("customs", path)
    again = ingest_json("customs", write_customs(tmp_path / "g2.csv", [*LINES, ""]))
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    assert Shipment.objects.count() == 4 and LineFlag.objects.count() == 1
    # A corrected line (merge path) is a new version, with its figures and its flag.
    corrected = LINES[3].replace("900000000000", "900000000001")
    third = ingest_json("customs", write_customs(tmp_path / "g3.csv", [corrected]))
    assert (third["accepted"], third["duplicates"]) == (1, 0)
    new = Shipment.objects.get(declaration_id="G3", is_current=True)
    assert new.version == 2 and new.implausible and new.best_tier == "default"
    assert LineFlag.objects.filter(shipment_id=new.pk).exists()
    before = _totals()
    shipment_totals_rebuild()
    assert _totals() == before


def test_a_choice_overtaken_before_the_lines_commit_is_made_again(plants, tmp_path, monkeypatch):
    """Evidence recorded between the choice and the commit of the lines (its own re-choice
    ran before the lines were there): the ingest's check finds the choice changed and
    re-chooses the run's lines."""
    store = services._batches_store
    recorded = {}

    def store_after_new_evidence(batches, **kwargs):
        recorded["e3"] = modelled(plants["p2"], 0.5, 0.4, 0.6, tier="disclosed")
        return store(batches, **kwargs)

    monkeypatch.setattr(services, "_batches_store", store_after_new_evidence)
    ingest_json("customs", write_customs(tmp_path / "g.csv", LINES[1:2]))
    declared = Shipment.objects.get(declaration_id="G1", line=2)
    assert declared.best_estimate_id == recorded["e3"].pk  # disclosed ranks over modelled
    assert declared.best_embedded_emissions_t == pytest.approx(200 * 0.5)
    assert shipment_figures_rechoose().shipments == 0
