"""Country grid-intensity averages: Ember (JSON) and the IFI default grid factors (CSV)."""

from ingest.grid_averages.reader import read_ember, read_grid_averages, read_ifi

__all__ = ["read_ember", "read_grid_averages", "read_ifi"]
