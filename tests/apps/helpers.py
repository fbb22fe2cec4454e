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


_PASSWORD_HASHES: dict[tuple[str, tuple[str, ...]], str] = {}


def password_hash(raw: str) -> str:
    """``make_password(raw)`` with the configured hasher, computed once per process: each
    hash costs the hasher's full work factor (PBKDF2, 1,000,000 iterations), and the five
    users of every test were hashed anew. The stored value is a real hash of ``raw``, so
    logging in checks it exactly as before (docs/testing.md)."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    key = (raw, tuple(settings.PASSWORD_HASHERS))
    if key not in _PASSWORD_HASHES:
        _PASSWORD_HASHES[key] = make_password(raw)
    return _PASSWORD_HASHES[key]


def make_users() -> dict:
    """One user of each role, and exporters A and B (passwords "pw-<username>"): the
    ``users`` fixture of tests/conftest.py, and worlds built once per module."""
    from apps.accounts.models import Organisation, User

    org_a = Organisation.objects.create(name="Exporter A", key="exporter a", kind="exporter")
    org_b = Organisation.objects.create(name="Exporter B", key="exporter b", kind="exporter")

    def make(username, role, org=None, **extra):
        user = User(username=username, role=role, organisation=org, **extra)
        # What set_password() does, with the hash computed once: save() then calls the
        # password validators' password_changed() as before.
        user.password, user._password = password_hash("pw-" + username), "pw-" + username
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
