"""Thin tasks: sign a checkpoint of the log periodically (Celery beat), and collect the
witnesses' cosignatures of each new checkpoint (docs/integrity.md §4)."""

from __future__ import annotations

from celery import shared_task

from apps.audit import services
from apps.audit.cosigning import WitnessUnavailable, checkpoint_cosign, configured_witnesses
from apps.audit.models import Checkpoint


@shared_task(name="audit.checkpoint")
def audit_checkpoint_task() -> int:
    """Sign the current tree if it grew; safe to run twice. Returns the tree size."""
    checkpoint = services.checkpoint_ensure()
    if configured_witnesses():
        audit_witness_task.delay(checkpoint.pk)
    return checkpoint.tree_size


@shared_task(
    name="audit.witness",
    autoretry_for=(WitnessUnavailable,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def audit_witness_task(checkpoint_id: int) -> dict[str, str]:
    """Ask each configured witness that has not cosigned the checkpoint yet; safe to run
    twice (one cosignature per checkpoint and witness). Retried while one is unreachable."""
    return checkpoint_cosign(checkpoint=Checkpoint.objects.get(pk=checkpoint_id))
