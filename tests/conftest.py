"""Shared fixtures: services (PostgreSQL, Redis, a real Celery worker) and demo users.

A test that needs a service asks for its fixture. When the service is absent the test is
skipped, unless CM_REQUIRE_SERVICES=1 (CI sets it), in which case it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db.backends.signals import connection_created

pytest_plugins = ["tests.ordering"]  # the order tests reach the xdist workers

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
REQUIRE_SERVICES = os.environ.get("CM_REQUIRE_SERVICES", "") in {"1", "true", "yes"}
REDIS_DEFAULT = "redis://127.0.0.1:6379/1"


def xdist_worker_index() -> int:
    """0 when serial, else N of pytest-xdist's worker ``gwN``: each worker gets its own Redis
    DB and var dir (its test database is suffixed ``_gwN`` by pytest-django)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _allow_reset_of_test_database(sender, connection, **kwargs) -> None:
    """Let Django's test machinery empty the audit tables of the *test* database between
    tests: the append-only trigger (audit migration 0003) refuses TRUNCATE unless the
    session sets ``carbon_manifest.audit_reset``. Only the tests' connections do."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET carbon_manifest.audit_reset = 'on'")


connection_created.connect(_allow_reset_of_test_database, dispatch_uid="audit-reset")


_PARSED_CONTENTS: dict[str, list] = {}


def _restore_serialized_rows(self, data: str) -> None:
    """``deserialize_db_from_string`` of the test database, in bulk: after every
    transactional test (``postgres_tx``) and every module world, the rows the migrations
    wrote (the CN catalogue, content types, permissions: ~800) are loaded back. Django saves
    them one by one (an UPDATE then an INSERT each: 5-16 s a test on a loaded 2-core
    machine); here the JSON is parsed once and each table gets one INSERT … ON CONFLICT DO
    UPDATE (0.08 s). Same rows, same primary keys, in the same order, in one transaction,
    constraints checked at the end as Django does (docs/testing.md)."""
    import json

    from django.core import serializers
    from django.db import transaction

    alias = self.connection.alias
    rows = _PARSED_CONTENTS.get(data)
    if rows is None:
        rows = _PARSED_CONTENTS[data] = json.loads(data)
    table_names: set[str] = set()
    batch: list = []

    def flush_batch() -> None:
        # INSERT … ON CONFLICT (pk) DO UPDATE: like Django's save() of a row with its primary
        # key (an UPDATE, else an INSERT), the rows may already be there (the first
        # transactional test of a session restores onto the migrated database).
        if batch:
            meta = type(batch[0])._meta
            fields = [f.name for f in meta.concrete_fields if not f.primary_key]
            manager = type(batch[0])._base_manager.using(alias)
            if fields:
                manager.bulk_create(
                    batch, update_conflicts=True, unique_fields=[meta.pk.name], update_fields=fields
                )
            else:
                manager.bulk_create(batch, ignore_conflicts=True)
            batch.clear()

    with transaction.atomic(using=alias), self.connection.constraint_checks_disabled():
        for obj in serializers.deserialize("python", rows, using=alias):
            model = type(obj.object)
            table_names.add(model._meta.db_table)
            if obj.m2m_data or obj.deferred_fields or model._meta.parents:
                flush_batch()
                obj.save()  # what bulk_create cannot do: Django's own way
                continue
            if batch and type(batch[0]) is not model:
                flush_batch()
            batch.append(obj.object)
        flush_batch()
        self.connection.check_constraints(table_names=table_names)


def _bulk_restore_on_postgresql() -> None:
    try:
        from django.db.backends.postgresql.creation import DatabaseCreation
    except ImportError:  # no PostgreSQL driver: the service tests skip (or fail) anyway
        return
    DatabaseCreation.deserialize_db_from_string = _restore_serialized_rows


_bulk_restore_on_postgresql()


def _migrations_fingerprint() -> str:
    """SHA-256 of every migration Django would run (name and file bytes, the project's and
    the installed packages'): a template database is reused only for the same migrations."""
    import hashlib
    import inspect

    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        digest.update(repr(key).encode())
        source = inspect.getsourcefile(type(loader.disk_migrations[key]))
        digest.update(Path(source).read_bytes() if source else b"")
    return digest.hexdigest()


#: This session's migrated template database: name, advisory lock, how to connect.
_TEMPLATE: dict = {}


def database_from_template(dbname: str) -> bool:
    """Create ``dbname`` as a copy of the migrated template database this session's test
    database was copied from (the same migrations, as ``manage.py migrate`` leaves them);
    False when there is none (SQLite, ``--reuse-db``, ``CM_TEST_DB_TEMPLATE=0``)."""
    if not _TEMPLATE:
        return False
    import psycopg

    with psycopg.connect(**_TEMPLATE["connect"]) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE["lock"]])
        try:
            admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{_TEMPLATE["name"]}"')
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [_TEMPLATE["lock"]])
    return True


def postgres_binary(name: str) -> str:
    """The newest installed PostgreSQL's program ``name`` (``initdb``, ``pg_ctl``,
    ``pg_dump``…), for the tests that run clusters of their own; none is a missing
    service."""
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        service_missing(f"needs the PostgreSQL server binaries ({name})")
    return found[-1]


def migrated_into(url: str) -> bool:
    """Fill the empty database at ``url`` (another cluster's: a test's own PostgreSQL) with
    this session's migrated template, schema and the migrations' rows, by ``pg_dump |
    pg_restore`` (about a second), instead of running every migration there (13 s of CPU).
    False when there is no template (SQLite, ``--reuse-db``, ``CM_TEST_DB_TEMPLATE=0``):
    the caller migrates."""
    if not _TEMPLATE:
        return False
    connect = _TEMPLATE["connect"]
    source = (
        f"postgresql://{connect.get('user') or 'postgres'}@{connect['host']}:{connect['port']}"
        f"/{_TEMPLATE['name']}"
    )
    dump = subprocess.run(
        [postgres_binary("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-d", source],
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    subprocess.run(
        [postgres_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "-d",
         url.replace("postgres://", "postgresql://", 1)],
        input=dump.stdout, capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    return True


def _create_test_db_from_template(original):
    """``create_test_db`` on PostgreSQL: migrate once into a template database, then each
    test database (each xdist worker's, the load pass's) is a copy of it, ``CREATE DATABASE
    … TEMPLATE`` (a file copy, well under a second), instead of running every migration
    again (~8 s of CPU each). The template is named after the migrations' fingerprint,
    built under an advisory lock by whichever session comes first and renamed into place
    only once complete; a later session with the same migrations reuses it. Otherwise as
    Django does: the same database, serialized for the transactional tests' restore, the
    cache table created (docs/testing.md). ``CM_TEST_DB_TEMPLATE=0`` or ``--reuse-db``:
    Django's own way."""
    import hashlib

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        from django.conf import settings
        from django.core.management import call_command

        if (
            keepdb
            or self.connection.vendor != "postgresql"
            or os.environ.get("CM_TEST_DB_TEMPLATE", "1") == "0"
        ):
            return original(self, verbosity, autoclobber, serialize, keepdb)
        import psycopg

        alias, settings_dict = self.connection.alias, self.connection.settings_dict
        name = settings_dict["NAME"]
        test_name = self._get_test_db_name()
        # The name without pytest-xdist's "_gwN": one template for all the workers.
        prefix = test_name.removesuffix("_" + os.environ.get("PYTEST_XDIST_WORKER", "-"))
        template = f"{prefix[:40]}_tpl_{_migrations_fingerprint()[:16]}"
        lock = int.from_bytes(hashlib.sha256(prefix.encode()).digest()[:8], "big", signed=True)
        connect = {
            "host": settings_dict.get("HOST") or "127.0.0.1",
            "port": settings_dict.get("PORT") or 5432,
            "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None,
            "dbname": "postgres",
            "autocommit": True,
        }
        admin = psycopg.connect(**connect)
        try:
            admin.execute("SELECT pg_advisory_lock(%s)", [lock])
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            if found.fetchone() is None:
                building = f"{template}_new"
                admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
                test_settings = settings_dict["TEST"]
                saved_test = dict(test_settings)
                test_settings["NAME"] = building
                try:
                    original(self, verbosity, True, False, False)  # migrates `building`
                finally:
                    self.connection.close()
                    test_settings.clear()
                    test_settings.update(saved_test)
                    settings_dict["NAME"] = settings.DATABASES[alias]["NAME"] = name
                admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
                # Templates of other migrations (an older checkout) are not needed again.
                for (old,) in admin.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                    [f"{prefix[:40]}_tpl_%", template],
                ).fetchall():
                    admin.execute(f'DROP DATABASE IF EXISTS "{old}"')
            if verbosity >= 1:
                self.log(f"Creating test database {test_name} from template {template}...")
            admin.execute(f'DROP DATABASE IF EXISTS "{test_name}"')
            admin.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
            # A test database need not outlive a crash of the server: its commits do not
            # wait for the WAL to reach the disk (the tests that crash PostgreSQL run
            # clusters of their own, tests/apps/test_database_faults.py). Every connection
            # to it takes this, the workers' and commands' started by a test too.
            admin.execute(f'ALTER DATABASE "{test_name}" SET synchronous_commit = off')
            # Nor compile its queries (PostgreSQL's JIT costs more than it saves on tables
            # of test size, and what a test asks of a plan does not depend on it).
            admin.execute(f'ALTER DATABASE "{test_name}" SET jit = off')
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [lock])
            admin.close()
        _TEMPLATE.update(name=template, lock=lock, connect=connect)
        self.connection.close()
        settings.DATABASES[alias]["NAME"] = test_name
        settings_dict["NAME"] = test_name
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        call_command("createcachetable", database=alias)
        self.connection.ensure_connection()
        return test_name

    return create_test_db


def _test_databases_from_a_template() -> None:
    try:
        from django.db.backends.postgresql.creation import DatabaseCreation
    except ImportError:
        return
    DatabaseCreation.create_test_db = _create_test_db_from_template(DatabaseCreation.create_test_db)


_test_databases_from_a_template()


def _flush_by_delete(original):
    """``sql_flush`` of the test database on PostgreSQL: after each transactional test
    Django empties every table with one ``TRUNCATE`` of all of them (136 tables, 500
    indexes: each gets a new file, ~0.3 s on a quiet 2-core machine, seconds under load).
    Here only the tables that hold a row are emptied, with ``DELETE`` (a test leaves a few
    rows in a few tables), in the same transaction as Django's flush, with triggers and
    foreign-key checks off for that transaction (``session_replication_role = replica``:
    every row of every referencing table goes too, so nothing is left dangling). The same
    end state: every model table empty. Django's own ``TRUNCATE`` when sequences are to be
    reset, when the user may not set the role (not a superuser), or with
    ``CM_TEST_FLUSH_DELETE=0`` (docs/testing.md)."""

    def may_delete(connection) -> bool:
        """Whether the connection's user may switch triggers off (a superuser): asked once
        per connection."""
        if os.environ.get("CM_TEST_FLUSH_DELETE", "1") == "0":
            return False
        if not hasattr(connection, "_cm_may_delete"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
            connection._cm_may_delete = bool(row and row[0])
        return connection._cm_may_delete

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        tables = list(tables)
        if reset_sequences or not tables or not may_delete(self.connection):
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        with self.connection.cursor() as cursor:
            probe = " UNION ALL ".join(
                f"(SELECT {i} FROM {self.quote_name(t)} LIMIT 1)"  # noqa: S608 (table names)
                for i, t in enumerate(tables)
            )
            cursor.execute(probe)
            full = sorted(i for (i,) in cursor.fetchall())
        if not full:
            return []
        return [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {self.quote_name(tables[i])}" for i in full),  # noqa: S608
        ]

    return sql_flush


def _test_flush_by_delete() -> None:
    try:
        from django.db.backends.postgresql.operations import DatabaseOperations
    except ImportError:
        return
    DatabaseOperations.sql_flush = _flush_by_delete(DatabaseOperations.sql_flush)


_test_flush_by_delete()


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres_tx(django_db_serialized_rollback, transactional_db):
    """PostgreSQL with committed transactions, as in production: tasks enqueued on commit
    run, and other processes (workers) see the rows. The reference data loaded by
    migrations (the CN catalogue) is restored after each test (serialized rollback).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing(f"needs PostgreSQL, DATABASE_URL gives {connection.vendor}")
    return connection


postgres = postgres_tx


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``CM_TEST_REDIS_URL`` (default DB 1), its DB number plus the xdist worker index: a
    session flushes only its own DB. Under ``-n N`` DBs base … base+N-1 are used."""
    base = os.environ.get("CM_TEST_REDIS_URL", REDIS_DEFAULT)
    parsed = urlparse(base)
    db = int(parsed.path.strip("/") or 0) + xdist_worker_index()
    url = urlunparse(parsed._replace(path=f"/{db}"))
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1).close()
    except OSError:
        service_missing(f"needs Redis at {url}")
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.ResponseError as exc:  # e.g. "DB index is out of range" (16 DBs by default)
        pytest.fail(f"Redis DB {db} of {url} ({exc}): lower CM_TEST_REDIS_URL's DB or -n")
    return url


def database_url_of(connection) -> str:
    """A URL for the *test* database, for child processes."""
    s = connection.settings_dict
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class Worker:
    """A real ``celery worker`` process on Redis, against the test database."""

    def __init__(self, env: dict[str, str], log: Path, *, new_session: bool = False) -> None:
        self.env = env
        self.log = log
        self.new_session = new_session  # its own process group, to kill it whole
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                "carbon-manifest",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=self.new_session,
        )
        # Generous: under xdist several workers start at once on a small machine.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if b"ready." in self.log.read_bytes():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker not ready in 120 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def service_env(postgres_tx, redis_url, tmp_path) -> dict[str, str]:
    """Environment for child processes: the test database and a clean Redis queue."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_of(postgres_tx),
        CELERY_BROKER_URL=redis_url,
        CM_VAR_DIR=str(tmp_path / "var"),
        CM_MEDIA_ROOT=str(tmp_path / "media"),
    )
    return env


@pytest.fixture
def celery_worker_process(service_env, tmp_path, settings):
    settings.MEDIA_ROOT = Path(service_env["CM_MEDIA_ROOT"])
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    worker = Worker(service_env, tmp_path / "worker.log").start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session", autouse=True)
def _var_dir_per_session(request, tmp_path_factory):
    """``settings.VAR_DIR`` (signing key, zonal plans, grid store) and the ``CM_VAR_DIR`` of
    child processes in this session's temporary folder, not the checkout's ``var/``: under
    xdist each worker has its own (tmp_path_factory's base is per worker)."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from django.conf import settings

    var = tmp_path_factory.mktemp("var", numbered=False)
    previous, previous_env = settings.VAR_DIR, os.environ.get("CM_VAR_DIR")
    settings.VAR_DIR = var
    os.environ["CM_VAR_DIR"] = str(var)
    yield var
    settings.VAR_DIR = previous
    if previous_env is None:
        os.environ.pop("CM_VAR_DIR", None)
    else:
        os.environ["CM_VAR_DIR"] = previous_env


@pytest.fixture(autouse=True)
def _media_in_tmp(request, tmp_path):
    """Evidence files of each test go to its own temporary folder."""
    if not request.config.pluginmanager.hasplugin("django"):
        return  # the pure packages' tests run without Django (-p no:django)
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_ROOT = settings.MEDIA_ROOT / "evidence"
    # Reads cached until the totals change (apps.shipments.selectors.cached_on_totals) must
    # not outlive the test whose data they summed.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def users(db):
    from tests.apps.helpers import make_users

    return make_users()


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """The load pass (``./run test`` runs ``-m load`` alone, after the others) collects only
    ``tests/load``, where the ``load`` mark lives, instead of importing every test module
    to deselect them (about 10 s of CPU). ``tests/test_layers.py`` checks that no test
    elsewhere carries the mark."""
    if config.getoption("markexpr", "") != "load" or collection_path.is_dir():
        return None
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return LOAD_TESTS not in collection_path.parents


LOAD_TESTS = ROOT / "tests" / "load"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests reading a module world (tests/worlds.py) share an xdist group per module;
    before xdist turns the groups into node ids (docs/testing.md). Each worker also writes
    every grouped test's group to the file the controller named (``cm_groups``), for
    :class:`GroupScheduling`."""
    from tests.worlds import group_module_world_tests

    group_module_world_tests(items, mark=config.pluginmanager.hasplugin("xdist"))
    target = getattr(config, "workerinput", {}).get("cm_groups")
    if target:
        import json

        groups = {}
        for item in items:
            names = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
            if names:
                groups[item.nodeid] = "_".join(names)
        part = Path(f"{target}.{os.getpid()}")
        part.write_text(json.dumps(groups), encoding="utf-8")
        part.replace(target)  # whole, whichever worker writes last (they collect the same)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Controller: tell each xdist worker where to write the groups of its collection."""
    path = getattr(node.config, "_cm_groups_file", None)
    if path is None:
        import tempfile

        path = node.config._cm_groups_file = Path(tempfile.mkdtemp()) / "groups.json"
    node.workerinput["cm_groups"] = str(path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` that keeps its promise: pytest-xdist 3.8 marks a group by
    renaming the test's node id (``item._nodeid``), which pytest 9.2 no longer reads (its
    node ids are ``item._id``), so every grouped test went to any worker alone (a module
    world built on each, the witness network's tests apart). Here the groups travel in a
    file the workers write at collection; the scheduling is xdist's own (docs/testing.md)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    import json

    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                path = getattr(config, "_cm_groups_file", None)
                self.groups = (
                    json.loads(path.read_text(encoding="utf-8"))
                    if path is not None and path.exists()
                    else {}
                )
            if "@" in nodeid and nodeid.rfind("@") > nodeid.rfind("]"):
                return nodeid.split("@")[-1]  # an xdist that renames node ids
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)
