"""Fixtures of the disclosure tests: installations of exporters A and B, and uploads
through the same service the portal uses (tasks run in-process, on commit)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "disclosures"
TEMPLATE_CSV = FIXTURES / "template_example.csv"
TEMPLATE_XLSX = FIXTURES / "template_example.xlsx"
JRC = FIXTURES / "JRC129297_01.pdf"
JRC_EXCERPT = FIXTURES / "JRC129297_01_excerpt.pdf"  # title page + PDF page 34 (now page 2)


@pytest.fixture
def installations(users):
    from apps.facilities.models import Installation

    a = Installation.objects.create(
        identifier="IN-MH-0042",
        name="Example Steel Works Unit 2",
        organisation=users["org_a"],
        country="IN",
    )
    b = Installation.objects.create(
        identifier="TR-B-0001", name="B Works", organisation=users["org_b"], country="TR"
    )
    return {"a": a, "b": b}


def template_2026(tmp_path: Path, **replace: str) -> Path:
    """The template example with its period moved to 2026 (the demo's shipments' year) and
    any text replaced (``{"410,kt": "500,kt"}``)."""
    text = TEMPLATE_CSV.read_text(encoding="utf-8").replace("2025-", "2026-")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"disclosure-{len(replace)}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def upload(user, installation, path: Path, period: int, cn_code: str = ""):
    """Store the file and submit it as the portal does; the extraction runs on commit."""
    from django.db import transaction

    from apps.disclosures.services import disclosure_submit
    from apps.evidence.services import evidence_store

    with path.open("rb") as stream, transaction.atomic():
        evidence = evidence_store(stream=stream, name=path.name)
        version = disclosure_submit(
            user=user,
            installation=installation,
            period_year=period,
            evidence=evidence,
            original_name=path.name,
            cn_code=cn_code,
        )
    version.refresh_from_db()
    return version
