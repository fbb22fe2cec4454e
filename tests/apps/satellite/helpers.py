"""Synthetic rasters and installations for the satellite platform tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import Affine

from apps.facilities.models import Installation
from ingest.facilities import buffer_footprints

ROOT = Path(__file__).resolve().parents[3]
RASTERS = ROOT / "fixtures" / "rasters"
UTM = "EPSG:32631"  # UTM zone 31N
# 30 m pixels, upper-left corner at (500 000 E, 5 000 000 N): about 3.0° E, 45.1° N.
TRANSFORM = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 5_000_000.0)


def write_geotiff(
    path: Path,
    array: np.ndarray,
    *,
    crs: str = UTM,
    transform: Affine = TRANSFORM,
    nodata: float | None = None,
    time: str | None = None,
    variable: str | None = None,
    blocksize: int | None = None,
) -> Path:
    """A GeoTIFF of ``array`` (bands, rows, cols) or (rows, cols); ``time`` and ``variable``
    become the metadata items the raster reader takes them from."""
    data = array if array.ndim == 3 else array[np.newaxis]
    profile = dict(
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=data.shape[0],
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    )
    if blocksize:
        profile.update(tiled=True, blockxsize=blocksize, blockysize=blocksize)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        tags = {}
        if time:
            tags["time"] = time
        if variable:
            tags["variable"] = variable
        if tags:
            dst.update_tags(**tags)
    return path


def lonlat_of_pixel(col: float, row: float, *, crs: str = UTM, transform=TRANSFORM):
    x, y = transform @ (col, row)
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)


def installation_at(identifier: str, lon: float, lat: float, *, organisation=None, **extra):
    """An installation with the default 500 m geodesic buffer as its footprint."""
    footprint = buffer_footprints(np.array([lon]), np.array([lat]))[0]
    return Installation.objects.create(
        identifier=identifier,
        name=extra.pop("name", identifier),
        organisation=organisation,
        country=extra.pop("country", "FR"),
        latitude=lat,
        longitude=lon,
        footprint_geojson=json.loads(shapely.to_geojson(footprint)),
        footprint_source="buffer_500m",
        **extra,
    )
