"""Activity indices from ingested scenes, reconciliation flags raised and closed by the
service, shown on the installation page and through the API, scoped by role."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.satellite.models import ActivityIndex, ReconciliationFlag
from apps.satellite.selectors import reconciliation_flags
from apps.satellite.services import SatelliteError, reconciliation_check
from methodologies import satellite as activity_model
from methodologies.trace import seal
from tests.apps.helpers import ingest_json
from tests.apps.satellite.helpers import installation_at, lonlat_of_pixel, write_geotiff

pytestmark = pytest.mark.services

# The installation's monthly thermal signal in 2025 [K] (each month's scene is uniform, so
# the footprint's coverage-weighted mean is this value, to rounding).
SIGNAL_2025 = [310.0, 312.0, 305.0, 315.0, 311.0, 309.0, 313.0, 308.0, 314.0, 316.0, 307.0, 312.0]
REFERENCE_T, REFERENCE_SIGMA_T = 120_000.0, 3_000.0


@pytest.fixture
def plant(postgres, users, tmp_path):
    inst = installation_at(
        "PLANT-1",
        *lonlat_of_pixel(20, 20),
        organisation=users["org_a"],
        reference_production_t=REFERENCE_T,
        reference_production_sigma_t=REFERENCE_SIGMA_T,
    )
    for month, value in enumerate(SIGNAL_2025, start=1):
        path = tmp_path / f"2025-{month:02d}.tif"
        data = np.full((40, 40), value, dtype=np.float32)
        write_geotiff(path, data, time=f"2025-{month:02d}-15T10:00:00Z", variable="lst")
        assert ingest_json("raster", path)["accepted"] == 1
    return inst


def hand_worked_2025():
    """The satellite.activity model of methodologies/satellite.py, by hand:
    B10 = P10 (linear interpolation), B50 = median, A = (x̄ − B10)/(B50 − B10),
    σ_A = sd(x)/√n / (B50 − B10), E = A·P_ref, σ_E = √((σ_A·P_ref)² + (A·σ_ref)²)."""
    x = sorted(SIGNAL_2025)  # 305 307 308 309 310 311 312 312 313 314 315 316
    b10 = x[1] + 0.1 * (x[2] - x[1])  # rank 0.1·(12 − 1) = 1.1 → 307.1
    b50 = (x[5] + x[6]) / 2  # 311.5
    mean = sum(x) / 12  # 311.0
    a = (mean - b10) / (b50 - b10)  # 3.9 / 4.4 = 0.886364
    sd = (sum((v - mean) ** 2 for v in x) / 11) ** 0.5
    sigma_a = sd / 12**0.5 / (b50 - b10)
    e = a * REFERENCE_T
    sigma_e = ((sigma_a * REFERENCE_T) ** 2 + (a * REFERENCE_SIGMA_T) ** 2) ** 0.5
    return b10, b50, a, sigma_a, e, sigma_e


def test_monthly_activity_indices_follow_each_ingested_scene(plant):
    monthly = ActivityIndex.objects.filter(installation=plant).order_by("period")
    # A month needs 6 usable observations in its 24-month baseline: June onwards.
    assert [m.period for m in monthly] == [f"2025-{m:02d}" for m in range(6, 13)]
    june = monthly.get(period="2025-06")
    # June's baseline is January–June: 305 309 310 311 312 315 (sorted);
    # B10 = 305 + 0.5·(309 − 305) = 307 (rank 0.1·5), B50 = (310 + 311)/2 = 310.5,
    # A = (309 − 307) / (310.5 − 307) = 0.571429.
    assert_allclose([june.baseline_p10, june.baseline_median], [307.0, 310.5], rtol=1e-12)
    assert_allclose(june.activity_index, 2 / 3.5, rtol=1e-12)
    assert june.n_baseline == 6 and june.n_period == 1
    # a month of 2025 is days/365 of the annual reference production
    assert_allclose(june.reference_production_t, REFERENCE_T * 30 / 365, rtol=1e-12)


def test_an_under_declared_year_is_flagged_with_both_numbers(plant, users):
    b10, b50, a, sigma_a, e, sigma_e = hand_worked_2025()
    disclosed, disclosed_sigma = 40_000.0, 2_000.0
    outcome = reconciliation_check(
        installation=plant,
        period="2025",
        disclosed_production_t=disclosed,
        disclosed_sigma_t=disclosed_sigma,
        disclosure_ref="test:1",
        actor=users["official"],
    )
    sigma = (disclosed_sigma**2 + sigma_e**2) ** 0.5
    index = outcome.activity_index
    assert_allclose([index.baseline_p10, index.baseline_median], [b10, b50], rtol=1e-9)
    assert_allclose(index.activity_index, a, rtol=1e-9)  # 0.886364 (rounding of the means)
    assert_allclose(index.activity_index_sigma, sigma_a, rtol=1e-9)
    assert_allclose(outcome.expected_production_t, e, rtol=1e-9)
    assert_allclose(outcome.combined_sigma_t, sigma, rtol=1e-9)
    assert_allclose(outcome.z_score, (disclosed - e) / sigma, rtol=1e-9)
    assert outcome.flagged and outcome.z_score < -2

    flag = ReconciliationFlag.objects.get()
    assert (flag.status, flag.period, flag.unit) == ("open", "2025", "t")
    assert_allclose([flag.disclosed_value, flag.satellite_value], [disclosed, e], rtol=1e-9)
    assert flag.model == "satellite.activity" and flag.parameters["k"] == 2.0
    assert flag.validation["statement"] == activity_model.VALIDATION
    assert AuditEvent.objects.filter(action="satellite.flag.raise", object_id=str(flag.pk))

    # The trace recomputes byte for byte from its own case.
    trace = json.loads(flag.trace)
    recomputed = activity_model.compute(trace["case"])
    assert seal(recomputed["trace"])[1] == flag.trace_sha256
    assert_allclose(trace["case"]["period_observations"], SIGNAL_2025, rtol=1e-12)

    (row,) = reconciliation_flags(installation_id=plant.pk, year=2025)
    assert row["id"] == flag.pk
    assert row["disclosed"] == {"value": disclosed, "unit": "t"}
    assert row["satellite_implied"]["unit"] == "t"
    assert_allclose(row["satellite_implied"]["value"], e, rtol=1e-9)
    assert_allclose(row["combined_uncertainty"], sigma, rtol=1e-9)
    assert "σ" in row["reason"]
    assert reconciliation_flags(installation_id=plant.pk, year=2024) == []


def test_a_consistent_later_disclosure_closes_the_flag(plant):
    reconciliation_check(
        installation=plant, period="2025", disclosed_production_t=40_000, disclosure_ref="d:1"
    )
    again = reconciliation_check(
        installation=plant, period="2025", disclosed_production_t=105_000, disclosure_ref="d:1"
    )
    assert not again.flagged and again.flag is None
    flag = ReconciliationFlag.objects.get()
    assert flag.status == "closed" and "within the combined uncertainty" in flag.closed_reason
    assert reconciliation_flags(installation_id=plant.pk, year=2025) == []


def test_the_check_refuses_without_evidence_or_reference(plant, users):
    with pytest.raises(SatelliteError, match="no usable observation"):
        reconciliation_check(installation=plant, period="2024", disclosed_production_t=1.0)
    bare = installation_at("BARE-1", *lonlat_of_pixel(5, 5))  # observed by no scene
    with pytest.raises(SatelliteError, match="no satellite observation"):
        reconciliation_check(installation=bare, period="2025", disclosed_production_t=1.0)
    plant.reference_production_t = None
    plant.save()
    with pytest.raises(SatelliteError, match="reference production"):
        reconciliation_check(installation=plant, period="2025", disclosed_production_t=1.0)


def test_flags_show_on_the_page_and_in_the_api_scoped_by_role(plant, users, client):
    reconciliation_check(installation=plant, period="2025", disclosed_production_t=40_000)
    flag = ReconciliationFlag.objects.get()

    client.force_login(users["official"])
    page = client.get(f"/installations/{plant.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reconciliation flags" in html and "flag: z = " in html  # table and chart marker
    assert "40000 t" in html and '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'id="disclosures"' in html  # the hook for the disclosures area

    api = APIClient()
    api.force_authenticate(users["auditor"])
    listed = api.get("/api/v1/reconciliation-flags/", {"status": "open", "period": "2025"})
    assert [f["id"] for f in listed.json()["results"]] == [flag.pk]
    assert listed.json()["results"][0]["disclosed_value"] == 40_000
    trace = api.get(f"/api/v1/reconciliation-flags/{flag.pk}/trace")
    assert trace["X-Trace-SHA256"] == flag.trace_sha256
    assert hashlib.sha256(trace.content).hexdigest() == flag.trace_sha256
    indices = api.get("/api/v1/activity-indices/", {"installation": plant.pk, "period": "2025"})
    assert len(indices.json()["results"]) == 8  # June–December + the year
    obs = api.get("/api/v1/observations/", {"identifier": "PLANT-1"}).json()["results"]
    assert len(obs) == 12 and obs[0]["pixel_rule"] == "coverage_fraction"

    # The owner's exporter sees its flag; another exporter sees nothing and gets 404.
    api.force_authenticate(users["exporter_a"])
    assert len(api.get("/api/v1/reconciliation-flags/").json()["results"]) == 1
    api.force_authenticate(users["exporter_b"])
    assert api.get("/api/v1/reconciliation-flags/").json()["results"] == []
    assert api.get(f"/api/v1/reconciliation-flags/{flag.pk}/").status_code == 404
    assert api.get(f"/api/v1/installations/{plant.pk}/").status_code == 404
    assert api.get("/api/v1/observations/").json()["results"] == []
    client.force_login(users["exporter_b"])
    assert client.get(f"/installations/{plant.pk}/").status_code == 404
    client.force_login(users["exporter_a"])
    assert client.get(f"/installations/{plant.pk}/").status_code == 200
