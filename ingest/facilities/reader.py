"""Reader for facility locations and footprints: CSV/XLSX with latitude and longitude (the WRI
Global Power Plant Database layout among others), GeoJSON or GeoPackage.

Headers are matched through :data:`COLUMN_ALIASES` (case, spaces and punctuation ignored), so
the WRI GPPD files (``country, country_long, name, gppd_idnr, capacity_mw, latitude,
longitude, primary_fuel, …, owner, …``; https://github.com/wri/global-power-plant-database)
read as they are.

Footprint: a declared polygon when the file has one (a GeoJSON/GeoPackage Polygon or
MultiPolygon, or a ``footprint_wkt`` column in a table), ``footprint_source = "declared"``;
otherwise the disc of geodesic radius :data:`BUFFER_M` (500 m) around the point:
:data:`BUFFER_VERTICES` points at equal azimuths and 500 m geodesic distance on WGS 84
(pyproj ``Geod.fwd``), which is the 500 m circle of the azimuthal-equidistant projection
centred on the facility, so it is metric everywhere (the polygon's area is
0.9984 × π·500², an inscribed 64-gon); ``footprint_source = "buffer_500m"``.

Output: a GeoDataFrame in EPSG:4326, one row per valid facility, columns :data:`COLUMNS`:
``facility_id`` str, ``name`` str, ``country`` ISO 3166-1 alpha-2 ("" if the file gives
none), ``owner`` str, ``capacity_mw`` float64 (NaN if absent), ``primary_fuel`` str,
``latitude``, ``longitude`` [degrees, WGS 84] of the facility's point (a declared
footprint's representative point when the file gives no point), ``footprint_source``,
optional ``reference_production_t`` [t/year] (NaN if absent), ``routes`` (text, routes
separated by ";" or ","), ``grid_zone`` (text), the registry fields ``parent`` (text,
"Name [60%]; Other [40%]" as GEM writes stakes), ``status`` (lower case),
``start_year`` and ``capacity_t`` [t/year] (NaN if absent),
``source_line`` (CSV: physical line, header = 1; GeoJSON/GeoPackage: 1-based feature
number) and ``geometry`` (the footprint).

Row errors (the row is left out, valid rows are kept): no identifier; no coordinates
(and no footprint); latitude outside [-90, 90] or longitude outside [-180, 180]; a number
that is not one; an unknown country; a footprint that is not a valid polygon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ingest.base import MissingColumns, RowError, UnreadableFile
from ingest.countries import to_iso2
from ingest.tabular import load_table, map_unique, match_columns, parse_numbers, row_errors, strip

SOURCE = "facilities"
#: Radius of the default footprint [m] and the number of its vertices.
BUFFER_M = 500.0
BUFFER_VERTICES = 64
BUFFER_SOURCE = "buffer_500m"
GEO_SUFFIXES = {".geojson", ".json", ".gpkg"}

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": (
        "facility_id",
        "gppd_idnr",
        "installation_id",
        "plant_id",
        "identifier",
        "id",
    ),
    "name": ("name", "facility_name", "plant_name", "installation_name"),
    "country": ("country", "country_code", "iso2", "iso3", "country_long", "country_name"),
    "owner": ("owner", "operator", "company"),
    "capacity_mw": ("capacity_mw", "capacity (mw)", "capacity"),
    "primary_fuel": ("primary_fuel", "fuel", "main_fuel"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng", "long"),
    "footprint_wkt": ("footprint_wkt", "footprint", "wkt", "geometry_wkt"),
    "reference_production_t": (
        "reference_production_t",
        "annual_production_t",
        "production_t",
    ),
    "routes": ("routes", "route", "production_route"),
    "grid_zone": ("grid_zone", "zone", "bidding_zone"),
    # Registry fields, as GEM's trackers give them (aluminium smelters, fertiliser and
    # hydrogen plants from other registries come in through this reader).
    "parent": ("parent", "parent_company", "parent_name"),
    "status": ("status", "operating_status"),
    "start_year": ("start_year", "year_started", "start year"),
    "capacity_t": ("capacity_t", "capacity_t_per_year", "annual_capacity_t"),
}
COLUMNS = [
    "facility_id",
    "name",
    "country",
    "owner",
    "capacity_mw",
    "primary_fuel",
    "latitude",
    "longitude",
    "footprint_source",
    "reference_production_t",
    "routes",
    "grid_zone",
    "parent",
    "status",
    "start_year",
    "capacity_t",
    "source_line",
    "geometry",
]


def buffer_footprints(
    longitude: np.ndarray, latitude: np.ndarray, radius_m: float = BUFFER_M
) -> np.ndarray:
    """Geodesic discs of ``radius_m`` [m] around the points [degrees, WGS 84], as polygons of
    :data:`BUFFER_VERTICES` vertices (the module docstring says why this is metric)."""
    from pyproj import Geod

    lon = np.asarray(longitude, dtype=float)
    lat = np.asarray(latitude, dtype=float)
    n = len(lon)
    azimuth = np.linspace(0.0, -360.0, BUFFER_VERTICES, endpoint=False)  # anticlockwise
    lons, lats, _ = Geod(ellps="WGS84").fwd(
        np.repeat(lon, BUFFER_VERTICES),
        np.repeat(lat, BUFFER_VERTICES),
        np.tile(azimuth, n),
        np.full(n * BUFFER_VERTICES, radius_m),
    )
    ring = np.stack([lons, lats], axis=-1).reshape(n, BUFFER_VERTICES, 2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def _sniff_geo(path: Path) -> str | None:
    """ "gpkg" or "geojson" from the file's first bytes (content-addressed evidence files
    have no suffix), else None."""
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "geojson"
    return None


def _geo_table(path: Path) -> tuple[list[str], pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Properties as text, feature numbers and geometries (EPSG:4326) of a GeoJSON/GPKG."""
    import warnings

    import geopandas as gpd

    try:
        with warnings.catch_warnings():
            # evidence files are stored without a suffix; GDAL notes it for GeoPackages
            warnings.filterwarnings("ignore", message=".*non conformant file extension")
            frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError and others
        raise UnreadableFile(path, f"not a readable GeoJSON or GeoPackage ({exc})") from exc
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    headers = [str(c) for c in frame.columns if c != frame.geometry.name]
    cells = frame[headers].astype(object).where(frame[headers].notna(), "").astype(str)
    cells.columns = range(len(headers))
    lines = np.arange(1, len(frame) + 1)
    fmt = "gpkg" if path.suffix.lower() == ".gpkg" or _sniff_geo(path) == "gpkg" else "geojson"
    return headers, cells.reset_index(drop=True), lines, frame.geometry.to_numpy(), {"format": fmt}


def read_facilities(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read facilities: ``(GeoDataFrame, meta)`` as the module docstring says.

    ``meta`` adds ``columns`` (field → header used), ``ignored_columns`` and
    ``footprints`` ({"declared": n, "buffer_500m": m}). Raises :class:`MissingColumns` when
    there is no identifier column or no way to place facilities (latitude and longitude,
    a footprint column, or a geometry).
    """
    import geopandas as gpd

    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    if path.suffix.lower() in GEO_SUFFIXES or _sniff_geo(path):
        headers, cells, lines, geoms, extra = _geo_table(path)
    else:
        table = load_table(path)
        headers, cells, lines, geoms = table.headers, table.frame, table.lines, None
        extra = dict(table.meta)
        errors_before = list(table.errors)
    columns, ignored = match_columns(path, headers, COLUMN_ALIASES)
    placed = ("latitude" in columns and "longitude" in columns) or "footprint_wkt" in columns
    missing = [] if "facility_id" in columns else ["facility_id (gppd_idnr, id, …)"]
    if not placed and geoms is None:
        missing.append("latitude and longitude (or footprint_wkt)")
    if missing:
        raise MissingColumns(path, missing, headers)

    n = len(cells)
    errors: list[RowError] = [] if geoms is not None else errors_before
    reject = np.zeros(n, dtype=bool)

    def raw(name: str) -> pd.Series:
        if name not in columns:
            return pd.Series([""] * n, index=cells.index, dtype=str)
        return cells[columns[name]].astype(str)

    def check(mask: np.ndarray, name: str, values: pd.Series, reason) -> None:
        errors.extend(row_errors(mask, lines, values, name, reason))
        reject[mask] = True

    facility_id = strip(raw("facility_id"))
    check((facility_id == "").to_numpy(), "facility_id", facility_id, "facility id is empty")

    country_text = strip(raw("country"))
    country = map_unique(country_text, lambda v: (to_iso2(v) or "?") if v else "")
    check(
        country == "?",
        "country",
        country_text,
        lambda v: f"unknown country '{v}' (write an ISO code or an English name)",
    )

    production_text = strip(raw("reference_production_t"))
    production, _, bad = parse_numbers(production_text, "point")
    check(
        bad | (np.isfinite(production) & (production < 0)),
        "reference_production_t",
        production_text,
        lambda v: f"reference production '{v}' is not a number >= 0",
    )

    # Registry fields: a bad cell is a row error, and the facility is kept without it.
    capacity_t_text = strip(raw("capacity_t"))
    capacity_t, _, bad = parse_numbers(capacity_t_text, "point")
    bad |= np.isfinite(capacity_t) & (capacity_t < 0)
    errors.extend(
        row_errors(
            bad,
            lines,
            capacity_t_text,
            "capacity_t",
            lambda v: (
                f"capacity '{v}' is not a number of tonnes a year >= 0; kept the "
                "facility without it"
            ),
        )
    )
    capacity_t[bad] = np.nan
    year_text = strip(raw("start_year"))
    start_year, _, bad = parse_numbers(year_text, "point")
    bad |= np.isfinite(start_year) & (
        (start_year != np.floor(start_year)) | (start_year < 1000) | (start_year > 2100)
    )
    errors.extend(
        row_errors(
            bad,
            lines,
            year_text,
            "start_year",
            lambda v: f"start year '{v}' is not a year; kept the facility without it",
        )
    )
    start_year[bad] = np.nan

    capacity_text = strip(raw("capacity_mw"))
    capacity, _, bad = parse_numbers(capacity_text, "point")
    check(bad, "capacity_mw", capacity_text, lambda v: f"capacity '{v}' is not a number")

    # Declared footprints: the file's polygons, or WKT in a table.
    footprint = np.full(n, None, dtype=object)
    point_lon = np.full(n, np.nan)
    point_lat = np.full(n, np.nan)
    if geoms is not None:
        kind = shapely.get_type_id(geoms)
        is_point = kind == 0
        point_lon[is_point] = shapely.get_x(geoms[is_point])
        point_lat[is_point] = shapely.get_y(geoms[is_point])
        is_poly = np.isin(kind, (3, 6))
        footprint[is_poly] = geoms[is_poly]
        geom_text = pd.Series(shapely.to_wkt(geoms, rounding_precision=6), dtype=str).fillna("")
        check(
            ~is_point & ~is_poly,
            "geometry",
            geom_text,
            "the geometry must be a Point or a (Multi)Polygon",
        )
    wkt_text = strip(raw("footprint_wkt"))
    has_wkt = (wkt_text != "").to_numpy()
    if has_wkt.any():
        parsed = shapely.from_wkt(wkt_text.to_numpy()[has_wkt].astype(object), on_invalid="ignore")
        footprint[has_wkt] = parsed
    # A footprint WKT that does not parse is an error, not a reason to fall back to a buffer.
    declared = np.array([g is not None for g in footprint], dtype=bool) | has_wkt
    if declared.any():
        good = np.isin(shapely.get_type_id(footprint[declared]), (3, 6)) & shapely.is_valid(
            footprint[declared]
        )
        ok = np.zeros(n, dtype=bool)
        ok[np.flatnonzero(declared)[good]] = True
        footprint_text = (
            wkt_text
            if geoms is None
            else pd.Series(shapely.to_wkt(geoms, rounding_precision=6), dtype=str).fillna("")
        )
        check(
            declared & ~ok,
            "footprint",
            footprint_text,
            "the footprint is not a valid Polygon or MultiPolygon",
        )
        declared &= ok

    # Points: latitude/longitude columns win over a Point geometry.
    for name, lo, hi, target in (
        ("latitude", -90.0, 90.0, point_lat),
        ("longitude", -180.0, 180.0, point_lon),
    ):
        if name not in columns:
            continue
        text = strip(raw(name))
        value, _, bad = parse_numbers(text, "point")
        check(bad, name, text, lambda v, name=name: f"{name} '{v}' is not a number")
        out = np.isfinite(value) & ((value < lo) | (value > hi))
        check(
            out,
            name,
            text,
            lambda v, name=name, lo=lo, hi=hi: f"{name} {v} is outside [{lo}, {hi}]",
        )
        use = np.isfinite(value)
        target[use] = value[use]
    has_point = np.isfinite(point_lat) & np.isfinite(point_lon)
    unplaced = ~has_point & ~declared
    check(
        unplaced & ~reject,
        "latitude",
        strip(raw("latitude")),
        "no coordinates: latitude and longitude are empty and no footprint is given",
    )
    if declared.any():
        rep = shapely.point_on_surface(footprint[declared & ~has_point])
        point_lon[declared & ~has_point] = shapely.get_x(rep)
        point_lat[declared & ~has_point] = shapely.get_y(rep)

    keep = ~reject
    buffer = keep & ~declared
    footprint[buffer] = buffer_footprints(point_lon[buffer], point_lat[buffer])
    source = np.where(declared, "declared", BUFFER_SOURCE)

    data = gpd.GeoDataFrame(
        {
            "facility_id": facility_id.to_numpy()[keep],
            "name": strip(raw("name")).to_numpy()[keep],
            "country": country[keep],
            "owner": strip(raw("owner")).to_numpy()[keep],
            "capacity_mw": capacity[keep],
            "primary_fuel": strip(raw("primary_fuel")).to_numpy()[keep],
            "latitude": point_lat[keep],
            "longitude": point_lon[keep],
            "footprint_source": source[keep],
            "reference_production_t": production[keep],
            "routes": strip(raw("routes")).to_numpy()[keep],
            "grid_zone": strip(raw("grid_zone")).to_numpy()[keep],
            "parent": strip(raw("parent")).to_numpy()[keep],
            "status": strip(raw("status")).str.lower().to_numpy()[keep],
            "start_year": start_year[keep],
            "capacity_t": capacity_t[keep],
            "source_line": np.asarray(lines)[keep].astype(np.int64),
        },
        geometry=footprint[keep],
        crs="EPSG:4326",
    )
    errors.sort(key=lambda e: (e.line or 0, COLUMNS.index(e.field) if e.field in COLUMNS else 99))
    meta = {
        "source": SOURCE,
        "path": str(path),
        **extra,
        "rows_read": n,
        "rows_accepted": len(data),
        "rows_rejected": n - len(data),
        "errors": errors,
        "columns": {name: headers[i] for name, i in columns.items()},
        "ignored_columns": ignored,
        "footprints": {
            "declared": int((source[keep] == "declared").sum()),
            BUFFER_SOURCE: int((source[keep] == BUFFER_SOURCE).sum()),
        },
    }
    return data, meta
