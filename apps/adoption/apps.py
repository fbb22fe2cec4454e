from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class AdoptionConfig(AppConfig):
    name = "apps.adoption"
    label = "adoption"

    def ready(self) -> None:
        checks.register(coalition_configuration_check)


def coalition_configuration_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """CM_COALITION_KEYS and CM_ADOPTION_THRESHOLD read at start-up (docs/adoption.md)."""
    from django.core.exceptions import ImproperlyConfigured

    from apps.adoption.selectors import coalition

    try:
        coalition()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="adoption.E001")]
    return []
