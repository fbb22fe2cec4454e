"""Disclosures go through the platform: the ``ingest disclosure`` command (docs/interfaces.md) and
the portal's service store every value with its evidence, and say which extractor ran."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from apps.disclosures.models import DisclosureVersion, ExtractedValue, Status
from apps.evidence.models import IngestRun
from tests.apps.disclosures.conftest import JRC, JRC_EXCERPT, TEMPLATE_CSV, TEMPLATE_XLSX, upload
from tests.ingest.test_disclosure_rules import expected_cells

pytestmark = pytest.mark.services


def ingest_disclosure(path, *args: str) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command(
            "ingest", "disclosure", str(path), "--json", *args, stdout=out, stderr=io.StringIO()
        )
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def test_the_command_reads_our_template_and_prints_each_value_with_its_line(postgres_tx):
    code, summary = ingest_disclosure(TEMPLATE_CSV, "--exporter", "Example Steel")
    assert code == 0
    assert summary["extractor"] == "template"
    assert summary["accepted"] == 37 and summary["rejected"] == 0
    # fixtures/disclosures/template_example.csv line 9: "goods,1,production,1.2,Mt" = 1.2e6 t
    assert {
        "field": "goods[1].production",
        "value": 1200000.0,
        "unit": "t",
        "line": 9,
        "quote": "1.2 Mt",
    } in summary["values"]
    # line 23: 710 kg CO2/MWh = 0.71 t/MWh
    (ef,) = [v for v in summary["values"] if v["field"] == "electricity[grid].ef"]
    assert ef["value"] == pytest.approx(0.71) and ef["unit"] == "t/MWh"
    version = DisclosureVersion.objects.get()
    # The installation and period come from the file when the command does not say.
    assert version.disclosure.installation.identifier == "IN-MH-0042"
    assert version.disclosure.period_year == 2025
    assert version.disclosure.organisation.name == "Example Steel"
    assert version.status == Status.REVIEW and version.trace.extractor == "template"


def test_an_xlsx_gives_sheet_and_cell_and_the_same_file_again_is_no_new_version(postgres_tx):
    code, summary = ingest_disclosure(TEMPLATE_XLSX, "--exporter", "Example Steel")
    assert code == 0
    (production,) = [v for v in summary["values"] if v["field"] == "goods[1].production"]
    assert production["cell"] == "Disclosure!D9" and production["value"] == 1200000.0
    code, again = ingest_disclosure(TEMPLATE_XLSX, "--exporter", "Example Steel")
    assert DisclosureVersion.objects.count() == 1
    assert again["accepted"] == 0 and again["duplicates"] == 37


def test_the_jrc_report_tables_a3_and_a4_come_through_with_page_34(postgres_tx, settings):
    """fixtures/disclosures/JRC129297_01.pdf, PDF page 34, Tables A3 and A4 (the ground
    truth of tests/ingest/test_disclosure_rules.py): all 188 cells, through the command,
    with no LLM endpoint configured."""
    settings.LLM_BASE_URL = None
    code, summary = ingest_disclosure(
        JRC, "--exporter", "Example Steel", "--installation", "IN-MH-0042", "--period", "2019"
    )
    assert code == 0, summary
    assert summary["extractor"] == "rules"
    found = {}
    for v in summary["values"]:
        parts = v["field"].split(" | ")
        if parts[0] in ("Table A3", "Table A4"):
            assert v["page"] == 34
            assert str(v["value"]) in v["quote"] or f"{v['value']:.2f}" in v["quote"]
            key = (parts[0][-2:], parts[1], parts[2] if len(parts) == 4 else "", parts[-1])
            found[key] = v["value"]
    assert found == expected_cells()
    version = DisclosureVersion.objects.get()
    assert "rule-based extractor ran" in version.trace.note
    assert "LLM_BASE_URL unset" in version.trace.note
    # PDF page 34, Table A4: India, integrated route, Total = 3.83 (worked example).
    india = ExtractedValue.objects.get(field="Table A4 | India | Integrated route | Total")
    assert india.value == 3.83 and india.page == 34 and india.quote.startswith("India")
    x0, top, x1, bottom = india.bbox  # the box of "3.83" on the page, in PDF points
    assert 0 < x0 < x1 <= 595.3 and 0 < top < bottom <= 842
    assert any(p["number"] == 34 and "Table A4" in p["text"] for p in version.pages)


def test_a_pdf_without_an_installation_fails_once_with_the_reason(postgres_tx):
    code, summary = ingest_disclosure(JRC_EXCERPT, "--exporter", "Example Steel")
    assert code == 1
    assert "--installation" in summary["failure"]
    run = IngestRun.objects.get()
    assert run.status == "failed" and run.attempts == 1


def test_the_portal_upload_runs_the_rule_based_extractor_without_an_endpoint(
    postgres_tx, users, installations, settings
):
    settings.LLM_BASE_URL = None
    version = upload(users["exporter_a"], installations["a"], JRC_EXCERPT, 2019)
    assert version.status == Status.REVIEW and version.progress == 100
    assert version.extractor == "rules" and version.kind == "pdf"
    assert version.disclosure.status == Status.REVIEW
    # Page 2 of the excerpt is PDF page 34 of the report: Table A3, EU, Total = 1.15.
    eu = version.values.get(field="Table A3 | EU | Total")
    assert (eu.value, eu.page, eu.quote) == (1.15, 2, "EU 1.04 1.03 0.11 1.15")
    assert version.values.filter(page=2).count() == 188
    # "Belarus 0.07 0.07 0.26 0.33": each 0.07 has its own box, left to right.
    first, second = (
        version.values.get(field=f"Table A3 | Belarus | {column}")
        for column in ("Scope 1 & Upstream", "Scope 1")
    )
    assert first.value == second.value == 0.07
    assert first.bbox[2] < second.bbox[0]
    assert version.ingest_run.status == "done" and version.ingest_run.accepted == 188


def test_a_template_naming_another_installation_is_kept_with_a_warning(
    postgres_tx, users, installations
):
    version = upload(users["exporter_b"], installations["b"], TEMPLATE_CSV, 2025)
    assert version.status == Status.REVIEW and version.values.count() == 37
    (warning,) = version.ingest_run.errors
    assert warning["field"] == "installation.id" and warning["value"] == "IN-MH-0042"
    assert "TR-B-0001" in warning["reason"]
    assert version.ingest_run.rejected == 0


def test_the_commissions_cement_template_is_recomputed_through_the_command(postgres_tx):
    """fixtures/cbam/official/template_examples/1_CBAM_SEE_V2.1_Example_Cement.xlsx: the
    summary gives, per product, the engine's SEE beside the template's (docs/interfaces.md
    ``products``): 1 037 310 / 1 321 052.63 = 0.785 214 7 tCO2e/t, as the template states."""
    from tests.ingest.test_template_full import CEMENT

    code, summary = ingest_disclosure(
        CEMENT, "--exporter", "Example Cement", "--installation", "TR-CEM-1", "--period", "2023"
    )
    assert code == 0, summary
    assert summary["extractor"] == "cbam_template"
    (product,) = summary["products"]
    assert product["cn_code"] == "25232900" and product["agrees"] is True
    assert product["see_direct_t_per_t"] == pytest.approx(0.7852147, abs=1e-7)
    assert product["template_see_direct_t_per_t"] == pytest.approx(0.7852147, abs=1e-7)
    assert product["see_indirect_t_per_t"] == pytest.approx(0.12224275, abs=1e-8)
    version = DisclosureVersion.objects.get()
    assert version.trace.recompute["template"]["version"] == "2.1"
    assert version.trace.flags == [] and version.errors == []
    # officials see the recomputation on the version's review page
    from django.test import Client

    from apps.accounts.models import User

    official = User.objects.create_user("o-recompute", password="x", role=User.Role.OFFICIAL)
    client = Client()
    client.force_login(official)
    page = client.get(f"/disclosures/{version.disclosure_id}/versions/{version.number}/review/")
    text = page.content.decode()
    assert page.status_code == 200 and "The template recomputed by the platform" in text
    assert "25232900" in text and "0.785215" in text


def test_a_template_disagreeing_with_its_inputs_is_flagged_to_the_exporter_and_officials(
    postgres_tx, tmp_path
):
    """The cement example with its coal EF changed 95 → 100 tCO2/TJ (stated emissions left
    at 209 000 t; the inputs give 88 000 × 25 × 100 / 1000 = 220 000) and its SEE (direct)
    stated as 0.9 (the inputs give 0.785 214 7): two flags, each with both figures and the
    first step where they part (the coal stream), on the review page of the exporter whose
    disclosure it is and of an official."""
    from django.test import Client

    from apps.accounts.models import Organisation, User
    from tests.ingest.test_template_full import CEMENT, _edited

    path = _edited(tmp_path, CEMENT, {("B_EmInst", "J18"): 100, ("Summary_Products", "I10"): 0.9})
    code, summary = ingest_disclosure(
        path, "--exporter", "Example Cement", "--installation", "TR-CEM-1", "--period", "2023"
    )
    assert code == 0, summary
    (product,) = summary["products"]
    assert product["agrees"] is False
    version = DisclosureVersion.objects.get()
    stream, see = version.trace.flags
    assert (stream["template_t"], stream["platform_t"]) == (209_000, 220_000)
    assert (see["template_t_per_t"], round(see["platform_t_per_t"], 7)) == (0.9, 0.7852147)
    assert see["step"] == stream["step"] and "B_EmInst!J18" in stream["step"]
    assert [w["field"] for w in version.errors] == [
        "B_EmInst!AU18.source_stream",
        "25232900.see_direct",
    ]
    exporter = User.objects.create_user(
        "e-cement",
        password="x",
        role=User.Role.EXPORTER,
        organisation=Organisation.objects.get(name="Example Cement"),
    )
    official = User.objects.create_user("o-flags", password="x", role=User.Role.OFFICIAL)
    url = f"/disclosures/{version.disclosure_id}/versions/{version.number}/review/"
    for user in (exporter, official):
        client = Client()
        client.force_login(user)
        page = client.get(url)
        text = page.content.decode()
        assert page.status_code == 200, user.username
        assert "source stream &#x27;Coal&#x27;; its own inputs give 220000.000000" in text
        assert "states SEE (direct) 0.9 tCO2e/t for CN 25232900; its own inputs give" in text
        assert "first step where they part: B_EmInst: source stream" in text


def test_a_template_of_another_version_fails_the_run_and_stores_nothing(postgres_tx, tmp_path):
    import shutil
    import warnings

    from openpyxl import load_workbook

    from tests.ingest.test_template_full import CEMENT

    path = tmp_path / "v3.xlsx"
    shutil.copy(CEMENT, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, data_only=True)
    workbook["0_Versions"]["E39"] = "3.0"
    workbook.save(path)
    code, summary = ingest_disclosure(
        path, "--exporter", "Example Cement", "--installation", "TR-CEM-1", "--period", "2023"
    )
    assert code == 1
    assert "template version 3.0 is not supported" in summary["failure"]
    assert "2.1, 2.1.1" in summary["failure"]
    assert ExtractedValue.objects.count() == 0
