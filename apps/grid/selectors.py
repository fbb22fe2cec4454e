"""Reads of grid evidence: factors and hourly intensities with their fallback chain."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GridFactor:
    """The electricity emission factor used for one installation and period.

    ``value_t_per_mwh`` [tCO2e/MWh]; ``kind`` "direct" or "lifecycle"; ``source`` a citation;
    ``valid_from``/``valid_to`` ISO dates; ``steps`` the fallback chain walked, e.g.
    ``["zone DE: no data", "country DE: Ember 2024"]``; ``gap_filled`` true when any hour
    used was gap-filled; ``evidence_sha256`` the file(s) the values came from."""

    value_t_per_mwh: float
    kind: str
    source: str
    valid_from: str
    valid_to: str
    steps: list[str] = field(default_factory=list)
    gap_filled: bool = False
    evidence_sha256: list[str] = field(default_factory=list)


def grid_factor_lookup(
    *, zone: str, country: str, year: int, kind: str = "direct"
) -> GridFactor:
    """The factor for (zone, year): installation zone → country → world average.

    Raises :class:`LookupError` when no step of the chain has data."""
    raise LookupError(f"no grid data for zone {zone!r} / country {country!r} in {year}")
