"""Facility locations and footprints (CSV/XLSX with coordinates, GeoJSON, GeoPackage)."""

from ingest.facilities.reader import BUFFER_M, COLUMN_ALIASES, buffer_footprints, read_facilities

__all__ = ["BUFFER_M", "COLUMN_ALIASES", "buffer_footprints", "read_facilities"]
