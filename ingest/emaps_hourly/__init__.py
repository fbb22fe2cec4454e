"""Electricity Maps hourly carbon-intensity exports (direct and life-cycle gCO2eq/kWh)."""

from ingest.emaps_hourly.reader import COLUMN_ALIASES, read_emaps_hourly

__all__ = ["COLUMN_ALIASES", "read_emaps_hourly"]
