"""Aggregate trade statistics (tonnes and value by CN code × partner × month)."""

from ingest.trade_stats.reader import COLUMN_ALIASES, is_trade_stats, read_trade_stats

__all__ = ["COLUMN_ALIASES", "is_trade_stats", "read_trade_stats"]
