"""Authentication under attack: brute-force lockout that cannot lock a user out from
elsewhere, and production settings that pass Django's deployment checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.apps.helpers import ROOT

LIMIT = 5  # settings.AXES_FAILURE_LIMIT


def _login(client, username: str, password: str, address: str):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _token(client, username: str, password: str, address: str):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_the_login_form_locks_a_username_at_one_address_after_repeated_failures(client, users):
    for _ in range(LIMIT - 1):
        assert _login(client, "official", "wrong", "203.0.113.7").status_code == 200
    assert _login(client, "official", "wrong", "203.0.113.7").status_code == 429  # the limit
    locked = _login(client, "official", "pw-official", "203.0.113.7")  # even the right one
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    # The same user from their own address is not locked out by the attacker.
    ok = _login(client, "official", "pw-official", "198.51.100.20")
    assert ok.status_code == 302


@pytest.mark.django_db
def test_the_token_endpoint_is_guarded_by_the_same_lockout(client, users):
    for _ in range(LIMIT - 1):
        assert _token(client, "auditor", "wrong", "203.0.113.9").status_code == 401
    assert _token(client, "auditor", "wrong", "203.0.113.9").status_code == 429  # the limit
    refused = _token(client, "auditor", "pw-auditor", "203.0.113.9")
    # Locked out: 429 and the time to wait, not "Invalid username or password" (issue #16).
    assert refused.status_code == 429
    assert "token" not in refused.json() and "15 minutes" in refused.json()["detail"]
    assert refused["Retry-After"] == "900"
    assert _token(client, "auditor", "pw-auditor", "198.51.100.21").status_code == 201


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(client, users):
    for _ in range(LIMIT - 1):
        _login(client, "auditor", "wrong", "203.0.113.5")
    assert _login(client, "auditor", "pw-auditor", "203.0.113.5").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        _login(client, "auditor", "wrong", "203.0.113.5")
    assert _login(client, "auditor", "pw-auditor", "203.0.113.5").status_code == 302


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(
        CM_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="carbon-manifest.example.org",
        CM_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(CM_PRODUCTION="1", CM_VAR_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
