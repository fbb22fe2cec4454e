"""Confirming a disclosure feeds the engine: the installation's shipments get "disclosed
actual" as their best estimate while their CBAM figure stays the default (only a verified
value replaces it: docs/design.md, the two figures of a shipment), their totals follow,
the trace cites the disclosure version, its file's SHA-256 and each value's evidence, and
it recomputes byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.disclosures.models import ExtractedValue, Status
from apps.disclosures.services import disclosure_version_confirm, extracted_value_review
from apps.estimates.models import Estimate
from apps.estimates.services import estimates_choose
from apps.shipments.models import Shipment, ShipmentTotal
from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.helpers import DEFAULTS_CSV, ingest_json, write_customs

pytestmark = pytest.mark.services

# Hand-worked from fixtures/disclosures/template_example.csv (the whole installation):
#   coke    410,000 t × 0.0282 TJ/t × 107 t/TJ        = 1,237,134.0 tCO2
#   gas     52,000 (1000 Nm³) × 0.036 TJ × 56.1 t/TJ  =   105,019.2 tCO2
#   heat    no emission factor given: not counted
#   pig iron (precursor, IN) 250,000 t × 1.9 t/t       =   475,000.0 tCO2
#   production 1,200,000 + 85,000 = 1,285,000 t (both goods: same SEE, mass-proportional)
#   SEE_direct = 1,817,153.2 / 1,285,000 = 1.41412700… t/t; CN 7208 is direct-only (Annex II)
SEE_DIRECT = 1_817_153.2 / 1_285_000
#   electricity: the grid item (source "grid", disclosed 710 kg/MWh) takes India's factor
#   of IR 2025/2621 Annex II, 0.726 t/MWh (OJ p. 2351): CBAM admits a disclosed factor
#   only with a PPA or a direct technical link (IR 2025/2547 Annex II D.4, D.4.3); the
#   solar item (source "PPA", 0 t/MWh) keeps its factor.
#   310,000 MWh × 0.726 + 45,000 MWh × 0 = 225,060 t → SEE_indirect 0.175144…
#   (was 220,100 t with the disclosed 0.71, used before without justification)
SEE_INDIRECT = 225_060 / 1_285_000


@pytest.fixture
def world(postgres_tx, users, installations, tmp_path, settings):
    settings.LLM_BASE_URL = None
    ingest_json("defaults", DEFAULTS_CSV)
    ingest_json(
        "customs",
        write_customs(
            tmp_path / "customs.csv",
            [
                # declared with exporter A's installation: these move to the disclosure
                "D1,1,2026-03-02,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
                "D1,2,2026-07-15,72085120,IN,Exporter A,Imp,500000,,4000,IN-MH-0042",
                # no installation declared, another CN, another year: stay on defaults
                "D2,1,2026-03-02,72085120,IN,Exporter A,Imp,2000000,,4000,",
                "D2,2,2026-03-02,76011010,IN,Exporter A,Imp,20000,,4000,IN-MH-0042",
                "D3,1,2025-12-30,72085120,IN,Exporter A,Imp,1000000,,4000,IN-MH-0042",
            ],
        ),
    )
    return users


def test_confirming_moves_the_installations_shipments_to_disclosed(world, installations, tmp_path):
    exporter = world["exporter_a"]
    assert set(Shipment.objects.filter(date__year=2026).values_list("tier", flat=True)) == {
        "default"
    }
    d3_tier = Shipment.objects.get(declaration_id="D3").tier  # 2025: no default value yet
    default_mass = sum(ShipmentTotal.objects.values_list("default_mass_t", flat=True))
    version = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    assert version.status == Status.REVIEW
    engine = disclosure_version_confirm(version=version, user=exporter)
    # D1's two lines declare the installation; D2/1 declares none but its exporter owns
    # the installation, so it reaches it too (docs/design.md).
    assert engine["shipments"] == 3 and engine["tiers_before"] == {"default": 3}

    moved = Shipment.objects.filter(declaration_id="D1")
    assert set(moved.values_list("best_tier", flat=True)) == {"disclosed"}
    # The CBAM figure admits verified actuals only: the default stays.
    assert set(moved.values_list("tier", flat=True)) == {"default"}
    estimate = moved.first().best_estimate
    np.testing.assert_allclose(estimate.see_direct_t_per_t, SEE_DIRECT, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_indirect_t_per_t, SEE_INDIRECT, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_total_t_per_t, SEE_DIRECT, rtol=1e-12)
    assert estimate.installation == installations["a"] and estimate.tier == "disclosed"
    for s in moved:
        np.testing.assert_allclose(s.best_embedded_emissions_t, s.net_mass_t * SEE_DIRECT)
    assert Shipment.objects.get(declaration_id="D2", line=1).best_tier == "disclosed"
    # Another CN code, another year: the default without mark-up stays their best.
    assert Shipment.objects.get(declaration_id="D2", line=2).best_tier == "default"
    assert Shipment.objects.get(declaration_id="D3").tier == d3_tier  # outside the period
    # Totals follow: the CBAM figure's default mass is unchanged; 3,500 t of best
    # estimates are now disclosed.
    after_default = sum(ShipmentTotal.objects.values_list("default_mass_t", flat=True))
    np.testing.assert_allclose(default_mass - after_default, 0.0)
    disclosed = sum(ShipmentTotal.objects.values_list("best_disclosed_mass_t", flat=True))
    np.testing.assert_allclose(disclosed, 3500.0)
    for column in ("embedded_emissions_t", "best_embedded_emissions_t"):
        total = sum(ShipmentTotal.objects.values_list(column, flat=True))
        np.testing.assert_allclose(
            total, sum(e or 0.0 for e in Shipment.objects.values_list(column, flat=True))
        )

    trace = json.loads(estimate.trace)
    provenance = trace["provenance"]
    assert provenance["disclosure"]["version"] == 1
    assert provenance["disclosure"]["evidence"]["sha256"] == version.evidence.sha256
    assert provenance["ladder"]["tier"] == "disclosed" and "default" in provenance["ladder"]["why"]
    assert provenance["reconciliation_flags"] == []
    cited = {c["field"]: c for c in provenance["values"]}
    assert cited["fuel[coke].amount"]["line"] == 14 and cited["fuel[coke].amount"]["quote"] == (
        "410 kt"
    )
    assert trace["case"]["tier"] == "disclosed"
    grid_note = next(n for n in provenance["notes"] if n.startswith("electricity[grid]"))
    assert "CBAM country factor 0.726 t/MWh" in grid_note and "Annex II" in grid_note
    assert "the disclosed 0.71 t/MWh is not used" in grid_note
    assert "measured grid intensity" in grid_note  # shown as evidence, not used
    solar_note = next(n for n in provenance["notes"] if n.startswith("electricity[solar]"))
    assert "justified by a power purchase agreement" in solar_note
    assert cited["electricity[grid].source"]["value"] == "grid"

    api = APIClient()
    api.force_authenticate(world["auditor"])
    verified = api.post(f"/api/v1/estimates/{estimate.pk}/verify").json()
    assert verified["match"] is True
    assert verified["recomputed_sha256"] == estimate.trace_sha256
    assert api.get("/api/v1/shipments/?tier=disclosed").json()["results"] == []


def test_a_correction_is_used_and_the_extracted_value_kept(world, installations, tmp_path):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    coke = version.values.get(field="fuel[coke].amount")
    extracted_value_review(
        value=coke,
        user=exporter,
        action="correct",
        corrected_value=500,
        corrected_unit="kt",
        reason="restated after the audit",
    )
    verifier = version.values.get(field="verifier[1].name")
    extracted_value_review(value=verifier, user=exporter, action="drop", reason="not needed")
    disclosure_version_confirm(version=version, user=exporter)
    coke.refresh_from_db()
    assert (coke.value, coke.status, coke.corrected_value) == (410000.0, "corrected", 500.0)
    # coke now 500,000 t × 0.0282 × 107 = 1,508,700; + 105,019.2 + 475,000
    see = (1_508_700 + 105_019.2 + 475_000) / 1_285_000
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    np.testing.assert_allclose(estimate.see_direct_t_per_t, see, rtol=1e-12)
    cited = {c["field"]: c for c in json.loads(estimate.trace)["provenance"]["values"]}
    assert cited["fuel[coke].amount"]["extracted"] == {"value": 410000.0, "unit": "t"}


def test_a_restatement_is_a_new_version_and_supersedes_the_earlier_estimate(
    world, installations, tmp_path
):
    exporter = world["exporter_a"]
    first = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=first, user=exporter)
    old = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    second = upload(
        exporter,
        installations["a"],
        template_2026(tmp_path, **{"coke,amount,410": "coke,amount,300"}),
        2026,
    )
    assert (second.disclosure_id, second.number) == (first.disclosure_id, 2)
    disclosure_version_confirm(version=second, user=exporter)
    first.refresh_from_db()
    old.refresh_from_db()
    new = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert new.pk != old.pk and old.superseded_by_id == new.pk
    assert first.superseded_by_id == second.pk and first.status == Status.CONFIRMED
    assert first.values.count() == second.values.count() == 37  # nothing overwritten
    assert new.see_direct_t_per_t < old.see_direct_t_per_t
    assert json.loads(new.trace)["provenance"]["disclosure"]["version"] == 2


def test_new_shipments_of_the_installation_keep_the_default_as_cbam_figure(
    world, installations, tmp_path
):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    chosen = estimates_choose(
        origin=np.array(["IN", "IN"], dtype=object),
        cn_code=np.array(["72085120", "72085120"], dtype=object),
        year=np.array([2026, 2026]),
        net_mass_t=np.array([10.0, 10.0]),
        installation_identifier=np.array(["IN-MH-0042", ""], dtype=object),
    )
    # The CBAM figure chosen at ingest admits a verified actual only (docs/design.md): a
    # disclosed one becomes the best estimate after the ingest
    # (test_confirming_moves_the_installations_shipments_to_disclosed).
    assert list(chosen.tier) == ["default", "default"]
    assert Estimate.objects.get(pk=chosen.estimate_id[0]).tier == "default"


def test_values_cannot_be_reviewed_once_the_version_is_confirmed(world, installations, tmp_path):
    from apps.disclosures.services import ReviewError

    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    value = ExtractedValue.objects.filter(version=version).first()
    with pytest.raises(ReviewError):
        extracted_value_review(value=value, user=exporter, action="confirm")


def test_the_cbam_templates_communicated_see_becomes_the_disclosed_estimate(
    world, installations, tmp_path
):
    """tests/ingest/test_disclosure_cbam_template.py's workbook: CN 7208 51 20 with SEE
    direct 1.95 and indirect 0.21 tCO2e/t, embedded electricity 0.38 MWh/t (cells I10,
    J10, O10 of Summary_Products). 7208 is direct-only: SEE used = 1.95."""
    from tests.ingest.test_disclosure_cbam_template import template

    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template(tmp_path / "cbam.xlsx"), 2026)
    assert version.kind == "cbam_template" and version.status == Status.REVIEW
    assert version.values.get(field="72085120.see_direct").cell == "Summary_Products!I10"
    disclosure_version_confirm(version=version, user=exporter)
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert estimate.tier == "disclosed" and estimate.cn_code == "72085120"
    np.testing.assert_allclose(estimate.see_direct_t_per_t, 1.95, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_indirect_t_per_t, 0.21, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_total_t_per_t, 1.95, rtol=1e-12)
    cells = {c["cell"] for c in json.loads(estimate.trace)["provenance"]["values"]}
    assert cells == {"Summary_Products!I10", "Summary_Products!J10", "Summary_Products!O10"}


def test_a_partial_disclosure_of_a_steel_works_is_modelled_with_its_route(
    world, installations, tmp_path
):
    """Production and electricity, no fuels: route.steel, BF-BOF, IPCC 2006 Vol. 3 Ch. 4
    Table 4.1 Tier 1 factor 1.46 tCO2/t steel (methodologies/route_steel.py)."""
    installation = installations["a"]
    installation.routes = ["bf_bof"]
    installation.save()
    full = template_2026(tmp_path)
    lines = full.read_text(encoding="utf-8").splitlines()
    partial = tmp_path / "partial.csv"
    partial.write_text(
        "\n".join(line for line in lines if not line.startswith(("fuel,", "precursor,"))) + "\n",
        encoding="utf-8",
    )
    exporter = world["exporter_a"]
    version = upload(exporter, installation, partial, 2026)
    engine = disclosure_version_confirm(version=version, user=exporter)
    assert any("route.steel (bf_bof)" in note for note in engine["notes"])
    estimate = Shipment.objects.get(declaration_id="D1", line=1).best_estimate
    assert estimate.tier == "modelled" and estimate.methodology == "route.steel"
    np.testing.assert_allclose(estimate.see_direct_t_per_t, 1.46, rtol=1e-12)
    np.testing.assert_allclose(estimate.see_indirect_t_per_t, SEE_INDIRECT, rtol=1e-12)
    assert set(
        Shipment.objects.filter(declaration_id="D1").values_list("best_tier", flat=True)
    ) == {"modelled"}
    trace = json.loads(estimate.trace)
    assert trace["provenance"]["ladder"]["tier"] == "modelled"
    api = APIClient()
    api.force_authenticate(world["auditor"])
    assert api.post(f"/api/v1/estimates/{estimate.pk}/verify").json()["match"] is True
