"""Thin tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from apps.shipments import services


@shared_task(name="shipments.export_run", acks_late=True, reject_on_worker_lost=True)
def shipment_export_task(job_id: int) -> bool:
    """Write one export job's file (claimed once: safe to run twice)."""
    return services.shipment_export_run(job_id=job_id)
