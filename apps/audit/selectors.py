from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import AuditEvent


def audit_history(*, object_type: str, object_id: str | int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by(
        "index"
    )
