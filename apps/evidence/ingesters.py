"""Which service ingests which source: a plain registry (DESIGN §7 sources)."""

from __future__ import annotations

from collections.abc import Callable

from apps.catalogue.services import default_values_ingest
from apps.evidence.services import IngestOutcome
from apps.shipments.services import shipments_ingest

INGESTERS: dict[str, Callable[..., IngestOutcome]] = {
    "defaults": default_values_ingest,
    "customs": shipments_ingest,
}
