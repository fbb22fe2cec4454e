"""Worlds built once per module: data committed once, read by many ``django_db`` tests.

A test module (or a folder's conftest) declares its world with :func:`module_world`::

    @module_world
    def pages_world(tmp: Path) -> dict:
        ingest_json("defaults", ...)  # committed, as in a transactional test
        return {**make_users(), "steel": Shipment.objects.get(...)}

    @pytest.fixture
    def world(pages_world, db, settings):
        return pages_world.use(settings)

``build(tmp)`` runs once per module, outside any transaction (every write commits, so the
``ingest`` command's on-commit task runs as in production), with ``VAR_DIR``,
``MEDIA_ROOT`` and ``EVIDENCE_ROOT`` in ``tmp``. Each test that asks for ``world`` then runs
inside its own transaction (``db``), rolled back at its end, with those paths set again and
its own deep copy of what ``build`` returned: what a test writes to the database never
reaches the next test. When the module's last test has run the database is emptied and the
data migrations loaded (the CN catalogue) are restored, exactly as after a transactional
test, so the next module finds the database as it was.

Tests that need committed transactions themselves (a real worker, the live server, the
``ingest`` command inside the test) keep ``postgres_tx`` and a world of their own.

Every test that reads a module world is put in the xdist group of its module
(``pytest_collection_modifyitems`` in ``tests/conftest.py``; ``./run test`` uses
``--dist loadgroup``), so each world is built once per run, on one worker. See
``docs/testing.md``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# Names of the fixtures made by module_world: their tests are grouped per module under xdist.
MODULE_WORLD_FIXTURES: set[str] = set()


@dataclass
class ModuleWorld:
    data: dict
    var_dir: Path
    media_root: Path

    def use(self, settings, **overrides) -> dict:
        """The world for one test: the build's paths in ``settings`` and a deep copy of its
        data (model instances included), so a test's changes stay its own."""
        settings.VAR_DIR = self.var_dir
        settings.MEDIA_ROOT = self.media_root
        settings.EVIDENCE_ROOT = self.media_root / "evidence"
        for name, value in overrides.items():
            setattr(settings, name, value)
        return copy.deepcopy(self.data)


def empty_database() -> None:
    """What Django does after a transactional test with serialized rollback: flush every
    table, then load back the rows the migrations wrote (serialized at database setup)."""
    from django.core.management import call_command
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        database=connection.alias,
        inhibit_post_migrate=contents is not None,
    )
    if contents is not None:
        connection.creation.deserialize_db_from_string(contents)


def module_world(build: Callable[[Path], dict] | None = None, *, env: dict | None = None):
    """A module-scoped fixture, named after ``build``, yielding a :class:`ModuleWorld`.

    ``env``: environment variables set while the world is built (e.g. the audit signing
    key a folder's autouse fixture sets for its tests)."""

    def decorate(build: Callable[[Path], dict]):
        name = build.__name__

        @pytest.fixture(scope="module", name=name)
        def fixture(django_db_setup, django_db_blocker, tmp_path_factory):
            import os

            from django.core.cache import cache
            from django.db import connection
            from django.test import override_settings

            from tests.conftest import service_missing

            tmp = tmp_path_factory.mktemp(name)
            var_dir, media_root = tmp / "var", tmp / "media"
            var_dir.mkdir()
            saved_env = {key: os.environ.get(key) for key in env or {}}
            with django_db_blocker.unblock():
                if connection.vendor != "postgresql":
                    service_missing(f"needs PostgreSQL, DATABASE_URL gives {connection.vendor}")
                if not hasattr(connection, "_test_serialized_contents"):
                    # No transactional test in this session asked for it: keep the migrated
                    # rows now, to restore them after the world.
                    connection._test_serialized_contents = (
                        connection.creation.serialize_db_to_string()
                    )
                os.environ.update(env or {})
                cache.clear()
                try:
                    with override_settings(
                        VAR_DIR=var_dir,
                        MEDIA_ROOT=media_root,
                        EVIDENCE_ROOT=media_root / "evidence",
                    ):
                        data = build(tmp)
                except BaseException:
                    empty_database()
                    raise
                finally:
                    for key, value in saved_env.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
            try:
                yield ModuleWorld(data=data, var_dir=var_dir, media_root=media_root)
            finally:
                with django_db_blocker.unblock():
                    empty_database()
                cache.clear()

        MODULE_WORLD_FIXTURES.add(name)
        return fixture

    return decorate(build) if build is not None else decorate


def group_module_world_tests(items: list[pytest.Item], *, mark: bool = True) -> None:
    """Put each test that reads a module world in the xdist group of its module (for
    ``--dist loadgroup``): the world is then built once, on the worker that runs the group."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if MODULE_WORLD_FIXTURES.intersection(fixtures):
            if "transactional_db" in fixtures or "live_server" in fixtures:
                # Its flush would empty the committed world under the module's other tests.
                raise pytest.UsageError(
                    f"{item.nodeid}: a transactional test cannot read a module world; "
                    "give it a world of its own (docs/testing.md)"
                )
            module = item.nodeid.split("::", 1)[0]
            if mark:  # the marker exists when pytest-xdist is loaded
                item.add_marker(pytest.mark.xdist_group(module))
        elif mark and _reads_a_module_fixture(item):
            # A module-scoped fixture (a workbook or PDF read once, a hostile file set) is
            # made once per worker that runs one of its tests: one worker runs them all.
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


def _reads_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None or any(m.args for m in item.iter_markers("xdist_group")):
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())
