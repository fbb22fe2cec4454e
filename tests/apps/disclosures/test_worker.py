"""A disclosure goes through the queue: the command stores the file, a real Celery worker
on Redis reads it (the PDF in its own limited child process) and stores the values."""

from __future__ import annotations

import pytest

from apps.disclosures.models import DisclosureVersion
from tests.apps.disclosures.conftest import JRC_EXCERPT
from tests.apps.test_worker import manage

pytestmark = [pytest.mark.services, pytest.mark.worker]


def test_a_pdf_disclosure_is_read_by_a_real_worker(celery_worker_process, service_env):
    env = {k: v for k, v in service_env.items() if k != "LLM_BASE_URL"}
    summary = manage(
        env,
        "ingest",
        "disclosure",
        str(JRC_EXCERPT),
        "--exporter",
        "Queue Steel",
        "--installation",
        "XX-Q-1",
        "--period",
        "2019",
        "--json",
        "--timeout",
        "240",
    )
    assert summary["extractor"] == "rules" and summary["accepted"] == 188
    # PDF page 34 of JRC129297 (page 2 of the excerpt), Table A3: India, Total = 2.97.
    assert {
        "field": "Table A3 | India | Total",
        "value": 2.97,
        "unit": "t/t",
        "page": 2,
        "quote": "India 2.70 2.86 0.28 2.97",
    } in summary["values"]
    version = DisclosureVersion.objects.get()
    assert version.status == "review" and version.disclosure.installation.identifier == "XX-Q-1"
    log = celery_worker_process.log.read_text()
    assert "evidence.ingest_run_execute" in log and "succeeded" in log
