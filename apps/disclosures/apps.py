from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "apps.disclosures"
    label = "disclosures"
    verbose_name = "Exporter disclosures"

    def ready(self) -> None:
        # The installation page's section of this area (apps/facilities/panels.py).
        from . import panels  # noqa: F401
