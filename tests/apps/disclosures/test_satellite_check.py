"""Confirming a disclosure checks its production against the satellite evidence (issues 6
and 7): an under-declared year raises a reconciliation flag with both numbers, and the
disclosed estimate's trace carries it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from numpy.testing import assert_allclose

from apps.disclosures.models import Status
from apps.disclosures.services import disclosure_version_confirm
from apps.estimates.models import Estimate
from apps.satellite.models import ReconciliationFlag
from tests.apps.disclosures.conftest import TEMPLATE_CSV, upload
from tests.apps.satellite.test_reconciliation import hand_worked_2025, plant  # noqa: F401

pytestmark = pytest.mark.services


def _template_2025(tmp_path, identifier: str, production_kt: str):
    text = TEMPLATE_CSV.read_text(encoding="utf-8")
    text = text.replace("IN-MH-0042", identifier).replace("country,India", "country,France")
    # One good of the installation: its production is what the satellite check compares.
    text = text.replace("goods,1,production,1.2,Mt", f"goods,1,production,{production_kt},kt")
    text = text.replace('goods,2,production,"85,000",t', "goods,2,production,0,t")
    path = tmp_path / "disclosure-2025.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_under_declared_disclosure_is_flagged_and_its_estimate_carries_the_flag(
    plant,  # noqa: F811  (the satellite tests' plant: twelve 2025 scenes, 120 kt reference)
    users,
    tmp_path,
    settings,
):
    settings.LLM_BASE_URL = None
    exporter = users["exporter_a"]
    version = upload(exporter, plant, _template_2025(tmp_path, plant.identifier, "40"), 2025)
    assert version.status == Status.REVIEW, version.failure
    engine = disclosure_version_confirm(version=version, user=exporter)

    flag = ReconciliationFlag.objects.get(installation=plant, status="open")
    *_, expected, _ = hand_worked_2025()
    assert_allclose([flag.disclosed_value, flag.satellite_value], [40_000.0, expected], rtol=1e-9)
    assert flag.disclosure_ref == f"disclosure {version.disclosure_id} version 1"
    assert any(note.startswith("satellite check: disclosed 40,000 t") for note in engine["notes"])

    estimate = Estimate.objects.get(pk=engine["estimates"][0]["id"])
    carried = json.loads(estimate.trace)["provenance"]["reconciliation_flags"]
    assert [f["id"] for f in carried] == [flag.pk]

    # The installation page lists the disclosure with its version and the estimate.
    from django.urls import reverse

    page_client = Client()
    page_client.force_login(users["official"])
    page = page_client.get(reverse("installation-detail", args=[plant.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "v1 confirmed" in body
    assert reverse("estimate-detail", args=[estimate.pk]) in body
    assert "No disclosures are listed here yet" not in body
    # ... and its audit history: the confirmation, the estimate and the flag.
    assert "disclosure.confirm" in body and "satellite.flag.raise" in body
    detail = page_client.get(reverse("disclosure-detail", args=[version.disclosure_id]))
    assert detail.status_code == 200 and "disclosure.confirm" in detail.content.decode()
