"""Reads from a PostgreSQL streaming replica (docs/operations.md, "Reads from a replica").

With ``DATABASE_REPLICA_URL`` set, the database alias ``replica`` exists and:

- the reads of a ``GET`` or ``HEAD`` request go to it (:class:`ReplicaRouter`), except
  the sign-in tables (sessions, users, API tokens, lockouts: a session or token made a
  moment ago must be found), reads inside a transaction on the primary, and every read of
  a user who wrote recently (:class:`ReplicaReadsMiddleware` pins them to the primary);
- every write, every other request, every Celery task and every management command use the
  primary (``default``): the replica is used only where the middleware allows it;
- a replica that refuses connections, or lags more than ``CM_REPLICA_MAX_LAG_S`` seconds
  (or ``CM_REPLICA_MAX_LAG_BYTES`` of WAL), is marked down in this process's memory for
  ``CM_REPLICA_CHECK_S`` seconds and the reads go to the primary; a replica that fails in
  the middle of a request has that request answered again from the primary, not with an
  error page.

Without a replica, everything reads the primary and nothing here costs a query.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse

log = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
#: Read on the primary even in a GET: what signing in reads (a session or an API token made
#: by the request before must be found, else the user is signed out for the replica's lag).
PRIMARY_APPS = frozenset({"sessions", "accounts", "auth", "axes", "contenttypes"})
#: The read-your-writes cookie: "<unix time until which reads are pinned>:<primary LSN>".
PIN_COOKIE = "cm_primary"
PIN_SALT = "apps.common.replica.pin"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


# --- Health ------------------------------------------------------------------------------


@dataclass
class ReplicaStatus:
    """What the last check of the replica found. ``lag_bytes``: WAL the primary has written
    that the replica has not replayed; ``lag_seconds``: how long the replica has been
    missing WAL, as this process's checks saw it (:func:`_lag_seconds`)."""

    configured: bool
    up: bool
    reason: str = ""
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    replay_lsn: str | None = None
    primary_lsn: str | None = None
    replay_paused: bool | None = None
    checked_at: float = field(default_factory=time.time)
    max_lag_seconds: int = 0
    max_lag_bytes: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


_lock = threading.Lock()
_last: ReplicaStatus | None = None


#: (time, the primary's WAL position) at this process's recent checks.
_positions: deque[tuple[float, int]] = deque(maxlen=4096)


def replica_forget(*, positions: bool = False) -> None:
    """Drop the cached status: the next read checks the replica again (``positions``: and
    the primary's positions seen so far, as for another pair of servers)."""
    global _last
    _last = None
    if positions:
        _positions.clear()


def _lag_seconds(now: float, primary_lsn: int, replay_lsn: int, age: float | None) -> float:
    """Since the first check that found the primary at a position the replica has not
    replayed yet: the replica misses WAL written before that moment. A lower bound (to a
    check interval) of how old what it shows is, never more than the age of the last
    transaction it replayed. Not that age itself: after an idle spell, a replica a
    millisecond behind a new write would seem as far behind as the idle spell was long."""
    _positions.append((now, primary_lsn))
    if replay_lsn >= primary_lsn:
        return 0.0
    since = next(t for t, lsn in _positions if lsn > replay_lsn)
    lag = now - since
    if age is not None:
        lag = min(lag, max(age, 0.0))
    return round(max(lag, 0.0), 3)


def _close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass  # a connection to a dead server: closing it can only fail too


def _lsn_value(lsn: str) -> int:
    """``'16/B374D848'`` as the integer PostgreSQL compares."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _check() -> ReplicaStatus:
    max_s, max_b = settings.CM_REPLICA_MAX_LAG_S, settings.CM_REPLICA_MAX_LAG_BYTES
    limits = {"max_lag_seconds": max_s, "max_lag_bytes": max_b}
    try:
        # The primary's position first, then the replica's: a replica that keeps up has
        # replayed that position by the time it is asked, so an idle pair shows no lag.
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            primary_lsn = cursor.fetchone()[0]
    except DatabaseError as exc:
        return ReplicaStatus(configured=True, up=False, reason=f"primary: {exc}".strip(), **limits)
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint,"
                " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()),"
                " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END",
                [primary_lsn],
            )
            in_recovery, replay_lsn, behind, age, paused = cursor.fetchone()
    except DatabaseError as exc:
        _close_quietly(REPLICA)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return ReplicaStatus(
            configured=True,
            up=False,
            reason=f"replica: {reason}",
            primary_lsn=primary_lsn,
            **limits,
        )
    if not in_recovery:
        return ReplicaStatus(
            configured=True,
            up=False,
            reason="replica: not in recovery (promoted, or not a standby): not read from",
            primary_lsn=primary_lsn,
            **limits,
        )
    lag_bytes = max(int(behind or 0), 0) if replay_lsn else None
    lag_seconds = None
    if replay_lsn:
        lag_seconds = _lag_seconds(
            time.time(),
            _lsn_value(primary_lsn),
            _lsn_value(replay_lsn),
            float(age) if age is not None else None,
        )
    status = ReplicaStatus(
        configured=True,
        up=True,
        lag_bytes=lag_bytes,
        lag_seconds=lag_seconds,
        replay_lsn=replay_lsn,
        primary_lsn=primary_lsn,
        replay_paused=paused,
        **limits,
    )
    if lag_bytes is None:
        status.up, status.reason = False, "replica: has replayed nothing yet"
    elif lag_seconds is not None and lag_seconds > max_s:
        status.up, status.reason = False, f"lag {lag_seconds:.1f} s is over {max_s} s"
    elif lag_bytes > max_b:
        status.up, status.reason = False, f"lag {lag_bytes} bytes is over {max_b} bytes"
    return status


def replica_status(*, fresh: bool = False) -> ReplicaStatus:
    """The replica's status, checked at most once per ``CM_REPLICA_CHECK_S`` in this process
    (``fresh``: check now). Never raises: a failure is a status that is down."""
    global _last
    if not replica_configured():
        return ReplicaStatus(configured=False, up=False, reason="no DATABASE_REPLICA_URL")
    last = _last
    if not fresh and last is not None and time.time() - last.checked_at < _check_interval():
        return last
    with _lock:
        last = _last
        if fresh or last is None or time.time() - last.checked_at >= _check_interval():
            last = _check()
            if not last.up and (_last is None or _last.up):
                log.warning("replica marked down, reads go to the primary: %s", last.reason)
            _last = last
    return last


def _check_interval() -> float:
    return float(settings.CM_REPLICA_CHECK_S)


# --- Routing -----------------------------------------------------------------------------


@dataclass
class _RequestReads:
    allowed: bool
    used: bool = False
    failed: bool = False
    wrote: bool = False


_reads: ContextVar[_RequestReads | None] = ContextVar("cm_replica_reads", default=None)


# A task run in-process (CELERY_TASK_ALWAYS_EAGER) inside a GET request reads the primary,
# as a task on a worker does.
_task_tokens: dict[str, object] = {}


@task_prerun.connect(weak=False, dispatch_uid="cm-replica-task-prerun")
def _task_reads_primary(task_id=None, **kwargs) -> None:
    if task_id is not None:
        _task_tokens[task_id] = _reads.set(None)


@task_postrun.connect(weak=False, dispatch_uid="cm-replica-task-postrun")
def _task_done(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        try:
            _reads.reset(token)
        except ValueError:
            pass  # set in another context (another thread): nothing to restore here


class ReplicaRouter:
    """Writes go to the primary; reads go to the replica only inside a request the
    middleware allowed it for (so tasks and commands never read it), outside a transaction
    on the primary, for models outside :data:`PRIMARY_APPS`, while the replica is up."""

    def db_for_read(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is None or not reads.allowed or model._meta.app_label in PRIMARY_APPS:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block or not replica_status().up:
            return PRIMARY
        reads.used = True
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is not None and model._meta.app_label not in PRIMARY_APPS:
            # A GET that writes (rare) reads the rest of its request from the primary, and
            # its user is pinned as after a POST: the reads that must see a write see it.
            reads.allowed, reads.wrote = False, True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True  # one database, seen from two places
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None


# --- Read-your-writes and failure ---------------------------------------------------------


def _pin_of(request) -> tuple[float, int] | None:
    raw = request.get_signed_cookie(PIN_COOKIE, default=None, salt=PIN_SALT)
    if not raw:
        return None
    until, _, lsn = raw.partition(":")
    try:
        return float(until), int(lsn)
    except ValueError:
        return None


def _pinned(pin: tuple[float, int] | None) -> bool:
    """A user who wrote reads the primary for ``CM_REPLICA_PIN_S`` seconds, and after that
    until the replica has replayed the primary's position at their write."""
    if pin is None:
        return False
    until, lsn = pin
    if time.time() < until:
        return True
    status = replica_status()
    return not status.up or status.replay_lsn is None or _lsn_value(status.replay_lsn) < lsn


def _primary_lsn() -> int | None:
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            return _lsn_value(cursor.fetchone()[0])
    except DatabaseError:
        return None


class ReplicaReadsMiddleware:
    """Lets the router read a GET or HEAD request from the replica, unless the user wrote
    recently; after any other request, sets the signed read-your-writes cookie. A request
    whose replica reads failed is answered again from the primary."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        reads = _RequestReads(allowed=safe and not _pinned(_pin_of(request)))
        token = _reads.set(reads)
        try:
            response = self.get_response(request)
            if reads.failed and not reads.wrote:
                # Answered again, from the primary: a GET or HEAD changes nothing.
                reads.allowed, reads.failed = False, False
                response = self.get_response(request)
        finally:
            _reads.reset(token)
        if not safe or reads.wrote:
            self._pin(response)
        return response

    def process_exception(self, request, exception):
        reads = _reads.get()
        if reads is None or not reads.used or not reads.allowed:
            return None
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        _close_quietly(REPLICA)
        status = replica_status(fresh=True)
        if status.up:
            return None  # the replica answers: the error was not its
        reads.failed = True
        return HttpResponse(status=503)  # replaced by the answer from the primary

    @staticmethod
    def _pin(response) -> None:
        lsn = _primary_lsn()
        if lsn is None:
            return
        pin_s = settings.CM_REPLICA_PIN_S
        # Past PIN_S, the cookie pins only while the replica is behind the write; a replica
        # further behind than MAX_LAG_S is down for everyone, so the cookie need not outlive
        # that (plus one check interval).
        max_age = pin_s + settings.CM_REPLICA_MAX_LAG_S + settings.CM_REPLICA_CHECK_S
        response.set_signed_cookie(
            PIN_COOKIE,
            f"{time.time() + pin_s:.3f}:{lsn}",
            salt=PIN_SALT,
            max_age=max_age,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
