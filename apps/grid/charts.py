"""Server-rendered SVG charts (no JavaScript, no CDN): lines, stacked areas, stacked bars.

Each function returns SVG markup (``SafeString``) with a ``<title>`` and a text
description for screen readers; values that are NaN leave a gap in a line. Colours come
from a fixed palette so a mode keeps its colour across pages.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from html import escape

import numpy as np
from django.utils.safestring import SafeString, mark_safe

PALETTE = {
    "nuclear": "#8e6bbf",
    "hydro": "#2f7ec4",
    "hydro storage": "#5fa8e0",
    "wind": "#52b5a4",
    "solar": "#f2c12e",
    "biomass": "#6a9b3b",
    "geothermal": "#b5651d",
    "gas": "#e07b39",
    "coal": "#4a4a4a",
    "oil": "#8b3a3a",
    "unknown": "#b0b0b0",
    "battery storage": "#c05fa8",
    "direct": "#1f4e79",
    "lifecycle": "#c0504d",
    "renewable": "#3c9d5d",
    "grid": "#a0a0a0",
    "threshold": "#b00020",
}
FALLBACK_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]


def colour(name: str, i: int = 0) -> str:
    return PALETTE.get(name, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)])


def _nice_max(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


class _Frame:
    """Plot area and axes: x by index 0…n−1, y from 0 to a rounded maximum."""

    def __init__(self, n: int, y_max: float, width: int, height: int) -> None:
        self.n, self.width, self.height = max(n, 1), width, height
        self.left, self.right, self.top, self.bottom = 56, 12, 14, 22
        self.y_max = _nice_max(y_max)

    def x(self, i: float) -> float:
        span = self.width - self.left - self.right
        return self.left + span * (i / max(self.n - 1, 1))

    def y(self, v: float) -> float:
        span = self.height - self.top - self.bottom
        return self.top + span * (1 - v / self.y_max)

    def axes(self, x_labels: Sequence[tuple[int, str]], y_unit: str) -> list[str]:
        parts = []
        for k in range(5):
            v = self.y_max * k / 4
            y = self.y(v)
            parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#e3e3e3"/>'
                f'<text x="{self.left - 4}" y="{y + 4:.1f}" text-anchor="end" '
                f'font-size="12">{v:g}</text>'
            )
        for i, label in x_labels:
            x = self.x(i)
            parts.append(
                f'<text x="{x:.1f}" y="{self.height - 4}" text-anchor="middle" '
                f'font-size="12">{escape(label)}</text>'
            )
        parts.append(
            f'<text x="4" y="{self.top - 2}" font-size="12" fill="#555">{escape(y_unit)}</text>'
        )
        return parts


def _svg(title: str, description: str, width: int, height: int, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text that comes from data is escaped above
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="grid-chart" '
        f'style="width:100%;height:auto;display:block">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + "".join(body)
        + "</svg>"
    )


def _legend(names: Sequence[str], width: int, y: int) -> list[str]:
    parts, x = [], 60
    for i, name in enumerate(names):
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="11" height="11" fill="{colour(name, i)}"/>'
            f'<text x="{x + 15}" y="{y}" font-size="12">{escape(name)}</text>'
        )
        x += 26 + 7 * len(name)
        if x > width - 80:
            break
    return parts


def x_labels(labels: Sequence[str], count: int = 8) -> list[tuple[int, str]]:
    """About ``count`` evenly spaced (index, label) pairs."""
    n = len(labels)
    if n == 0:
        return []
    step = max(1, math.ceil(n / count))
    return [(i, labels[i]) for i in range(0, n, step)]


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    unit: str,
    flags: Sequence[bool] | None = None,
    flag_label: str = "gap-filled",
    hline: tuple[float, str] | None = None,
    width: int = 860,
    height: int = 260,
) -> SafeString:
    """Lines over ``labels``; ``flags`` marks points (e.g. gap-filled hours) with ticks
    under the axis; ``hline`` (value, label) draws a threshold."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
    top = max([np.nanmax(a) if np.isfinite(a).any() else 0.0 for a in arrays.values()] + [0])
    if hline:
        top = max(top, hline[0])
    frame = _Frame(len(labels), float(top) * 1.05, width, height)
    body = frame.axes(x_labels(labels), unit)
    for i, (name, values) in enumerate(arrays.items()):
        path, pen = [], "M"
        for j, v in enumerate(values):
            if not math.isfinite(v):
                pen = "M"
                continue
            path.append(f"{pen}{frame.x(j):.1f},{frame.y(v):.1f}")
            pen = "L"
        body.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{colour(name, i)}" '
            f'stroke-width="1.3"/>'
        )
    if hline:
        y = frame.y(hline[0])
        body.append(
            f'<line x1="{frame.left}" x2="{width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{PALETTE["threshold"]}" stroke-dasharray="5 3"/>'
            f'<text x="{width - frame.right}" y="{y - 3:.1f}" text-anchor="end" '
            f'font-size="10" fill="{PALETTE["threshold"]}">{escape(hline[1])}</text>'
        )
    names = list(arrays)
    if flags is not None and any(flags):
        base = frame.y(0)
        for j, flagged in enumerate(flags):
            if flagged:
                body.append(
                    f'<line x1="{frame.x(j):.1f}" x2="{frame.x(j):.1f}" y1="{base + 1:.1f}" '
                    f'y2="{base + 6:.1f}" stroke="#d4a017" stroke-width="1.5"/>'
                )
        names.append(flag_label)
        PALETTE.setdefault(flag_label, "#d4a017")
    body += _legend(names, width, height + 18)
    n_flags = sum(bool(f) for f in flags) if flags is not None else 0
    desc = f"{len(labels)} points of {', '.join(arrays)} in {unit}" + (
        f"; {n_flags} {flag_label} points marked under the axis" if n_flags else ""
    )
    return _svg(title, desc, width, height + 26, body)


def stacked_area(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    unit: str,
    width: int = 860,
    height: int = 260,
) -> SafeString:
    """Areas stacked in the order of ``series`` (e.g. generation per mode)."""
    names = list(series)
    data = np.nan_to_num(np.array([np.asarray(series[k], dtype=np.float64) for k in names]))
    data = np.clip(data, 0, None) if data.size else data
    cumulative = np.cumsum(data, axis=0) if data.size else data
    top = float(cumulative[-1].max()) if data.size else 0.0
    frame = _Frame(len(labels), top * 1.05, width, height)
    body = frame.axes(x_labels(labels), unit)
    lower = np.zeros(len(labels))
    for i, name in enumerate(names):
        upper = cumulative[i]
        points = [f"{frame.x(j):.1f},{frame.y(upper[j]):.1f}" for j in range(len(labels))]
        points += [
            f"{frame.x(j):.1f},{frame.y(lower[j]):.1f}" for j in reversed(range(len(labels)))
        ]
        body.append(
            f'<polygon points="{" ".join(points)}" fill="{colour(name, i)}" '
            f'fill-opacity="0.85" stroke="none"><title>{escape(name)}</title></polygon>'
        )
        lower = upper
    body += _legend(names, width, height + 18)
    return _svg(
        title, f"{len(labels)} points of {', '.join(names)} in {unit}", width, height + 26, body
    )


def stacked_bars(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    unit: str,
    marks: Sequence[bool | None] | None = None,
    width: int = 860,
    height: int = 240,
) -> SafeString:
    """Bars stacked per label (e.g. renewable and grid MWh per matching period);
    ``marks`` puts ✓ (true) or ✗ (false) over each bar (e.g. the period passes)."""
    names = list(series)
    data = np.array([np.asarray(series[k], dtype=np.float64) for k in names])
    totals = data.sum(axis=0) if data.size else np.zeros(len(labels))
    frame = _Frame(len(labels) + 1, float(totals.max() if len(totals) else 0) * 1.12, width, height)
    span = (width - frame.left - frame.right) / max(len(labels), 1)
    body = frame.axes([], unit)
    for j, label in enumerate(labels):
        x = frame.left + j * span + span * 0.1
        base = 0.0
        for i, name in enumerate(names):
            v = float(data[i, j])
            if v > 0:
                y0, y1 = frame.y(base), frame.y(base + v)
                body.append(
                    f'<rect x="{x:.1f}" y="{y1:.1f}" width="{span * 0.8:.1f}" '
                    f'height="{max(y0 - y1, 0):.1f}" fill="{colour(name, i)}">'
                    f"<title>{escape(label)} {escape(name)}: {v:.4g} {escape(unit)}</title></rect>"
                )
            base += v
        if marks is not None and marks[j] is not None:
            ok = bool(marks[j])
            if len(labels) <= 40:
                body.append(
                    f'<text x="{x + span * 0.4:.1f}" y="{frame.y(base) - 3:.1f}" '
                    f'text-anchor="middle" font-size="12" '
                    f'fill="{"#2e7d32" if ok else "#b00020"}">{"✓" if ok else "✗"}</text>'
                )
            elif not ok:  # many bars: a red tick under each failing one
                body.append(
                    f'<rect x="{x:.1f}" y="{frame.y(0) + 1:.1f}" width="{span * 0.8:.1f}" '
                    f'height="4" fill="#b00020"/>'
                )
        if len(labels) <= 31 or j % max(1, len(labels) // 12) == 0:
            body.append(
                f'<text x="{x + span * 0.4:.1f}" y="{height - 4}" text-anchor="middle" '
                f'font-size="12">{escape(label)}</text>'
            )
    body += _legend(names, width, height + 18)
    desc = f"{len(labels)} bars of {', '.join(names)} in {unit}"
    if marks is not None:
        desc += f"; {sum(1 for m in marks if m is False)} marked as failing"
    return _svg(title, desc, width, height + 26, body)


def downsample(labels: Sequence[str], arrays: dict[str, np.ndarray], every: int):
    """Means of consecutive blocks of ``every`` points (for charts of long series)."""
    if every <= 1:
        return list(labels), arrays
    n = len(labels) // every * every
    out = {}
    for k, a in arrays.items():
        block = np.asarray(a[:n], dtype=np.float64).reshape(-1, every)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN block stays NaN
            out[k] = np.nanmean(block, axis=1) if block.size else block.sum(axis=1)
    return [labels[i] for i in range(0, n, every)], out
