"""Reader for satellite rasters: GeoTIFF and NetCDF (classic or netCDF-4), through GDAL.

``data`` is a :class:`numpy.ma.MaskedArray` of shape (bands, rows, cols): a light object
rather than an xarray DataArray, because the zonal engine (:mod:`methodologies.zonal`)
works on plain arrays and the grid (CRS, transform) travels in ``meta``. Masked = invalid:

- CF packing (CF-1.6 §8.1): ``x = raw × scale_factor + add_offset``; the unpacked array is
  float64 (the file's dtype is kept when there is no scale or offset);
- masked where GDAL's mask of the band says the pixel is invalid, whatever kind of mask the
  band has (GDAL RFC 15, ``GDALGetMaskFlags``: ``GMF_NODATA`` a nodata value,
  ``GMF_PER_DATASET`` one mask shared by all bands, such as a GeoTIFF's internal mask that
  leaves out the space around the Earth's disk in a geostationary scene, ``GMF_ALPHA`` an
  alpha band, 0 = transparent; ``GMF_ALL_VALID`` none): rasterio's ``read_masks``, 0 =
  invalid. ``meta["mask_flags"]`` names each band's flags;
- masked where the raw value equals a fill value (``_FillValue``, ``missing_value``, GDAL's
  nodata, or the ``nodata`` attribute rioxarray writes), compared in packed units as CF
  says, and where the value is NaN.

Grids: any CRS GDAL or PROJ can read, EPSG or not (``meta["crs"]`` is WKT,
``meta["crs_epsg"]`` the EPSG code or None; a geostationary ``+proj=geos`` or a MODIS
sinusoidal CRS stored as a PROJ string in the variable's ``crs`` attribute both work).
Multi-band and time-stacked files become bands; a NetCDF's extra dimension (time) gives
``meta["times"]`` (CF time units decoded, ISO 8601 UTC). A NetCDF with several variables:
pass ``variable=``; by default the first one is read and ``meta["variables"]`` lists all.

Safety, checked BEFORE any pixel is read (:func:`open_checked`):

- the path must be a regular local file: URLs, GDAL virtual paths (``/vsi…``) and
  subdataset syntax (``NETCDF:…``) are refused;
- the file's first bytes must say GeoTIFF/BigTIFF or NetCDF/HDF5 and GDAL must open it with
  the driver those bytes name (:data:`ALLOWED_DRIVERS`); VRT (which can point at other files
  and URLs) is refused;
- width × height × bands from the header must not exceed ``max_cells``
  (:data:`MAX_CELLS` by default);
- sibling files (``.aux.xml``, ``.ovr``) are ignored, so the content hash of the file alone
  determines what is read.

A truncated or corrupt file raises :class:`~ingest.base.UnreadableFile` naming the file.
Large rasters: :func:`iter_blocks` yields (window, masked block) in windows aligned to the
file's internal blocks, so a raster larger than memory is processed block by block.

``meta`` keys: ``source``, ``path``, ``format`` (``GTiff``/``netCDF``), ``variable``,
``variables``, ``crs``, ``crs_epsg``, ``transform`` (a, b, c, d, e, f), ``shape`` (bands,
rows, cols), ``dtype`` (the file's), ``nodata`` (fill values masked, packed units),
``scale``, ``offset`` (per band), ``units``, ``bands`` (band names), ``times`` (or None),
``mask_flags`` (per band, GDAL's mask flags: ``nodata``, ``per_dataset``, ``alpha``,
``all_valid``), ``acquired`` (a GeoTIFF's acquisition time from its ``time`` metadata or
TIFF DateTime tag),
``valid_cells``, ``masked_cells``; and, as the reader contract wants, ``rows_read`` /
``rows_accepted`` (a raster "row" is a band), ``rows_rejected`` 0, ``errors`` [].
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from ingest.base import IngestError, UnreadableFile

SOURCE = "raster"
#: GDAL drivers accepted, by the file signature that selects them.
ALLOWED_DRIVERS = ("GTiff", "netCDF")
#: Largest width × height × bands accepted from a header [cells]; a parameter of every reader.
MAX_CELLS = 2_000_000_000
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "GTiff"),
    (b"MM\x00*", "GTiff"),
    (b"II+\x00", "GTiff"),  # BigTIFF
    (b"MM\x00+", "GTiff"),
    (b"CDF\x01", "netCDF"),
    (b"CDF\x02", "netCDF"),
    (b"CDF\x05", "netCDF"),
    (b"\x89HDF\r\n\x1a\n", "netCDF"),  # netCDF-4 is HDF5
)
# GDAL configuration while reading: no sibling-file scan, no .aux.xml side files, no network.
_GDAL_ENV = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".none",
}
_GDAL_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]+:")


class RasterRejected(IngestError):
    """A raster refused before reading: unsafe path, format or size; the message says why."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: raster refused: {reason}")


def _gdal_errors() -> tuple[type[BaseException], ...]:
    from rasterio._err import CPLE_BaseError  # GDAL's own errors, raised by rasterio

    return (RasterioError, CPLE_BaseError, OSError)


def check_path(path: str | Path) -> tuple[Path, str]:
    """The local file ``path`` and its format from its signature; raises :class:`RasterRejected`
    for URLs, ``/vsi`` paths, GDAL subdataset syntax, VRT and other formats, and
    :class:`UnreadableFile` when the file is missing or empty."""
    text = str(path)
    if "://" in text or text.lower().startswith("/vsi") or _GDAL_PREFIX.match(text):
        raise RasterRejected(path, "only local file paths are accepted (no URL, /vsi or driver:)")
    local = Path(text)
    if not local.is_file():
        raise UnreadableFile(path, "no such file")
    with local.open("rb") as handle:
        head = handle.read(16)
    if not head:
        raise UnreadableFile(path, "the file is empty")
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return local, kind
    if head.lstrip().startswith(b"<VRTDataset") or head.lstrip().startswith(b"<"):
        raise RasterRejected(
            path, "VRT/XML rasters are not accepted (they can reference other files)"
        )
    raise RasterRejected(
        path, "not a GeoTIFF or NetCDF file (accepted: " + ", ".join(ALLOWED_DRIVERS) + ")"
    )


@contextmanager
def open_checked(
    path: str | Path, *, variable: str | None = None, max_cells: int = MAX_CELLS
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Open ``path`` after the checks of the module docstring: yields (rasterio dataset of the
    chosen variable, meta without the pixel counts). Nothing is read but headers."""
    local, kind = check_path(path)
    with rasterio.Env(**_GDAL_ENV):
        try:
            with warnings.catch_warnings():
                # a NetCDF's container has no grid of its own; its variables do
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                root = rasterio.open(local, driver=kind)
        except _gdal_errors() as exc:
            raise UnreadableFile(path, f"truncated or corrupt {kind} file ({exc})") from exc
        try:
            if root.driver not in ALLOWED_DRIVERS:
                raise RasterRejected(path, f"driver {root.driver} is not allowed")
            variables = _variables(root)
            ds = root
            if root.subdatasets:
                chosen = variable or variables[0]
                if chosen not in variables:
                    raise RasterRejected(
                        path, f"no variable {chosen!r}; variables: {', '.join(variables)}"
                    )
                name = root.subdatasets[variables.index(chosen)]
                try:
                    ds = rasterio.open(name, driver=kind)
                except _gdal_errors() as exc:
                    raise UnreadableFile(path, f"variable {chosen!r} unreadable ({exc})") from exc
            try:
                cells = ds.width * ds.height * ds.count
                if cells > max_cells:
                    raise RasterRejected(
                        path,
                        f"{ds.count} band(s) × {ds.height} × {ds.width} = {cells} cells exceed "
                        f"the budget of {max_cells} (read it block by block with iter_blocks "
                        "and a larger max_cells)",
                    )
                yield ds, _meta(path, kind, ds, root, variables)
            finally:
                if ds is not root:
                    ds.close()
        finally:
            root.close()


def _variables(root: Any) -> list[str]:
    if not root.subdatasets:
        tag = root.tags(1).get("NETCDF_VARNAME") if root.count else None
        return [tag] if tag else []
    return [name.rsplit(":", 1)[-1] for name in root.subdatasets]


def _number(text: str | None) -> float | None:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value


def _crs(ds: Any, tags: dict[str, str], band_tags: dict[str, str]) -> str | None:
    if ds.crs is not None:
        return ds.crs.to_wkt()
    # Fallbacks GDAL does not apply: a CRS written as an attribute of the variable
    # (rioxarray's "crs", "spatial_ref", "crs_wkt") or of its grid-mapping variable.
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    mapping = band_tags.get("grid_mapping", "")
    for text in (
        band_tags.get("crs"),
        band_tags.get("spatial_ref"),
        band_tags.get("crs_wkt"),
        tags.get(f"{mapping}#spatial_ref"),
        tags.get(f"{mapping}#crs_wkt"),
    ):
        if text:
            try:
                return CRS.from_user_input(text).to_wkt()
            except CRSError:
                continue
    return None


def _transform(ds: Any, band_tags: dict[str, str]) -> tuple[float, ...]:
    t = ds.transform
    if not t.is_identity:
        return tuple(t)[:6]
    # rioxarray's "transform" attribute: {a,b,c,d,e,f,0,0,1}
    text = band_tags.get("transform", "")
    numbers = [_number(v) for v in re.split(r"[\s,{}\[\]]+", text) if v]
    if len(numbers) >= 6 and all(v is not None for v in numbers[:6]):
        return tuple(numbers[:6])
    return tuple(t)[:6]


def _times(tags: dict[str, str], band_tags: list[dict[str, str]]) -> list[str] | None:
    extra = tags.get("NETCDF_DIM_EXTRA", "").strip("{}").split(",")
    dim = extra[0] if extra and extra[0] else None
    if dim is None:
        return None
    values = [_number(bt.get(f"NETCDF_DIM_{dim}")) for bt in band_tags]
    units = tags.get(f"{dim}#units")
    if units is None or any(v is None for v in values) or " since " not in units:
        return [str(v) for v in values]
    import cftime

    dates = cftime.num2date(
        values,
        units,
        calendar=tags.get(f"{dim}#calendar", "standard"),
        only_use_cftime_datetimes=False,
        only_use_python_datetimes=True,
    )
    # CF §4.4: a reference time without a time zone is UTC.
    return [d.replace(tzinfo=UTC).isoformat() for d in np.atleast_1d(dates)]


def _meta(path: str | Path, kind: str, ds: Any, root: Any, variables: list[str]) -> dict:
    tags = ds.tags()
    band_tags = [ds.tags(i) for i in range(1, ds.count + 1)]
    first = band_tags[0] if band_tags else {}
    fills: list[float] = []
    for candidate in (
        *ds.nodatavals,
        _number(first.get("_FillValue")),
        _number(first.get("missing_value")),
        _number(first.get("nodata")),
    ):
        if (
            candidate is not None
            and candidate not in fills
            and not (isinstance(candidate, float) and math.isnan(candidate))
        ):
            fills.append(float(candidate))
    crs = _crs(ds, tags, first)
    epsg = None
    if crs is not None:
        from pyproj import CRS

        epsg = CRS.from_wkt(crs).to_epsg()
    times = _times(tags, band_tags) if kind == "netCDF" else None
    names = [d or (times[i] if times else str(i + 1)) for i, d in enumerate(ds.descriptions)]
    variable = (
        first.get("NETCDF_VARNAME")
        or (variables[0] if variables else None)
        or tags.get("variable")
        or None
    )
    return {
        "source": SOURCE,
        "path": str(path),
        "format": kind,
        "variable": variable,
        "variables": variables,
        "crs": crs,
        "crs_epsg": epsg,
        "transform": _transform(ds, first),
        "shape": (ds.count, ds.height, ds.width),
        "dtype": ds.dtypes[0],
        "nodata": fills,
        "scale": [float(s) for s in ds.scales],
        "offset": [float(o) for o in ds.offsets],
        "units": first.get("units") or (ds.units[0] if ds.units and ds.units[0] else None),
        "bands": names,
        "times": times,
        "acquired": _acquired(tags) if times is None else None,
        "block_shape": tuple(ds.block_shapes[0]) if ds.block_shapes else None,
        "mask_flags": [sorted(flag.name for flag in flags) for flags in ds.mask_flag_enums],
        "rows_read": ds.count,
        "rows_accepted": ds.count,
        "rows_rejected": 0,
        "errors": [],
    }


def _acquired(tags: dict[str, str]) -> str | None:
    """Acquisition time of a GeoTIFF scene (ISO 8601 UTC) from its ``time`` or
    ``acquisition_time`` metadata item (ISO 8601) or the TIFF ``DateTime`` tag
    ("YYYY:MM:DD HH:MM:SS", TIFF 6.0 §8, taken as UTC); None when the file says nothing."""
    from datetime import datetime

    for key in ("time", "acquisition_time", "TIFFTAG_DATETIME"):
        text = (tags.get(key) or "").strip()
        if not text:
            continue
        if key == "TIFFTAG_DATETIME":
            text = text.replace(":", "-", 2).replace(" ", "T", 1)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return None


def _read(ds: Any, path: str | Path, bands: list[int], window: Window | None = None):
    """Raw pixels and GDAL's validity masks (0 = invalid) of ``bands`` inside ``window``,
    both (bands, rows, cols)."""
    try:
        raw = ds.read(bands, window=window)
        valid = ds.read_masks(bands, window=window)
    except _gdal_errors() as exc:
        where = "" if window is None else f" at {window}"
        raise UnreadableFile(path, f"truncated or corrupt pixel data{where} ({exc})") from exc
    return raw, valid


def _unpack(
    raw: np.ndarray, meta: dict, bands: list[int], valid: np.ndarray | None = None
) -> np.ma.MaskedArray:
    """Mask what GDAL's masks call invalid (``valid`` == 0), fill values and NaN (packed
    units), then apply scale and offset per band."""
    mask = np.zeros(raw.shape, dtype=bool) if valid is None else valid == 0
    for fill in meta["nodata"]:
        if _fits(fill, raw.dtype):
            mask |= raw == np.asarray(fill).astype(raw.dtype)
    if raw.dtype.kind == "f":
        mask |= np.isnan(raw)
    scale = np.array([meta["scale"][b - 1] for b in bands])
    offset = np.array([meta["offset"][b - 1] for b in bands])
    if np.all(scale == 1.0) and np.all(offset == 0.0):
        data = raw
    else:
        shape = (-1,) + (1,) * (raw.ndim - 1)
        data = raw.astype(np.float64) * scale.reshape(shape) + offset.reshape(shape)
    return np.ma.MaskedArray(data, mask=mask)


def _fits(value: float, dtype: np.dtype) -> bool:
    """Whether ``value`` is exactly representable in ``dtype`` (else no cell can equal it)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(value).is_integer() and info.min <= value <= info.max
    return True


def read_raster(
    path: str | Path, *, variable: str | None = None, max_cells: int = MAX_CELLS
) -> tuple[np.ma.MaskedArray, dict]:
    """Read a GeoTIFF or NetCDF raster: ``(data, meta)`` as the module docstring says.

    ``data``: masked array (bands, rows, cols), unpacked to physical units. Raises
    :class:`RasterRejected` (unsafe path or format, over ``max_cells``) and
    :class:`~ingest.base.UnreadableFile` (missing, truncated or corrupt file).
    """
    with open_checked(path, variable=variable, max_cells=max_cells) as (ds, meta):
        bands = list(range(1, ds.count + 1))
        raw, valid = _read(ds, path, bands)
    data = _unpack(raw, meta, bands, valid)
    masked = int(np.ma.count_masked(data))
    meta["masked_cells"] = masked
    meta["valid_cells"] = int(data.size - masked)
    return data, meta


def iter_blocks(
    path: str | Path,
    band: int = 1,
    window_size: int | tuple[int, int] | None = None,
    *,
    variable: str | None = None,
    max_cells: int = MAX_CELLS,
) -> Iterator[tuple[Window, np.ma.MaskedArray]]:
    """Yield ``(window, block)`` covering band ``band`` (1-based) of the raster, row by row of
    windows; ``block`` is unpacked and masked like :func:`read_raster`'s data (2-D).

    ``window_size`` is rows × cols (an int for a square); by default the file's internal
    block shape stretched to about 16 M cells, rounded to whole blocks, so each block of
    the file is read once. Memory stays at one window whatever the raster's size.
    """
    with open_checked(path, variable=variable, max_cells=max_cells) as (ds, meta):
        if not 1 <= band <= ds.count:
            raise RasterRejected(path, f"band {band} does not exist (the file has {ds.count})")
        block_rows, block_cols = ds.block_shapes[band - 1]
        if window_size is None:
            across = max(1, min(ds.width, 4096) // block_cols)
            down = max(1, (16_000_000 // max(1, across * block_cols)) // block_rows)
            size = (down * block_rows, across * block_cols)
        elif isinstance(window_size, int):
            size = (window_size, window_size)
        else:
            size = (int(window_size[0]), int(window_size[1]))
        if size[0] < 1 or size[1] < 1:
            raise ValueError(f"window_size must be positive, got {window_size}")
        for row in range(0, ds.height, size[0]):
            for col in range(0, ds.width, size[1]):
                window = Window(
                    col, row, min(size[1], ds.width - col), min(size[0], ds.height - row)
                )
                raw, valid = _read(ds, path, [band], window)
                yield window, _unpack(raw, meta, [band], valid)[0]


def read_window(
    path: str | Path,
    window: Window | tuple[tuple[int, int], tuple[int, int]],
    *,
    variable: str | None = None,
    max_cells: int = MAX_CELLS,
) -> np.ma.MaskedArray:
    """All bands of the raster inside ``window`` (a rasterio ``Window`` or
    ((row_off, col_off), (height, width))), unpacked and masked like :func:`read_raster`:
    shape (bands, height, width). One tile of a scene split for parallel workers."""
    if not isinstance(window, Window):
        (row_off, col_off), (height, width) = window
        window = Window(col_off, row_off, width, height)
    with open_checked(path, variable=variable, max_cells=max_cells) as (ds, meta):
        bands = list(range(1, ds.count + 1))
        raw, valid = _read(ds, path, bands, window)
    return _unpack(raw, meta, bands, valid)


def raster_meta(
    path: str | Path, *, variable: str | None = None, max_cells: int = MAX_CELLS
) -> dict:
    """The ``meta`` of :func:`read_raster` from the headers alone (no pixel counts)."""
    with open_checked(path, variable=variable, max_cells=max_cells) as (_, meta):
        return meta
