"""Settings helpers fail loudly on bad values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_url


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
