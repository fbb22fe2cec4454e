"""The readers by source name, as ``python manage.py ingest <source> PATH`` names them.

Each reader's ``meta["source"]`` equals its key here.
"""

from __future__ import annotations

from ingest.base import Reader
from ingest.cbam_defaults import read_cbam_defaults
from ingest.cbam_report import read_cbam_report
from ingest.customs import read_customs
from ingest.disclosure import read_disclosure
from ingest.emaps_hourly import read_emaps_hourly
from ingest.emission_factors import read_emission_factors
from ingest.entsoe import read_entsoe
from ingest.facilities import read_facilities
from ingest.grid_averages import read_ember, read_ifi
from ingest.raster import read_raster
from ingest.trade_stats import read_trade_stats

SOURCES: dict[str, Reader] = {
    "defaults": read_cbam_defaults,
    "customs": read_customs,
    "trade_stats": read_trade_stats,
    "grid": read_emaps_hourly,
    "entsoe": read_entsoe,
    "factors": read_emission_factors,
    "ember": read_ember,
    "ifi": read_ifi,
    "raster": read_raster,
    "facilities": read_facilities,
    "disclosure": read_disclosure,
    "cbam_report": read_cbam_report,
}
