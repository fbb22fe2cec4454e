"""What a source's ingester reports back (apps/evidence/ingesters.py names the ingesters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IngestOutcome:
    """What a source's ingester reports back; the run's counts come from it."""

    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
