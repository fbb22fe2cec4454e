"""Helpers for the platform tests: run the public `ingest` command and read its JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS_CSV = ROOT / "fixtures" / "cbam" / "cbam_default_values_IR2025-2621_by_country.csv"

CUSTOMS_HEADER = (
    "declaration_id,line,acceptance_date,cn_code,origin,exporter,importer,net_mass_kg,"
    "statistical_value_eur,procedure,installation_id"
)


def ingest_json(source: str, path: Path) -> dict:
    out = io.StringIO()
    call_command("ingest", source, str(path), "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def write_customs(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([CUSTOMS_HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def make_users() -> dict:
    """One user of each role, and exporters A and B (passwords "pw-<username>"): the
    ``users`` fixture of tests/conftest.py, and worlds built once per module."""
    from apps.accounts.models import Organisation, User

    org_a = Organisation.objects.create(name="Exporter A", key="exporter a", kind="exporter")
    org_b = Organisation.objects.create(name="Exporter B", key="exporter b", kind="exporter")

    def make(username, role, org=None, **extra):
        user = User(username=username, role=role, organisation=org, **extra)
        user.set_password("pw-" + username)
        user.save()
        return user

    return {
        "official": make("official", User.Role.OFFICIAL),
        "auditor": make("auditor", User.Role.AUDITOR),
        "exporter_a": make("exporter_a", User.Role.EXPORTER, org_a),
        "exporter_b": make("exporter_b", User.Role.EXPORTER, org_b),
        "admin": make("admin", User.Role.ADMIN, is_staff=True, is_superuser=True),
        "org_a": org_a,
        "org_b": org_b,
    }
