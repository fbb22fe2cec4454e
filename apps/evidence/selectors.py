"""Reads of evidence and ingest runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.evidence.models import IngestRun

FINAL = (IngestRun.Status.DONE, IngestRun.Status.FAILED)


class IngestTimeout(Exception):
    pass


def ingest_run_wait(
    *,
    run: IngestRun,
    timeout: float | None = None,
    on_change: Callable[[IngestRun], None] | None = None,
    poll: float = 0.2,
) -> IngestRun:
    """Wait until a run is done or failed (it may be executing in another process);
    ``on_change`` is called whenever its status or progress counts change."""
    started = time.monotonic()
    last = None
    while True:
        run.refresh_from_db()
        if run.status in FINAL:
            return run
        progress = (run.status, run.rows_read, run.accepted, run.rejected)
        if on_change and progress != last:
            on_change(run)
            last = progress
        if timeout is not None and time.monotonic() - started > timeout:
            raise IngestTimeout(f"run {run.pk} still {run.status} after {timeout:.0f} s")
        time.sleep(poll)


def ingest_run_report(run: IngestRun, *, max_errors: int = 50) -> list[str]:
    """The human report of a finished run: counts, then one line per row error."""
    name = run.name
    if run.status == IngestRun.Status.FAILED:
        return [f"{name}: nothing could be read: {run.failure}"]
    lines = [
        f"{name} (sha256 {run.evidence.sha256[:12]}…): read {run.rows_read}, accepted "
        f"{run.accepted}, rejected {run.rejected}, duplicates {run.duplicates}"
    ]
    lines += [
        f"  {name}:{e['line']}: {e['field']}={e['value']!r}: {e['reason']}"
        for e in run.errors[:max_errors]
    ]
    if len(run.errors) > max_errors:
        lines.append(f"  … and {len(run.errors) - max_errors} more in the run's error report")
    return lines


def ingest_run_list(*, user: User) -> QuerySet[IngestRun]:
    """Officials, auditors and admins see every run; an exporter sees the runs its own
    organisation's users started. (Not by the evidence file: the same bytes uploaded by two
    organisations are stored once.)"""
    runs = IngestRun.objects.order_by("-created_at")
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return runs.none()
        return runs.filter(requested_by__organisation_id=user.organisation_id)
    return runs
