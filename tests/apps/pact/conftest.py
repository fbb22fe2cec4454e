"""API fixtures: a fixed audit signing key (no key file written into var/)."""

from __future__ import annotations

import base64

import pytest

from tests.apps.audit.helpers import TEST_SEED


@pytest.fixture(autouse=True)
def signing_key_env(monkeypatch):
    monkeypatch.setenv("CM_AUDIT_SIGNING_KEY", base64.b64encode(TEST_SEED).decode())
