"""What the registry announces to the areas above it (docs/contributing.md, "Layers")."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after an ingest stored or updated installations (``sender``: the ingest function;
#: ``source``: the tracker, such as ``gem_steel``, or "" for another registry file). The
#: shipments area links the declaration lines that carry their identifiers; the estimates
#: area models a tracker's operating plants (docs/modelled.md).
installations_stored = Signal()

#: Sent when a person confirms an exporter–installation link or undoes one, inside the
#: decision's transaction (``organisation_id``, ``actor``): the plants the exporter's
#: shipments reach changed, so the shipments area re-chooses both figures.
installation_links_changed = Signal()

#: Sent after a modelling run stored the modelled rung (``installation_ids``: the plants
#: modelled, ``actor``): the shipments that reach them re-choose their best estimate.
installations_modelled = Signal()
