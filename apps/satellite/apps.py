from django.apps import AppConfig


class SatelliteConfig(AppConfig):
    name = "apps.satellite"
    label = "satellite"
    verbose_name = "Satellite evidence"
