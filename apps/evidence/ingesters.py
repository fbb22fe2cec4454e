"""Which service ingests which source: a plain registry (the sources of docs/interfaces.md).

Values are dotted paths, imported when a run executes, so that each evidence area owns its
service (and the evidence app imports none of them at start-up)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.module_loading import import_string

from apps.evidence.outcome import IngestOutcome

INGESTERS: dict[str, str] = {
    "defaults": "apps.catalogue.services.default_values_ingest",
    "customs": "apps.shipments.services.shipments_ingest",
    "grid": "apps.grid.services.grid_ingest",
    "factors": "apps.grid.services.factors_ingest",
    "raster": "apps.satellite.services.raster_ingest",
    "facilities": "apps.facilities.services.facilities_ingest",
    "disclosure": "apps.disclosures.services.disclosure_ingest",
    "cbam_report": "apps.shipments.declared.cbam_report_ingest",
}


def ingester(source: str) -> Callable[..., IngestOutcome]:
    """The service that ingests ``source`` (KeyError for an unknown source)."""
    return import_string(INGESTERS[source])
