"""``manage.py model_installations`` and ``/api/v1/installation-emissions/`` on PostgreSQL:
three registry plants (a BF-BOF works with reported production, an EAF plant and an
integrated cement plant) are modelled once, a second run stores nothing new, the rows
carry the figures of the engine's hand-worked tests (tests/methodologies/test_modelled.py),
and exporters see only their own plants' rows."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from numpy.testing import assert_allclose
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.estimates.models import Estimate
from apps.facilities.models import Installation, InstallationEmission
from apps.grid.models import GridAverage

pytestmark = pytest.mark.services


def plants(org=None):
    Installation.objects.create(
        identifier="P-BFBOF",
        name="Works",
        country="DE",
        source="gem_steel",
        status="operating",
        organisation=org,
        capacities=[
            {"unit": "bof_steel", "status": "operating", "capacity_t": 4e6},
            {"unit": "bf_iron", "status": "operating", "capacity_t": 4.2e6},
            {"unit": "eaf_steel", "status": "announced", "capacity_t": 1e6},
        ],
        production=[{"type": "crude_steel", "year": 2020, "production_t": 3e6}],
    )
    Installation.objects.create(
        identifier="P-EAF",
        name="Mini mill",
        country="IT",
        source="gem_steel",
        status="operating",
        capacities=[{"unit": "eaf_steel", "status": "operating", "capacity_t": 1e6}],
    )
    Installation.objects.create(
        identifier="P-CEM",
        name="Kiln",
        country="PL",
        source="gem_cement",
        status="operating",
        plant_type="integrated",
        production_type="dry",
        capacities=[
            {"unit": "clinker", "status": "operating", "capacity_t": 1e6},
            {"unit": "cement", "status": "operating", "capacity_t": 1.3e6},
        ],
    )
    Installation.objects.create(
        identifier="P-RETIRED",
        name="Old",
        country="DE",
        source="gem_steel",
        status="retired",
        capacities=[{"unit": "eaf_steel", "status": "retired", "capacity_t": 1e6}],
    )


def run(*years):
    out = io.StringIO()
    args = [a for y in years for a in ("--year", str(y))]
    call_command("model_installations", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_command_models_each_operating_plant_once_and_is_idempotent(users):
    plants(org=users["org_a"])
    first = run(2020)
    # 3 operating plants (the retired one is left out); goods: 7207 + 7208, 7207 + 7208,
    # clinker + cement
    assert (first["plant_years"], first["rows_created"], first["estimates_created"]) == (3, 3, 6)
    assert first["by_source"] == {"capacity": 2, "reported": 1}
    events, estimates = AuditEvent.objects.count(), Estimate.objects.count()
    again = run(2020)
    assert (again["rows_created"], again["rows_updated"], again["estimates_created"]) == (0, 0, 0)
    assert (again["rows_unchanged"], again["estimates_existing"]) == (3, 6)
    assert (AuditEvent.objects.count(), Estimate.objects.count()) == (events, estimates)
    assert InstallationEmission.objects.count() == 3

    works = InstallationEmission.objects.get(installation__identifier="P-BFBOF", year=2020)
    assert works.production_source == "reported" and works.tier == "modelled"
    # 3e6 t × JRC EU integrated 1.76 × k 0.688 (the announced EAF does not count)
    assert_allclose(works.direct_emissions_t, 3e6 * 1.76 * 0.688, rtol=1e-12)
    assert works.direct_emissions_p05_t < works.direct_emissions_t < works.direct_emissions_p95_t
    hot = Estimate.objects.get(subject_key="installation|P-BFBOF|7208|2020")
    assert (hot.tier, hot.cn_code, hot.origin, hot.installation.identifier) == (
        "modelled",
        "7208",
        "DE",
        "P-BFBOF",
    )
    assert (str(hot.period_start), str(hot.period_end)) == ("2020-01-01", "2020-12-31")
    assert_allclose(hot.see_direct_t_per_t, 1.76 * 0.688, rtol=1e-12)
    assert hot.interval_low_t_per_t < hot.see_total_t_per_t < hot.interval_high_t_per_t
    assert sorted(works.estimate_ids) == sorted(
        Estimate.objects.filter(subject_key__startswith="installation|P-BFBOF|").values_list(
            "pk", flat=True
        )
    )
    cement = Estimate.objects.get(subject_key="installation|P-CEM|25232900|2020")
    assert not cement.direct_only and cement.see_indirect_t_per_t > 0


def test_the_grid_factor_is_the_countrys_stored_average(users):
    from apps.evidence.models import IngestRun

    plants()
    run(2020)
    assert_allclose(
        InstallationEmission.objects.get(installation__identifier="P-EAF").indirect_emissions_t,
        780_000
        * 0.6
        * json.loads(
            Estimate.objects.filter(subject_key__startswith="installation|P-EAF|")[0].trace
        )["case"]["electricity_ef_t_per_mwh"],
    )
    assert GridAverage.objects.count() == 0 or IngestRun.objects.exists()


def test_the_api_serves_the_rows_with_the_design_names_and_scopes_exporters(users):
    plants(org=users["org_a"])
    run(2020, 2021)
    api = APIClient()
    api.force_authenticate(users["official"])
    page = api.get("/api/v1/installation-emissions/", {"year": 2020}).json()
    rows = sorted(page["results"], key=lambda r: r["installation"])
    assert [r["installation"] for r in rows] == ["P-BFBOF", "P-CEM", "P-EAF"]
    assert set(rows[0]) == {
        "installation",
        "year",
        "tier",
        "production_t",
        "production_source",
        "direct_emissions_t",
        "direct_emissions_p05_t",
        "direct_emissions_p95_t",
        "indirect_emissions_t",
        "estimates",
    }
    assert rows[0]["production_t"] == 3e6 and rows[0]["production_source"] == "reported"
    for r in rows:
        for pk in r["estimates"]:
            assert api.get(f"/api/v1/estimates/{pk}/").status_code == 200
    only = api.get("/api/v1/installation-emissions/", {"country": "pl", "tier": "modelled"})
    assert [r["installation"] for r in only.json()["results"]] == ["P-CEM", "P-CEM"]
    one = api.get("/api/v1/installation-emissions/", {"installation": "P-EAF", "year": 2021})
    assert [(r["installation"], r["year"]) for r in one.json()["results"]] == [("P-EAF", 2021)]
    assert api.get("/api/v1/installation-emissions/", {"tier": "bogus"}).status_code == 400

    api.force_authenticate(users["exporter_a"])
    mine = api.get("/api/v1/installation-emissions/").json()["results"]
    assert {r["installation"] for r in mine} == {"P-BFBOF"}
    api.force_authenticate(users["exporter_b"])
    assert api.get("/api/v1/installation-emissions/").json()["results"] == []
    schema = APIClient().get("/api/schema/", {"format": "json"})
    assert "/api/v1/installation-emissions/" in schema.json()["paths"]


def test_a_registry_ingest_models_its_plants_for_the_years_it_covers(postgres, tmp_path, settings):
    from tests.apps.facilities.test_registry import small_steel
    from tests.apps.helpers import ingest_json

    settings.CM_MODEL_ON_REGISTRY_INGEST = True
    ingest_json("facilities", small_steel(tmp_path / "steel.xlsx"))
    # no production sheet: the year before the release "Test 2099 (V1)"; crude steel
    # capacity only, on each plant's route (P1 BF; BOF, P2 EAF)
    rows = InstallationEmission.objects.order_by("installation__identifier")
    assert [(r.installation.identifier, r.year) for r in rows] == [("P1", 2098), ("P2", 2098)]
    assert_allclose(rows[0].production_t, 700_000 * 0.78, rtol=1e-12)
    assert rows[0].direct_emissions_t > 10 * rows[1].direct_emissions_t / (3000 / 700)
