"""Fixtures of the security tests: the authorisation matrix's world, built once per module
inside a transaction that is rolled back afterwards (nothing leaks into other tests)."""

from __future__ import annotations

import pytest

# The matrix logs in hundreds of times: a fast hash (for these test users only) keeps it
# quick; what is tested is who may do what, not the password hash.
FAST = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection, transaction
    from django.test import override_settings

    from tests.conftest import service_missing
    from tests.security.matrix_world import build_world

    tmp = tmp_path_factory.mktemp("matrix-world")
    paths = {"VAR_DIR": tmp / "var", "MEDIA_ROOT": tmp / "media"}
    paths["VAR_DIR"].mkdir()
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            service_missing(f"needs PostgreSQL, DATABASE_URL gives {connection.vendor}")
        with (
            override_settings(
                **paths, EVIDENCE_ROOT=paths["MEDIA_ROOT"] / "evidence", PASSWORD_HASHERS=FAST
            ),
            transaction.atomic(),
        ):
            world = build_world(tmp)
            world.var_dir, world.media_root = paths["VAR_DIR"], paths["MEDIA_ROOT"]
            yield world
            transaction.set_rollback(True)
