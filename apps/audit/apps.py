from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        checks.register(witness_configuration_check)


def witness_configuration_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """CM_WITNESS_LOGS, CM_WITNESSES and the key names read at start-up, not at the first
    request (docs/integrity.md §4)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from apps.audit.cosigning import configured_witnesses
    from apps.audit.witness import witnessed_logs
    from verifier.errors import FormatError
    from verifier.note import check_key_name

    errors = []
    for read in (
        witnessed_logs,
        configured_witnesses,
        lambda: check_key_name(settings.AUDIT_LOG_ORIGIN),
        lambda: check_key_name(settings.WITNESS_NAME),
    ):
        try:
            read()
        except (ImproperlyConfigured, FormatError) as exc:
            errors.append(checks.Error(str(exc), id="audit.E001"))
    return errors
