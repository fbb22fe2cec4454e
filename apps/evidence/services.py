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

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_append
from apps.evidence.models import EvidenceFile, IngestRun

MAX_ATTEMPTS = 3
MAX_STORED_ERRORS = 100_000
_CHUNK = 1 << 20


@dataclass
class IngestOutcome:
    """What a source's ingester reports back; the run's counts come from it."""

    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def evidence_store(
    *,
    stream: BinaryIO,
    original_name: str,
    kind: str,
    uploaded_by: Any = None,
    organisation: Any = None,
    max_bytes: int | None = None,
) -> EvidenceFile:
    """Copy ``stream`` into the content-addressed store; the same bytes are stored once."""
    settings.EVIDENCE_ROOT.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=settings.EVIDENCE_ROOT, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ValueError(f"{original_name}: larger than the {max_bytes} byte limit")
                digest.update(chunk)
                tmp.write(chunk)
        sha = digest.hexdigest()
        target = settings.EVIDENCE_ROOT / sha[:2] / sha
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    evidence, _ = EvidenceFile.objects.get_or_create(
        sha256=sha,
        defaults={
            "kind": kind,
            "original_name": Path(original_name).name[:255],
            "size": size,
            "uploaded_by": uploaded_by,
            "organisation": organisation,
        },
    )
    return evidence


def evidence_store_path(*, path: Path, kind: str, uploaded_by: Any = None) -> EvidenceFile:
    with open(path, "rb") as stream:
        return evidence_store(
            stream=stream, original_name=path.name, kind=kind, uploaded_by=uploaded_by
        )


def ingest_run_create(
    *, source: str, evidence: EvidenceFile, requested_by: Any = None, options: dict | None = None
) -> IngestRun:
    """Create a pending run and enqueue its task once the row is committed."""
    from apps.evidence.tasks import ingest_run_execute_task

    with transaction.atomic():
        run = IngestRun.objects.create(
            source=source, evidence=evidence, requested_by=requested_by, options=options or {}
        )
        transaction.on_commit(lambda: ingest_run_execute_task.delay(run.pk))
    return run


def ingest_run_execute(*, run_id: int) -> None:
    """Execute a run; safe to call twice and after a crash (see the module docstring)."""
    IngestRun.objects.filter(pk=run_id).update(deliveries=F("deliveries") + 1)
    with _run_lease(run_id) as leased:
        if leased:
            _run_execute(run_id)


@contextmanager
def _run_lease(run_id: int) -> Iterator[bool]:
    """Whether this execution holds the run (always, off PostgreSQL: in-process tasks)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = ["ingest-run", run_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s || %s, 0))", key)
        leased = cursor.fetchone()[0]
    try:
        yield leased
    finally:
        if leased:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s || %s, 0))", key)


def _run_execute(run_id: int) -> None:
    from apps.evidence.ingesters import ingester
    from ingest.base import IngestError

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
    except SoftTimeLimitExceeded:
        # Celery's soft time limit (settings.CELERY_TASK_SOFT_TIME_LIMIT): the open
        # transaction has rolled back; the run ends failed, naming the limit, not retried.
        _run_fail(
            run,
            f"stopped at the task time limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s "
            "(CM_TASK_SOFT_TIME_LIMIT_S)",
        )


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
            "file": run.evidence.original_name,
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
            payload={"file": run.evidence.original_name, "reason": reason},
        )
