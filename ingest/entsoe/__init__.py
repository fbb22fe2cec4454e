"""ENTSO-E Transparency Platform XML: generation per production type, load, prices."""

from ingest.entsoe.reader import PSR_TYPE_MAP, read_entsoe, to_hourly

__all__ = ["PSR_TYPE_MAP", "read_entsoe", "to_hourly"]
