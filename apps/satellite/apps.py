from django.apps import AppConfig


class SatelliteConfig(AppConfig):
    name = "apps.satellite"
    label = "satellite"
    verbose_name = "Satellite evidence"

    def ready(self) -> None:
        # The installation page's section of this area (apps/facilities/panels.py).
        from . import panels  # noqa: F401
