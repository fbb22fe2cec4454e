"""Customs declaration lines (CSV or XLSX)."""

from ingest.customs.reader import COLUMN_ALIASES, read_customs

__all__ = ["COLUMN_ALIASES", "read_customs"]
