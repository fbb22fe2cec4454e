"""Thin tasks: sign a checkpoint of the log periodically (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from apps.audit import services


@shared_task(name="audit.checkpoint")
def audit_checkpoint_task() -> int:
    """Sign the current tree if it grew; safe to run twice. Returns the tree size."""
    return services.checkpoint_ensure().tree_size
