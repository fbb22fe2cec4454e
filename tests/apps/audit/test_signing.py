"""The checkpoint key: from CM_AUDIT_SIGNING_KEY, or generated once into the var dir."""

from __future__ import annotations

import base64
import logging
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.audit.signing import KEY_ENV, public_key_bytes, signing_key
from tests.apps.audit.helpers import PUBLIC_KEY


def test_the_key_comes_from_the_environment():
    assert public_key_bytes(signing_key()) == PUBLIC_KEY


def test_unset_a_key_is_generated_once_into_a_private_file(monkeypatch, settings, tmp_path, caplog):
    monkeypatch.delenv(KEY_ENV)
    settings.VAR_DIR = tmp_path / "var"
    with caplog.at_level(logging.WARNING, logger="apps.audit.signing"):
        first = public_key_bytes(signing_key())
    path = tmp_path / "var" / "audit_signing_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    assert f"generated a new Ed25519 audit signing key in {path}" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="apps.audit.signing"):
        assert public_key_bytes(signing_key()) == first
    assert caplog.text == ""
    assert [p.name for p in path.parent.iterdir()] == ["audit_signing_key"]


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_fails_loudly(monkeypatch, value):
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(ImproperlyConfigured, match=KEY_ENV):
        signing_key()
