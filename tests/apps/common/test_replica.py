"""Reads from a streaming replica (apps/common/replica.py; docs/operations.md, "Reads from
a replica"), against a real primary and replica started for this module (tests/
replica_pair.py): pages read the replica, a user who just confirmed a disclosure reads the
primary, admins see the lag, and a replica that lags too far or dies is not read.

The proof that a page read the replica: its replay is paused (``pg_wal_replay_pause()``),
a row is changed on the primary, and the page shows the old value; the queries each alias
ran are captured too."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from apps.common.replica import PIN_COOKIE, replica_forget
from tests.conftest import migrated_into
from tests.replica_pair import ReplicaPair
from tests.worlds import MODULE_WORLD_FIXTURES

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]

# One pair of servers for the module: under xdist its tests go to one worker, as a module
# world's do (tests/worlds.py).
MODULE_WORLD_FIXTURES.add("replica_world")


def _use_databases(databases: dict, wrappers: dict | None = None) -> dict:
    """Point Django's connections at ``databases`` (closing the open ones), with the
    connection objects ``wrappers`` if given; returns the objects taken out. (The test
    database's own object is put back afterwards: it carries the rows its migrations wrote,
    which transactional tests restore.)"""
    from django.conf import settings

    taken = {}
    for alias in list(connections.settings):
        if hasattr(connections._connections, alias):
            try:
                connections[alias].close()
            except Exception:  # a connection to a stopped server
                pass
            taken[alias] = connections[alias]
            del connections[alias]
    settings.DATABASES = databases
    connections._settings = None
    connections.__dict__.pop("settings", None)
    for alias, wrapper in (wrappers or {}).items():
        connections[alias] = wrapper
    return taken


@pytest.fixture(scope="module")
def replica_world(django_db_blocker, tmp_path_factory):
    from django.conf import settings
    from django.core.management import call_command

    from apps.facilities.models import Installation
    from tests.apps.disclosures.conftest import template_2026, upload
    from tests.apps.helpers import make_users

    pair = ReplicaPair()
    wrappers: dict = {}
    replica_forget(positions=True)  # positions of another pair's primary mean nothing here
    saved = {
        name: getattr(settings, name)
        for name in ("DATABASES", "MEDIA_ROOT", "EVIDENCE_ROOT", "LLM_BASE_URL")
    }
    with django_db_blocker.unblock():
        try:
            pair.start("cm")
            wrappers = _use_databases(
                {
                    "default": {**pair.settings_dict("primary"), "CONN_MAX_AGE": 60},
                    "replica": {
                        **pair.settings_dict("replica"),
                        "CONN_MAX_AGE": 60,
                        "OPTIONS": {"connect_timeout": 2},
                        "TEST": {"MIRROR": "default"},
                    },
                }
            )
            media = tmp_path_factory.mktemp("replica-media")
            settings.MEDIA_ROOT, settings.EVIDENCE_ROOT = media, media / "evidence"
            settings.LLM_BASE_URL = None
            primary = pair.settings_dict("primary")
            url = (
                f"postgresql://{primary['USER']}@{primary['HOST']}:{primary['PORT']}"
                f"/{primary['NAME']}"
            )
            if not migrated_into(url):  # the session's template copied in, else migrated
                call_command("migrate", verbosity=0, interactive=False)
            users = make_users()
            installation = Installation.objects.create(
                identifier="IN-MH-0042",
                name="Example Steel Works Unit 2",
                organisation=users["org_a"],
                country="IN",
            )
            version = upload(
                users["exporter_a"],
                installation,
                template_2026(tmp_path_factory.mktemp("replica-upload")),
                2026,
            )
            assert version.status == "review", version.failure
            pair.wait_caught_up()
            yield {"pair": pair, "installation": installation, "version": version, **users}
        finally:
            replica_forget(positions=True)
            _use_databases(saved.pop("DATABASES"), wrappers)
            for name, value in saved.items():
                setattr(settings, name, value)
            pair.stop()


@pytest.fixture
def pair(replica_world, settings):
    """The pair, caught up and replaying, with the replica's state checked afresh."""
    settings.CM_REPLICA_MAX_LAG_S = 600
    settings.CM_REPLICA_PIN_S = 10
    pair = replica_world["pair"]
    if pair.scalar("replica", "SELECT pg_get_wal_replay_pause_state()") != "not paused":
        pair.resume_replay()
    pair.wait_caught_up()
    replica_forget()
    yield pair
    replica_forget()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)  # not a request: no read-your-writes cookie
    return client


def _get(client: Client, url: str, **extra):
    """The response, and the SQL each alias ran for it. (Not CaptureQueriesContext: it
    connects first, and the replica may be down.)"""
    logged = {}
    for alias in ("default", "replica"):
        connection = connections[alias]
        connection.force_debug_cursor = True
        connection.queries_log.clear()
    try:
        response = client.get(url, **extra)
    finally:
        for alias in ("default", "replica"):
            connection = connections[alias]
            logged[alias] = [q["sql"] for q in connection.queries_log]
            connection.force_debug_cursor = False
    return response, logged["default"], logged["replica"]


def _reads(sqls: list[str], table: str) -> bool:
    return any(f'"{table}"' in sql and sql.lstrip().upper().startswith("SELECT") for sql in sqls)


def _rename(installation_pk: int, name: str) -> None:
    from apps.facilities.models import Installation

    Installation.objects.filter(pk=installation_pk).update(name=name)  # on the primary


def test_a_page_reads_the_replica_and_shows_what_it_has_replayed(replica_world, pair):
    official = _client(replica_world["official"])
    url = reverse("installation-detail", args=[replica_world["installation"].pk])
    response, primary, replica = _get(official, url)
    assert response.status_code == 200
    assert _reads(replica, "facilities_installation")
    assert not _reads(primary, "facilities_installation")
    # Signing in is read on the primary (a session made a moment ago must be found).
    assert _reads(primary, "django_session") and not _reads(replica, "django_session")

    pair.pause_replay()
    _rename(replica_world["installation"].pk, "Renamed Works")
    stale, _, _ = _get(official, url)
    assert "<h1>Example Steel Works Unit 2</h1>" in stale.content.decode()
    # Outside a request (a Celery task, a command) reads are on the primary.
    from apps.facilities.models import Installation

    assert Installation.objects.get(pk=replica_world["installation"].pk).name == "Renamed Works"
    pair.resume_replay()
    fresh, _, _ = _get(official, url)
    assert "<h1>Renamed Works</h1>" in fresh.content.decode()
    _rename(replica_world["installation"].pk, "Example Steel Works Unit 2")


def _status_span(html: str) -> str:
    """The disclosure's status, as its page shows it (the first status of the page)."""
    return re.search(r'class="status status-([a-z_]+)"', html).group(1)


def test_a_user_who_confirmed_a_disclosure_sees_it_on_the_next_page(replica_world, pair, settings):
    # No pin window: only the replica's replay position keeps the exporter on the primary.
    settings.CM_REPLICA_PIN_S = 0
    version = replica_world["version"]
    exporter, official = _client(replica_world["exporter_a"]), _client(replica_world["official"])
    detail = reverse("disclosure-detail", args=[version.disclosure_id])
    before, _, replica = _get(official, detail)
    assert _status_span(before.content.decode()) == "review" and _reads(
        replica, "disclosures_disclosure"
    )

    pair.pause_replay()
    review = reverse("disclosure-review", args=[version.disclosure_id, version.number])
    confirmed = exporter.post(review, {"submit": "1"})
    assert confirmed.status_code == 302 and confirmed.url == detail
    assert PIN_COOKIE in confirmed.cookies
    on_primary = pair.scalar(
        "primary",
        "SELECT status FROM disclosures_disclosure WHERE id = %s",
        (version.disclosure_id,),
    )
    on_replica = pair.scalar(
        "replica",
        "SELECT status FROM disclosures_disclosure WHERE id = %s",
        (version.disclosure_id,),
    )
    assert on_replica == "review" and on_primary in ("confirmed", "held")

    # The exporter's next page: from the primary, while the replica has not replayed it.
    mine, primary, replica = _get(exporter, detail)
    assert mine.status_code == 200 and _status_span(mine.content.decode()) == on_primary
    assert _reads(primary, "disclosures_disclosure") and not _reads(
        replica, "disclosures_disclosure"
    )
    # Another user, who wrote nothing, reads the replica: still "review".
    theirs, _, replica = _get(official, detail)
    assert _status_span(theirs.content.decode()) == "review"
    assert _reads(replica, "disclosures_disclosure")

    pair.resume_replay()
    replica_forget()
    # Once the replica has replayed the write, both read it there.
    for client in (exporter, official):
        page, primary, replica = _get(client, detail)
        assert _status_span(page.content.decode()) == on_primary
        assert _reads(replica, "disclosures_disclosure")


def test_the_pin_window_and_a_forged_cookie(replica_world, pair):
    exporter = _client(replica_world["exporter_a"])
    version = replica_world["version"]
    review = reverse("disclosure-review", args=[version.disclosure_id, version.number])
    # A write that fails still pins (a POST is a write as far as the router knows).
    exporter.post(review, {"submit": "1"})
    assert PIN_COOKIE in exporter.cookies
    pair.wait_caught_up()
    replica_forget()
    detail = reverse("disclosure-detail", args=[version.disclosure_id])
    _, primary, replica = _get(exporter, detail)  # within CM_REPLICA_PIN_S (10 s)
    assert _reads(primary, "disclosures_disclosure") and not _reads(
        replica, "disclosures_disclosure"
    )
    # An unsigned (or altered) cookie is ignored: the replica is read.
    forged = f"{time.time() + 3600:.3f}:{2**62}"
    exporter.cookies[PIN_COOKIE] = forged
    _, primary, replica = _get(exporter, detail)
    assert _reads(replica, "disclosures_disclosure") and not _reads(
        primary, "disclosures_disclosure"
    )


def test_admins_see_the_lag_and_a_replica_too_far_behind_is_not_read(replica_world, pair, settings):
    admin, official = _client(replica_world["admin"]), _client(replica_world["official"])
    api = reverse("api:operations-replica")
    caught_up = admin.get(api).json()
    assert caught_up["configured"] and caught_up["up"] and caught_up["lag_bytes"] == 0
    assert caught_up["lag_seconds"] == 0.0 and caught_up["replay_paused"] is False

    pair.pause_replay()
    replayed = pair.scalar("replica", "SELECT pg_last_wal_replay_lsn()::text")
    _rename(replica_world["installation"].pk, "Behind Works")
    renamed = time.monotonic()
    # The first check that sees the primary past the replica: behind, for 0 s so far.
    first = admin.get(api).json()
    assert first["lag_bytes"] > 0 and first["lag_seconds"] < 1.0
    low = pair.scalar("primary", "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (replayed,))
    time.sleep(1.1)
    status = admin.get(api).json()
    since_rename = time.monotonic() - renamed
    high = pair.scalar("primary", "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (replayed,))
    # The lag is the WAL between the replica's replay position and the primary's, and the
    # time since the first check that found it missing WAL (1.1 s of sleep, at least).
    assert 0 < low <= status["lag_bytes"] <= high
    assert status["replay_lsn"] == replayed and status["replay_paused"] is True
    assert status["up"] and 1.1 <= status["lag_seconds"] <= since_rename
    page = admin.get(reverse("operations"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="lag-bytes"' in html and "replay paused" in html and "<strong>Up</strong>" in html
    # Not for anyone else.
    assert official.get(api).status_code == 403
    assert official.get(reverse("operations")).status_code == 403

    # Over the threshold: marked down, pages read the primary (the fresh name).
    settings.CM_REPLICA_MAX_LAG_S = 1
    replica_forget()
    url = reverse("installation-detail", args=[replica_world["installation"].pk])
    page, primary, replica = _get(official, url)
    assert "<h1>Behind Works</h1>" in page.content.decode()
    assert _reads(primary, "facilities_installation") and not _reads(
        replica, "facilities_installation"
    )
    down = admin.get(api).json()
    assert not down["up"] and re.fullmatch(r"lag \d+\.\d s is over 1 s", down["reason"])
    pair.resume_replay()
    _rename(replica_world["installation"].pk, "Example Steel Works Unit 2")


def test_a_dead_replica_sends_reads_to_the_primary_without_an_error_page(replica_world, pair):
    """Last: the replica is stopped as in a crash."""
    official, admin = _client(replica_world["official"]), _client(replica_world["admin"])
    url = reverse("installation-detail", args=[replica_world["installation"].pk])
    _, _, replica = _get(official, url)
    assert _reads(replica, "facilities_installation")  # a live connection to the replica

    pair.stop_replica()
    _rename(replica_world["installation"].pk, "After The Crash")
    page, primary, _ = _get(official, url)  # the open connection fails mid-request
    assert page.status_code == 200 and "<h1>After The Crash</h1>" in page.content.decode()
    assert _reads(primary, "facilities_installation")
    # The next pages and API reads go to the primary at once (the replica is marked down).
    for path in (url, reverse("disclosure-list"), "/api/v1/disclosures/", "/api/v1/installations/"):
        response, primary, replica = _get(official, path)
        assert response.status_code == 200, path
        assert not replica, path
    down = admin.get(reverse("api:operations-replica")).json()
    assert not down["up"] and down["reason"].startswith("replica: ")
    assert "<strong>Down</strong>" in admin.get(reverse("operations")).content.decode()


def test_a_get_that_writes_reads_the_rest_from_the_primary_and_tasks_never_read_the_replica():
    """The router's rules that need no server (a GET may write: its later reads must see it;
    a task run in-process inside a GET reads the primary, as on a worker)."""
    from celery.signals import task_postrun, task_prerun

    from apps.accounts.models import ApiToken
    from apps.common import replica
    from apps.facilities.models import Installation

    router = replica.ReplicaRouter()
    reads = replica._RequestReads(allowed=True)
    token = replica._reads.set(reads)
    try:
        router.db_for_write(ApiToken)  # a sign-in table: the request may still read the replica
        assert reads.allowed and not reads.wrote
        assert router.db_for_write(Installation) == "default"
        assert not reads.allowed and reads.wrote
        assert router.db_for_read(Installation) == "default"

        reads.allowed = True
        task_prerun.send(sender=None, task_id="t1", task=None)
        assert replica._reads.get() is None
        assert router.db_for_read(Installation) == "default"
        task_postrun.send(sender=None, task_id="t1", task=None)
        assert replica._reads.get() is reads
    finally:
        replica._reads.reset(token)
    assert replica._reads.get() is None


def test_the_lag_in_seconds_counts_from_the_first_check_that_found_the_replica_behind():
    """Hand-worked: each call is a check at time t (s) that found the primary at a WAL
    position and the replica's replay at another; the lag runs from the first check at
    which the primary was past what the replica has replayed now."""
    from apps.common import replica

    replica.replica_forget(positions=True)
    try:
        assert replica._lag_seconds(100.0, 1000, 1000, age=50.0) == 0.0  # caught up
        # Idle for 55 s: a replica that has everything is not 55 s behind.
        assert replica._lag_seconds(105.0, 1000, 1000, age=55.0) == 0.0
        # The primary wrote (1600), the replica has not replayed it: first seen behind at
        # 110 s (not 60 s behind, the age of its last transaction).
        assert replica._lag_seconds(110.0, 1600, 1000, age=60.0) == 0.0
        assert replica._lag_seconds(113.0, 1600, 1000, age=63.0) == 3.0  # 113 - 110
        # It replayed 1600; the primary is at 2000 since 115 s: 115 is the first check
        # that found it past 1600.
        assert replica._lag_seconds(115.0, 2000, 1600, age=0.2) == 0.0
        assert replica._lag_seconds(118.0, 2000, 1600, age=None) == 3.0  # 118 - 115
        # Never more than the age of the last transaction it replayed.
        assert replica._lag_seconds(119.0, 2000, 1600, age=0.5) == 0.5
    finally:
        replica.replica_forget(positions=True)
