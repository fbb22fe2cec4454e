from __future__ import annotations

from django.apps import AppConfig


class PactConfig(AppConfig):
    name = "apps.pact"
    label = "pact"
    verbose_name = "PACT product-footprint exchange"
