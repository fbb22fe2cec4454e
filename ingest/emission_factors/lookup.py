"""The factor valid at a time, from a table of :func:`read_emission_factors`.

Rule (Electricity Maps config, shared/data README §3): among the entries of (zone, kind,
mode), the one whose ``valid_from`` is the latest not after ``when`` (an entry without
``valid_from`` is valid from the beginning). A zone with no such entry for the mode falls
back to the global ``_DEFAULT`` entries by the same rule. The answer names which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ingest.emission_factors.reader import DEFAULT_ZONE, UNIT


class FactorNotFound(LookupError):
    """Neither the zone nor ``_DEFAULT`` has an entry of the mode valid at the time."""


@dataclass(frozen=True)
class Factor:
    """One factor and where it came from."""

    value_g_per_kwh: float
    zone: str  # the zone asked for
    zone_used: str  # that zone, or "_DEFAULT"
    kind: str
    mode: str
    valid_from: pd.Timestamp | None  # None: valid always
    source: str
    fallback: bool  # True when the global default was used
    unit: str = UNIT

    @property
    def reason(self) -> str:
        since = "always" if self.valid_from is None else f"from {self.valid_from:%Y-%m-%d}"
        where = (
            f"global default (no {self.zone} entry for {self.mode!r} valid then)"
            if self.fallback
            else f"zone {self.zone} override"
        )
        return f"{self.kind} {self.mode}: {self.value_g_per_kwh!r} {UNIT}, {where}, valid {since}"


def _latest(table: pd.DataFrame, zone: str, kind: str, mode: str, when: pd.Timestamp):
    rows = table[(table["zone"] == zone) & (table["kind"] == kind) & (table["mode"] == mode)]
    valid = rows[rows["valid_from"].isna() | (rows["valid_from"] <= when)]
    if valid.empty:
        return None
    # NaT (always valid) sorts first, so the dated entry not after ``when`` wins over it.
    return valid.sort_values("valid_from", na_position="first", kind="stable").iloc[-1]


def factor_at(table: pd.DataFrame, zone: str, mode: str, kind: str, when: datetime) -> Factor:
    """The factor of ``mode`` in ``zone`` valid at ``when`` (timezone-aware) [gCO2eq/kWh].

    ``factor_at(table, "DE", "coal", "direct", datetime(2024, 6, 1, tzinfo=UTC))`` →
    1080.4 (zones/DE.yaml, "EU-ETS 2025, ENTSO-E 2024"). Raises :class:`FactorNotFound`
    when neither the zone nor ``_DEFAULT`` has an entry valid then, and ``ValueError`` for
    a naive ``when``.
    """
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    stamp = stamp.tz_convert("UTC")
    for candidate in (zone, DEFAULT_ZONE):
        row = _latest(table, candidate, kind, mode, stamp)
        if row is not None:
            valid_from = None if pd.isna(row["valid_from"]) else row["valid_from"]
            return Factor(
                value_g_per_kwh=float(row["value_g_per_kwh"]),
                zone=zone,
                zone_used=candidate,
                kind=kind,
                mode=mode,
                valid_from=valid_from,
                source=str(row["source"]),
                fallback=candidate != zone,
            )
    raise FactorNotFound(
        f"no {kind} factor for {mode!r} in zone {zone} or {DEFAULT_ZONE} valid at {stamp}"
    )
