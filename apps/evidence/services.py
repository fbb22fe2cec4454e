"""Keep evidence files content-addressed, and run ingests of them.

An ingest is claimed with a conditional UPDATE (it touches exactly one row or nothing),
so a task delivered twice does the work once. On PostgreSQL the execution also holds a
session advisory lock on the run (its lease): a task redelivered while the first execution
still runs (it outlived the broker's visibility timeout) finds the lease taken and stops,
while a redelivery after a crash finds it free (the dead connection released it). The
source's ingester writes its rows, its audit event and the run's final status in one
transaction, so a worker killed mid-ingest leaves nothing behind and the redelivered task
starts clean.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, connection, transaction
from django.db import OperationalError as DatabaseOperationalError
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_append
from apps.evidence.models import EvidenceFile, IngestChunk, IngestRun
from apps.evidence.outcome import IngestOutcome
from apps.evidence.store import evidence_save, evidence_spool

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: A pending run older than this whose message is not known to be queued is sent again.
RECONCILE_GRACE = dt.timedelta(seconds=settings.CM_INGEST_RECONCILE_GRACE_S)
#: Publishing to a broker that is down: a few quick retries, then the run stays pending.
ENQUEUE_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
MAX_STORED_ERRORS = 100_000


def evidence_store(
    *, stream: BinaryIO, name: str = "", max_bytes: int | None = None
) -> EvidenceFile:
    """Copy ``stream`` into the content-addressed store (apps/evidence/store.py: the
    database or a local directory); the same bytes are stored once.

    The blob keeps only its bytes, hash and size: the name, source and uploader belong to
    each run (:func:`ingest_run_create`), so a second upload of the same bytes neither
    inherits nor reveals the first one's (issue #16, item 1). ``name`` is only for the
    size-limit message."""
    spooled, sha, size = evidence_spool(stream=stream, name=name, max_bytes=max_bytes)
    with spooled:
        return evidence_save(spooled=spooled, sha=sha, size=size)


def evidence_store_path(*, path: Path) -> EvidenceFile:
    with open(path, "rb") as stream:
        return evidence_store(stream=stream, name=path.name)


def ingest_run_create(
    *,
    source: str,
    evidence: EvidenceFile,
    original_name: str,
    requested_by: Any = None,
    options: dict | None = None,
) -> IngestRun:
    """Create a pending run of ``evidence`` under the caller's own file name and enqueue its
    task once the row is committed. When the queue cannot take it, the run stays pending
    with ``enqueue_failure`` saying why (the reconciler sends it again): never an error
    after the data is committed (issue #16, item 6)."""
    with transaction.atomic():
        run = IngestRun.objects.create(
            source=source,
            evidence=evidence,
            original_name=Path(original_name).name[:255],
            requested_by=requested_by,
            options=options or {},
        )
        transaction.on_commit(lambda: ingest_run_enqueue(run=run))
    return run


def ingest_run_enqueue(*, run: IngestRun) -> bool:
    """Put ``run``'s task on the queue; False (the reason stored on the run) when the
    broker cannot be reached. In-process execution (no broker configured) runs it here."""
    from apps.evidence.tasks import ingest_run_execute_task

    if ingest_run_execute_task.app.conf.task_always_eager:
        ingest_run_execute_task.delay(run.pk)
        return True
    try:
        ingest_run_execute_task.apply_async(
            args=[run.pk], retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception as exc:  # kombu and redis raise several kinds: any is "not queued"
        reason = f"the task queue is unreachable ({type(exc).__name__}: {exc})"
        logger.warning("ingest run %s not enqueued: %s", run.pk, reason)
        IngestRun.objects.filter(pk=run.pk).update(enqueue_failure=reason[:2000])
        run.enqueue_failure = reason
        return False
    now = timezone.now()
    IngestRun.objects.filter(pk=run.pk).update(enqueue_failure="", enqueued_at=now)
    run.enqueue_failure, run.enqueued_at = "", now
    return True


def ingest_run_resubmit(*, run: IngestRun) -> bool:
    """Send a stuck run again (a re-upload of its file): a pending run, or a running one
    whose lease no execution holds. False when the run is live, done or failed."""
    if run.status == IngestRun.Status.PENDING or (
        run.status == IngestRun.Status.RUNNING and _lease_free(run.pk)
    ):
        return ingest_run_enqueue(run=run)
    return False


def ingest_runs_reconcile(*, grace: dt.timedelta | None = None) -> dict[str, int]:
    """Send again the runs whose task message was lost (issue #16, item 6): the broker
    keeps nothing on disk, so a restart drops queued and unacknowledged messages.

    - a run ``pending`` for longer than ``grace`` (its message never arrived or was lost);
    - a run ``running`` whose lease (the session advisory lock of :func:`_run_lease`) no
      execution holds: its worker died and no message is left to redeliver it.

    A duplicate message is harmless (claim and lease make the second a no-op), and a run
    that keeps dying is failed after :data:`MAX_ATTEMPTS`. Called by the beat schedule
    (``evidence.ingest_runs_reconcile`` in config/celery.py)."""
    grace = RECONCILE_GRACE if grace is None else grace
    cutoff = timezone.now() - grace
    pending = IngestRun.objects.filter(status=IngestRun.Status.PENDING, created_at__lt=cutoff)
    pending = pending.exclude(enqueued_at__gte=cutoff)
    sent = {"pending": 0, "running": 0, "not_sent": 0}
    for run in pending.order_by("pk"):
        ok = ingest_run_enqueue(run=run)
        sent["pending" if ok else "not_sent"] += 1
    # A running run's lease is decisive: it is taken before the claim and held to the end.
    # A chunked run holds no lease between its chunks: its chunks are sent again instead.
    running = IngestRun.objects.filter(status=IngestRun.Status.RUNNING)
    for run in running.order_by("pk"):
        if IngestChunk.objects.filter(run=run).exists():
            sent["chunks"] = sent.get("chunks", 0) + ingest_chunks_resume(run_id=run.pk)
        elif _lease_free(run.pk):
            ok = ingest_run_enqueue(run=run)
            sent["running" if ok else "not_sent"] += 1
    return sent


def _lease_free(run_id: int) -> bool:
    """Whether no execution holds ``run_id``'s lease (off PostgreSQL: never known, False)."""
    if connection.vendor != "postgresql":
        return False
    with _run_lease(run_id) as leased:
        return leased


def ingest_run_execute(*, run_id: int) -> None:
    """Execute a run; safe to call twice and after a crash (see the module docstring)."""
    IngestRun.objects.filter(pk=run_id).update(deliveries=F("deliveries") + 1)
    with _run_lease(run_id) as leased:
        if leased:
            _run_execute(run_id)


@contextmanager
def _run_lease(run_id: int, kind: str = "ingest-run") -> Iterator[bool]:
    """Whether this execution holds the run (always, off PostgreSQL: in-process tasks);
    ``kind`` "ingest-chunk": the lease of one chunk of a chunked run instead."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = [kind, run_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s || %s, 0))", key)
        leased = cursor.fetchone()[0]
    try:
        yield leased
    finally:
        if leased:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s || %s, 0))", key)
            except DatabaseError:
                # The session is unusable (a signal interrupted a query in flight): closing
                # it ends the session, and PostgreSQL releases its advisory locks with it.
                connection.close()


def _run_execute(run_id: int) -> None:
    from apps.evidence.sources import ingester
    from ingest.base import IngestError

    if IngestChunk.objects.filter(run_id=run_id).exists():
        # A chunked run: the chunks are the work; sending the run again (a duplicate, the
        # reconciler, a resubmission) only sends its unfinished chunks again.
        ingest_chunks_resume(run_id=run_id)
        return
    claimed = IngestRun.objects.filter(
        pk=run_id, status__in=[IngestRun.Status.PENDING, IngestRun.Status.RUNNING]
    ).update(status=IngestRun.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1)
    if claimed != 1:
        return  # already done or failed: a duplicate delivery
    run = IngestRun.objects.select_related("evidence", "requested_by").get(pk=run_id)
    if run.attempts > MAX_ATTEMPTS:
        _run_fail(run, f"gave up after {MAX_ATTEMPTS} attempts (the task kept crashing)")
        return
    try:
        # The ingester commits its rows, its audit event and the run's counts together.
        ingester(run.source)(run=run)
    except IngestError as exc:
        _run_fail(run, str(exc))
    except (DatabaseOperationalError, InterfaceError):
        # The database went away: the run stays running with its lease free, so the
        # redelivered task (or the reconciler) executes it again, at most MAX_ATTEMPTS.
        raise
    except SoftTimeLimitExceeded:
        # Celery's soft time limit (settings.CELERY_TASK_SOFT_TIME_LIMIT): the open
        # transaction has rolled back; the run ends failed, naming the limit, not retried.
        # The limit's signal can land while a query is in flight outside a transaction,
        # leaving the connection mid-command: replace it before writing the failure.
        _connection_discard_if_broken()
        _run_fail(
            run,
            f"stopped at the task time limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s "
            "(CM_TASK_SOFT_TIME_LIMIT_S)",
        )
    except Exception as exc:
        # Any other error ends the run with its reason, never leaves it running (issue
        # #16, item 3); the traceback goes to the worker's log.
        logger.exception("ingest run %s (%s) failed", run.pk, run.source)
        _run_fail(run, f"unexpected error reading {run.name}: {type(exc).__name__}: {exc}")


def ingest_run_finish(*, run: IngestRun, outcome: IngestOutcome) -> None:
    """Record a finished run and its audit event; call inside the ingester's transaction."""
    run.status = IngestRun.Status.DONE
    run.rows_read = outcome.rows_read
    run.accepted = outcome.accepted
    run.rejected = outcome.rejected
    run.duplicates = outcome.duplicates
    run.errors = outcome.errors[:MAX_STORED_ERRORS]
    run.finished_at = timezone.now()
    # Only the fields set here: counters that others update with F() (deliveries, the
    # progress of a concurrent batch) must not be overwritten with stale values.
    run.save(
        update_fields=[
            "status",
            "rows_read",
            "accepted",
            "rejected",
            "duplicates",
            "corrections",
            "errors",
            "finished_at",
        ]
    )
    audit_append(
        actor=run.requested_by,
        action=f"ingest.{run.source}",
        object_type="ingest_run",
        object_id=run.pk,
        evidence_sha256=run.evidence.sha256,
        payload={
            "file": run.original_name,
            "rows_read": run.rows_read,
            "accepted": run.accepted,
            "rejected": run.rejected,
            "duplicates": run.duplicates,
            **outcome.extra,
        },
    )


def ingest_rows_store(
    *, run: IngestRun, model: type, rows: list, meta: dict, extra: dict | None = None
) -> IngestOutcome:
    """Store a small source's rows (keyed by a natural unique constraint, so a re-ingest
    is a no-op), then finish the run; call inside the ingester's transaction."""
    model.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    accepted = model.objects.filter(ingest_run=run).count()
    errors = [asdict(e) for e in meta["errors"]]
    outcome = IngestOutcome(
        rows_read=meta["rows_read"],
        accepted=accepted,
        rejected=len({e["line"] for e in errors}),
        duplicates=len(rows) - accepted,
        errors=errors,
        extra=extra or {},
    )
    ingest_run_finish(run=run, outcome=outcome)
    return outcome


def _connection_discard_if_broken() -> None:
    """Close the connection when it can no longer run a query; Django reconnects on the
    next one. Only outside a transaction (inside one, its atomic block owns the cleanup)."""
    if connection.connection is None or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        connection.close()


def _run_fail(run: IngestRun, reason: str) -> None:
    with transaction.atomic():
        run.status = IngestRun.Status.FAILED
        run.failure = reason
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure", "finished_at"])
        audit_append(
            actor=run.requested_by,
            action=f"ingest.{run.source}.failed",
            object_type="ingest_run",
            object_id=run.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"file": run.original_name, "reason": reason},
        )


# --- Chunked runs: one large file, independent chunks (docs/operations-workers.md) ------


def ingest_chunks_plan(*, run: IngestRun, ranges: list[tuple[int, int, int]]) -> int:
    """Split ``run`` into chunks, one per ``(start, end, first_line)`` byte range of its
    file, and send each to the queue once they are committed; returns how many. Called by
    a source's ingester instead of storing rows itself (the run stays running; the
    execution that stores its last chunk finishes it). Planning twice plans once."""
    with transaction.atomic():
        IngestChunk.objects.bulk_create(
            [
                IngestChunk(run=run, index=k, start=start, end=end, first_line=first)
                for k, (start, end, first) in enumerate(ranges)
            ],
            ignore_conflicts=True,
        )
        transaction.on_commit(lambda: ingest_chunks_resume(run_id=run.pk, grace=dt.timedelta(0)))
    return len(ranges)


def ingest_chunks_resume(*, run_id: int, grace: dt.timedelta | None = None) -> int:
    """Send the pending chunks of a running run that no execution holds and that were not
    put on the queue within ``grace`` (default: the reconciler's); finish the run when
    every chunk is done. Returns the chunks sent."""
    run = IngestRun.objects.get(pk=run_id)
    if run.status != IngestRun.Status.RUNNING:
        return 0
    cutoff = timezone.now() - (RECONCILE_GRACE if grace is None else grace)
    pending = IngestChunk.objects.filter(run_id=run_id, status=IngestChunk.Status.PENDING)
    pending = pending.exclude(enqueued_at__gt=cutoff)
    sent = 0
    for chunk_id in pending.order_by("index").values_list("pk", flat=True):
        if _chunk_lease_free(chunk_id) and ingest_chunk_enqueue(chunk_id=chunk_id):
            sent += 1
    _chunks_finish_if_done(run_id)
    return sent


def _chunk_lease_free(chunk_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True
    with _run_lease(chunk_id, "ingest-chunk") as leased:
        return leased


def ingest_chunk_enqueue(*, chunk_id: int) -> bool:
    """Put one chunk's task on the queue; False when the broker cannot be reached (the
    chunk stays pending and the reconciler sends it again)."""
    from apps.evidence.tasks import ingest_chunk_execute_task

    if ingest_chunk_execute_task.app.conf.task_always_eager:
        ingest_chunk_execute_task.delay(chunk_id)
        return True
    try:
        ingest_chunk_execute_task.apply_async(
            args=[chunk_id], retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception as exc:  # kombu and redis raise several kinds: any is "not queued"
        logger.warning("ingest chunk %s not enqueued: %s: %s", chunk_id, type(exc).__name__, exc)
        return False
    IngestChunk.objects.filter(pk=chunk_id).update(enqueued_at=timezone.now())
    return True


def ingest_chunk_execute(*, chunk_id: int, worker: str = "") -> None:
    """Execute one chunk; safe to call twice, concurrently and after a crash: the chunk's
    lease keeps a second execution out while the first lives, and its rows commit with
    its ``done`` mark, so a chunk is stored exactly once."""
    with _run_lease(chunk_id, "ingest-chunk") as leased:
        if leased:
            _chunk_execute(chunk_id, worker)


#: A chunk whose rows meet a concurrent chunk's on a unique key is tried this many times.
CHUNK_CONFLICT_TRIES = 3


def _chunk_execute(chunk_id: int, worker: str) -> None:
    from apps.evidence.sources import chunk_ingester
    from ingest.base import IngestError

    chunk = IngestChunk.objects.select_related("run__evidence", "run__requested_by").get(
        pk=chunk_id
    )
    run = chunk.run
    if chunk.status != IngestChunk.Status.PENDING or run.status != IngestRun.Status.RUNNING:
        _chunks_finish_if_done(run.pk)
        return
    IngestChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    chunk.attempts += 1
    if chunk.attempts > MAX_ATTEMPTS:
        _chunk_fail(chunk, f"gave up after {MAX_ATTEMPTS} attempts (the task kept crashing)")
        return
    try:
        for tries in range(1, CHUNK_CONFLICT_TRIES + 1):
            try:
                chunk_ingester(run.source)(run=run, chunk=chunk, worker=worker)
                break
            except IntegrityError:
                # A line repeated in another chunk stored meanwhile: the replay sees it.
                if tries == CHUNK_CONFLICT_TRIES:
                    raise
    except IngestError as exc:
        _chunk_fail(chunk, str(exc))
        return
    except (DatabaseOperationalError, InterfaceError):
        raise  # the chunk stays pending, its lease free: redelivered or reconciled
    except SoftTimeLimitExceeded:
        _connection_discard_if_broken()
        _chunk_fail(
            chunk,
            f"stopped at the task time limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s "
            "(CM_TASK_SOFT_TIME_LIMIT_S)",
        )
        return
    except Exception as exc:
        logger.exception("ingest run %s chunk %s failed", run.pk, chunk.index)
        _chunk_fail(chunk, f"unexpected error: {type(exc).__name__}: {exc}")
        return
    _chunks_finish_if_done(run.pk)


def ingest_chunk_done(
    *, chunk: IngestChunk, outcome: IngestOutcome, corrections: int = 0, worker: str = ""
) -> None:
    """Mark ``chunk`` done with its counts; call inside the transaction that stores its
    rows. Raises (rolling the rows back) if the chunk is no longer pending."""
    updated = IngestChunk.objects.filter(pk=chunk.pk, status=IngestChunk.Status.PENDING).update(
        status=IngestChunk.Status.DONE,
        rows_read=outcome.rows_read,
        accepted=outcome.accepted,
        rejected=outcome.rejected,
        duplicates=outcome.duplicates,
        corrections=corrections,
        errors=outcome.errors[:MAX_STORED_ERRORS],
        extra=outcome.extra,
        worker=worker[:255],
        finished_at=timezone.now(),
    )
    if updated != 1:
        raise RuntimeError(f"run {chunk.run_id} chunk {chunk.index} is no longer pending")
    # Progress, committed with the chunk it counts.
    IngestRun.objects.filter(pk=chunk.run_id).update(
        rows_read=F("rows_read") + outcome.rows_read,
        accepted=F("accepted") + outcome.accepted,
        rejected=F("rejected") + outcome.rejected,
        corrections=F("corrections") + corrections,
    )


def _chunks_finish_if_done(run_id: int) -> None:
    """Finish the run if every chunk is done: once, under a lock on the run's row, so two
    chunks ending together do not both finish it."""
    from apps.evidence.sources import chunks_finisher

    with transaction.atomic():
        run = (
            IngestRun.objects.select_for_update(of=("self",))
            .select_related("evidence", "requested_by")
            .get(pk=run_id)
        )
        if run.status != IngestRun.Status.RUNNING:
            return
        chunks = list(IngestChunk.objects.filter(run=run).order_by("index"))
        if not chunks or any(c.status != IngestChunk.Status.DONE for c in chunks):
            return
        finish = chunks_finisher(run.source)
        outcome = finish(run=run, chunks=chunks)
        run.corrections = sum(c.corrections for c in chunks)
        ingest_run_finish(run=run, outcome=outcome)


def _chunk_fail(chunk: IngestChunk, reason: str) -> None:
    with transaction.atomic():
        IngestChunk.objects.filter(pk=chunk.pk).update(
            status=IngestChunk.Status.FAILED, failure=reason, finished_at=timezone.now()
        )
    run = IngestRun.objects.select_related("evidence", "requested_by").get(pk=chunk.run_id)
    if run.status == IngestRun.Status.RUNNING:
        _run_fail(run, f"chunk {chunk.index} (from line {chunk.first_line}): {reason}")
