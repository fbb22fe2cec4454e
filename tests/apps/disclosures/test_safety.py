"""Hostile files, generated here: a ZIP bomb dressed as a workbook, entity expansion, HTML
named .xlsx, a PDF named .csv, an oversized upload. Each is typed by its content, fails
once with the reason, and is not retried."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.disclosures.models import DisclosureVersion, Status
from apps.evidence.services import ingest_run_execute
from tests.apps.disclosures.conftest import upload
from tests.ingest.test_disclosure_pdf_text import minimal_pdf
from tests.ingest.test_disclosure_safety import (
    BILLION_LAUGHS,
    TEMPLATE_ROWS,
    rewrite,
    workbook_bytes,
)

pytestmark = pytest.mark.services


def zip_bomb(path):
    """A workbook whose sheet inflates to 300 MB of zeros (about 300 kB on disk)."""
    base = zipfile.ZipFile(io.BytesIO(workbook_bytes(TEMPLATE_ROWS)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in base.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, base.read(info))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(300):
                sheet.write(b"\0" * 2**20)
    return path


def test_a_zip_bomb_fails_once_with_the_reason_and_is_not_retried(
    postgres_tx, users, installations, tmp_path
):
    path = zip_bomb(tmp_path / "disclosure.xlsx")
    assert path.stat().st_size < 2 * 2**20
    version = upload(users["exporter_a"], installations["a"], path, 2026)
    assert version.status == Status.FAILED
    assert "ZIP bomb" in version.failure or "declares" in version.failure
    run = version.ingest_run
    assert run.status == "failed" and run.attempts == 1 and run.failure
    # A second delivery of the task finds the run failed and does nothing.
    ingest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.attempts == 1
    assert version.values.count() == 0
    assert version.disclosure.status == Status.FAILED


def test_entity_expansion_in_a_workbook_is_refused(postgres_tx, users, installations, tmp_path):
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(
        rewrite(workbook_bytes(TEMPLATE_ROWS), {"xl/sharedStrings.xml": BILLION_LAUGHS})
    )
    version = upload(users["exporter_a"], installations["a"], path, 2026)
    assert version.status == Status.FAILED
    assert "DTD or entities" in version.failure


def test_html_named_xlsx_is_refused_by_its_content(postgres_tx, users, installations, tmp_path):
    path = tmp_path / "disclosure.xlsx"
    path.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    version = upload(users["exporter_a"], installations["a"], path, 2026)
    assert version.status == Status.FAILED
    assert "HTML or XML" in version.failure


def test_a_pdf_named_csv_is_read_as_a_pdf(postgres_tx, users, installations, settings, tmp_path):
    settings.LLM_BASE_URL = None
    path = tmp_path / "figures.csv"
    path.write_bytes(minimal_pdf([["Crude steel production: 1,250 kt"]]))
    version = upload(users["exporter_a"], installations["a"], path, 2026)
    assert version.kind == "pdf" and version.extractor == "rules"
    assert list(version.values.values_list("field", "value", "unit", "page")) == [
        ("Crude steel production", 1250.0, "kt", 1)
    ]


def test_a_broken_pdf_fails_with_the_parsers_reason(postgres_tx, users, installations, tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"x" * 100)
    version = upload(users["exporter_a"], installations["a"], path, 2026)
    assert version.status == Status.FAILED
    assert "cannot read the PDF" in version.failure
    assert version.ingest_run.attempts == 1


def test_the_portal_refuses_a_file_over_the_cap(
    postgres_tx, users, installations, client, settings
):
    settings.CM_MAX_UPLOAD_BYTES = 2048
    client.force_login(users["exporter_a"])
    big = SimpleUploadedFile("big.csv", b"section,item,field,value,unit\n" + b"x" * 4096)
    response = client.post(
        "/disclosures/upload/",
        {"installation": installations["a"].pk, "period": 2026, "file": big},
    )
    assert response.status_code == 200
    assert b"larger than 2,048 bytes" in response.content
    assert DisclosureVersion.objects.count() == 0
