"""An installation's footprint as inline SVG: no tile server, no JavaScript.

Coordinates are drawn in a local equirectangular projection centred on the installation
(x = Δλ·cos φ₀·R, y = Δφ·R, R = 6,371,008.8 m, the IUGG mean radius): over a few km the
distortion is far below the drawing's resolution, so the scale bar is true in every
direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

R_EARTH_M = 6_371_008.8
SIZE = 360
MARGIN = 28


def footprint_label(source: str) -> str:
    """Human label of ``Installation.footprint_source``."""
    if source == "declared":
        return "declared polygon"
    if source.startswith("buffer_"):
        return f"default {source.removeprefix('buffer_')} geodesic buffer around the point"
    return source or "unknown footprint"


def _rings(geojson: dict | None) -> list[list[tuple[float, float]]]:
    if not geojson:
        return []
    if geojson.get("type") == "Polygon":
        return [list(map(tuple, ring)) for ring in geojson["coordinates"]]
    if geojson.get("type") == "MultiPolygon":
        return [list(map(tuple, ring)) for poly in geojson["coordinates"] for ring in poly]
    return []


def _nice_distance(metres: float) -> float:
    power = 10 ** math.floor(math.log10(max(metres, 1e-3)))
    return max(m * power for m in (1, 2, 5) if m * power <= metres) if metres >= power else power


def footprint_svg(installation, neighbours: Sequence = ()) -> SafeString:
    """The footprint (and the point) of ``installation``; ``neighbours``' footprints that
    fall in the frame are drawn in grey, so overlapping footprints show."""
    own = _rings(installation.footprint_geojson)
    lat0 = installation.latitude
    lon0 = installation.longitude
    if (lat0 is None or lon0 is None) and own:
        lon0 = sum(p[0] for p in own[0]) / len(own[0])
        lat0 = sum(p[1] for p in own[0]) / len(own[0])
    if lat0 is None or lon0 is None:
        return mark_safe("")
    k = math.cos(math.radians(lat0))

    def metres(p: tuple[float, float]) -> tuple[float, float]:
        return (
            math.radians(p[0] - lon0) * k * R_EARTH_M,
            math.radians(p[1] - lat0) * R_EARTH_M,
        )

    pts = [metres(p) for ring in own for p in ring] or [(0.0, 0.0)]
    half = max(max(abs(px), abs(py)) for px, py in pts) * 1.25 or 600.0
    scale = (SIZE / 2 - MARGIN) / half  # px per metre

    def xy(p: tuple[float, float]) -> str:
        mx, my = metres(p)
        return f"{SIZE / 2 + mx * scale:.1f},{SIZE / 2 - my * scale:.1f}"

    def path(rings: list) -> str:
        return " ".join("M" + " L".join(xy(p) for p in ring) + " Z" for ring in rings)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" '
        f'height="{SIZE}" role="img" aria-labelledby="map-title" class="map">',
        f'<title id="map-title">Footprint of {escape(installation.name)} '
        f"({escape(footprint_label(installation.footprint_source))})</title>",
        f'<rect width="{SIZE}" height="{SIZE}" fill="#f4f7f4" stroke="#bbb"/>',
    ]
    for other in neighbours:
        rings = _rings(other.footprint_geojson)
        if not rings:
            continue
        mx = [metres(p) for ring in rings for p in ring]
        if all(abs(a) > half * 1.5 or abs(b) > half * 1.5 for a, b in mx):
            continue
        out.append(
            f'<path d="{path(rings)}" fill="#999" fill-opacity="0.15" stroke="#777" '
            f'stroke-dasharray="4 3" fill-rule="evenodd"><title>{escape(other.name)} '
            f"({escape(other.identifier)})</title></path>"
        )
    if own:
        out.append(
            f'<path d="{path(own)}" fill="#2e7d32" fill-opacity="0.25" stroke="#2e7d32" '
            'stroke-width="2" fill-rule="evenodd"/>'
        )
    out.append(
        f'<circle cx="{SIZE / 2}" cy="{SIZE / 2}" r="4" fill="#1b5e20"/>'
        f'<text x="{SIZE / 2 + 7}" y="{SIZE / 2 - 7}" font-size="11">'
        f"{lat0:.4f}°, {lon0:.4f}°</text>"
    )
    bar_m = _nice_distance(half * 0.6)
    bar_px = bar_m * scale
    label = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    out.append(
        f'<line x1="{MARGIN}" x2="{MARGIN + bar_px:.1f}" y1="{SIZE - 16}" y2="{SIZE - 16}" '
        'stroke="#222" stroke-width="3"/>'
        f'<text x="{MARGIN}" y="{SIZE - 22}" font-size="11">{label}</text>'
        f'<path d="M{SIZE - 22},{MARGIN + 6} L{SIZE - 16},{MARGIN - 8} L{SIZE - 10},{MARGIN + 6} '
        'Z" fill="#222"/>'
        f'<text x="{SIZE - 16}" y="{MARGIN + 20}" font-size="11" text-anchor="middle">N</text>'
        "</svg>"
    )
    # every text and attribute value above is a number or passed through escape()
    return mark_safe("".join(out))  # noqa: S308
