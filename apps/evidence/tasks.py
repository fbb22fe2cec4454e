"""Thin tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from apps.evidence import services


@shared_task(name="evidence.ingest_run_execute", acks_late=True, reject_on_worker_lost=True)
def ingest_run_execute_task(run_id: int) -> None:
    services.ingest_run_execute(run_id=run_id)


@shared_task(name="evidence.ingest_runs_reconcile", ignore_result=True)
def ingest_runs_reconcile_task() -> dict[str, int]:
    """On the beat schedule (config/celery.py): send again runs whose message was lost."""
    return services.ingest_runs_reconcile()


@shared_task(
    name="evidence.ingest_chunk_execute", bind=True, acks_late=True, reject_on_worker_lost=True
)
def ingest_chunk_execute_task(self, chunk_id: int) -> None:
    """One chunk of a chunked run (a large customs file); any worker on any host."""
    services.ingest_chunk_execute(chunk_id=chunk_id, worker=self.request.hostname or "")
