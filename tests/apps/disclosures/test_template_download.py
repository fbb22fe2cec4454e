"""A confirmed disclosure downloaded as the Commission's communication template (v2.1.1,
input cells filled, formulas kept), recalculated by LibreOffice: its Summary_Products gives
the platform's SEE (hand-worked in tests/apps/disclosures/test_confirm.py:
SEE direct 1 817 153.2 / 1 285 000, SEE indirect 225 060 / 1 285 000 tCO2e/t)."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.disclosures.services import disclosure_version_confirm
from apps.estimates.models import Estimate
from ingest.disclosure.cbam_template_writer import recalculate, summary_products
from tests.apps.disclosures.conftest import template_2026, upload
from tests.apps.disclosures.test_confirm import SEE_DIRECT, SEE_INDIRECT, world  # noqa: F401
from tests.ingest.test_cbam_template_full import soffice  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.filterwarnings("ignore::UserWarning")]


def test_the_downloaded_template_recalculates_to_the_platforms_see(
    world,  # noqa: F811
    installations,
    tmp_path,
    soffice,  # noqa: F811
):
    exporter = world["exporter_a"]
    version = upload(exporter, installations["a"], template_2026(tmp_path), 2026)
    disclosure_version_confirm(version=version, user=exporter)
    version.refresh_from_db()
    client = Client()
    client.force_login(exporter)
    page = client.get(f"/disclosures/{version.disclosure_id}/")
    url = f"/disclosures/{version.disclosure_id}/versions/{version.number}/template.xlsx"
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200, response.content[:200]
    assert "attachment" in response["Content-Disposition"]
    path = tmp_path / "download.xlsx"
    path.write_bytes(response.content)
    rows = summary_products(recalculate(path, tmp_path / "out"))
    estimates = {
        e.cn_code: e
        for e in Estimate.objects.filter(pk__in=[x["id"] for x in version.engine["estimates"]])
    }
    assert sorted(r["cn_code"] for r in rows) == sorted(estimates)
    for row in rows:
        estimate = estimates[row["cn_code"]]
        assert row["see_direct_t_per_t"] == pytest.approx(estimate.see_direct_t_per_t, rel=1e-9)
        assert row["see_indirect_t_per_t"] == pytest.approx(estimate.see_indirect_t_per_t, rel=1e-9)
        assert row["see_direct_t_per_t"] == pytest.approx(SEE_DIRECT, rel=1e-9)
        assert row["see_indirect_t_per_t"] == pytest.approx(SEE_INDIRECT, rel=1e-9)
    # another exporter cannot download it
    other = Client()
    other.force_login(world["exporter_b"])
    assert other.get(url).status_code == 404
