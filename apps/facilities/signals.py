"""What the registry announces to the areas above it (docs/contributing.md, "Layers")."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after an ingest stored or updated installations (``sender``: the ingest function).
#: The shipments area links the declaration lines that carry their identifiers.
installations_stored = Signal()
