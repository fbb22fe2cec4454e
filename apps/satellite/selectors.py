"""Reads of satellite evidence: observations, activity indices, reconciliation flags."""

from __future__ import annotations


def reconciliation_flags(*, installation_id: int, year: int) -> list[dict]:
    """Open reconciliation flags of an installation for a year, each a dict with
    ``id``, ``period``, ``disclosed`` (value, unit), ``satellite_implied`` (value, unit),
    ``combined_uncertainty``, ``reason``; empty when there is none."""
    return []
