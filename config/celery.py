"""The Celery application. Tasks live in ``apps/<area>/tasks.py`` and are thin."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("carbon_manifest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _evidence_schedule(sender: Celery, **kwargs) -> None:
    """Issue #16, item 6: a broker that keeps nothing on disk loses queued messages on a
    restart; the reconciler sends their runs again (apps.evidence.services)."""
    sender.add_periodic_task(
        float(os.environ.get("CM_INGEST_RECONCILE_INTERVAL_S", "60")),
        sender.signature("evidence.ingest_runs_reconcile"),
        name="evidence-ingest-runs-reconcile",
    )
