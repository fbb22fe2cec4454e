"""Satellite rasters (GeoTIFF, NetCDF): masked, unpacked arrays and their grid."""

from ingest.raster.reader import (
    ALLOWED_DRIVERS,
    MAX_CELLS,
    RasterRejected,
    iter_blocks,
    raster_meta,
    read_raster,
    read_window,
)

__all__ = [
    "ALLOWED_DRIVERS",
    "MAX_CELLS",
    "RasterRejected",
    "iter_blocks",
    "raster_meta",
    "read_raster",
    "read_window",
]
