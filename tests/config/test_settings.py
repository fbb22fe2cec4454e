"""Settings helpers fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_url

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_boolean_is_refused(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")


def test_a_bad_integer_is_refused(monkeypatch):
    monkeypatch.setenv("CM_X", "12a")
    with pytest.raises(ImproperlyConfigured, match="CM_X"):
        env_int("CM_X", 1)


def test_a_database_url_of_an_unsupported_kind_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/x")
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        env_url("DATABASE_URL", schemes=("postgres", "sqlite"))


def test_unset_values_give_the_embedded_default(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert env_url("CELERY_BROKER_URL", schemes=("redis",)) == ""
    assert env_bool("CM_UNSET_FLAG", True) is True


def _settings_in_a_child(env: dict[str, str], code: str, var: Path) -> subprocess.CompletedProcess:
    """config.settings imported afresh with ``env`` (the settings read it once, at import)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "CM_"))}
    child_env.update(env, CM_VAR_DIR=str(var))
    return subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; {code}"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_replica_url_adds_the_replica_alias_mirroring_the_primary(tmp_path):
    done = _settings_in_a_child(
        {
            "DATABASE_URL": "postgres://app@db.example:5432/cm",
            "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5433/cm",
            "CM_REPLICA_CONNECT_TIMEOUT_S": "3",
        },
        "r = s.DATABASES['replica']; "
        "print(r['HOST'], r['PORT'], r['OPTIONS'], r['TEST'], s.DATABASE_ROUTERS)",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == (
        "replica.example 5433 {'connect_timeout': 3} {'MIRROR': 'default'} "
        "['apps.common.replica.ReplicaRouter']"
    )


def test_a_replica_without_a_postgresql_primary_is_refused(tmp_path):
    done = _settings_in_a_child(
        {"DATABASE_REPLICA_URL": "postgres://reader@replica.example/cm"}, "pass", tmp_path
    )
    assert done.returncode != 0
    assert "DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL" in done.stderr
