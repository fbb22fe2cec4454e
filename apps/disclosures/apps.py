from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "apps.disclosures"
    label = "disclosures"
    verbose_name = "Exporter disclosures"
