"""Audit-log fixtures: a fixed signing key and an auditor's API client with a real token."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from tests.apps.audit.helpers import TEST_SEED, token_for


@pytest.fixture(autouse=True)
def signing_key_env(monkeypatch):
    """Sign with a fixed test key, so no key file is written into var/."""
    monkeypatch.setenv("CM_AUDIT_SIGNING_KEY", base64.b64encode(TEST_SEED).decode())


@pytest.fixture
def api(postgres, users) -> APIClient:
    """An auditor's API client (getting its token appends one event to the log)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token_for("auditor"))
    return client
