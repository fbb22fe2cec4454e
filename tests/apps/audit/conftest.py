"""Audit-log fixtures: a fixed signing key and an auditor's API client with a real token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.apps.audit.helpers import signing_key_env, token_for  # noqa: F401  (autouse)


@pytest.fixture
def api(postgres, users) -> APIClient:
    """An auditor's API client (getting its token appends one event to the log)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token_for("auditor"))
    return client
