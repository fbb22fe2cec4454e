from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "apps.grid"
    label = "grid"
    verbose_name = "Grid telemetry and hydrogen"
