"""Server-rendered SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an ``<svg role="img">`` with ``<title>`` and ``<desc>`` (referenced by
``aria-labelledby``), and every page that shows one also shows the same numbers as a table
(WAI-ARIA Authoring Practices, "Graphics"). Text is escaped here; the markup is returned
as a ``SafeString`` for templates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

PALETTE = ("#0b5394", "#9a3b00", "#38761d", "#741b47", "#134f5c", "#7f6000", "#5b5b5b")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Marker:
    """A vertical reference line on a histogram, e.g. the default value."""

    value: float
    label: str
    colour: str = "#b00020"


def _fmt(value: float) -> str:
    """Compact number for axis labels: 1.2k, 3.4M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _frame(title: str, desc: str, width: int, height: int, body: list[str]) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308  (every text below goes through escape())
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="chart{n}-t chart{n}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{n}-t">{escape(title)}</title>'
        f'<desc id="chart{n}-d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str,
    width: int = 560,
    bar_height: int = 20,
    label_width: int = 170,
) -> SafeString:
    """Horizontal bars, one per (label, value), largest first as given."""
    height = 10 + bar_height * len(rows) + 10
    top = max((v for _, v in rows), default=0.0) or 1.0
    plot = width - label_width - 70
    body = []
    for i, (label, value) in enumerate(rows):
        y = 5 + i * bar_height
        w = max(0.0, value) / top * plot
        body.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{escape(str(label)[:28])}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{w:.1f}" height="{bar_height - 5}" '
            f'fill="{PALETTE[0]}"><title>{escape(str(label))}: {value:,.1f} {escape(unit)}'
            f"</title></rect>"
            f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="11">{escape(_fmt(value))}</text>'
        )
    desc = "; ".join(f"{label}: {value:,.1f} {unit}" for label, value in rows) or _("no data")
    return _frame(title, desc, width, height, body)


def column_chart(
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    series: Sequence[str],
    title: str,
    unit: str,
    width: int = 560,
    height: int = 220,
) -> SafeString:
    """Stacked columns over time: rows of (label, one value per series)."""
    left, bottom, top_pad = 50, 40, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max((sum(values) for _, values in rows), default=0.0) or 1.0
    step = plot_w / max(1, len(rows))
    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        f'stroke="#57606a"/>',
        f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" font-size="11">'
        f"{escape(_fmt(top))}</text>",
        f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, (label, values) in enumerate(rows):
        x = left + i * step + step * 0.15
        y = top_pad + plot_h
        for k, value in enumerate(values):
            h = max(0.0, value) / top * plot_h
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)} {escape(series[k])}: '
                f"{value:,.1f} {escape(unit)}</title></rect>"
            )
        if len(rows) <= 16 or i % math.ceil(len(rows) / 16) == 0:
            body.append(
                f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    for k, name in enumerate(series if len(series) > 1 else []):
        body.append(
            f'<rect x="{left + k * 150}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/><text x="{left + k * 150 + 14}" '
            f'y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{s} {v:,.1f}" for s, v in zip(series, values, strict=True))
        for label, values in rows
    )
    return _frame(title, f"{desc or 'no data'} ({unit})", width, height, body)


def histogram(
    values: Sequence[float],
    weights: Sequence[float],
    *,
    title: str,
    unit: str,
    markers: Sequence[Marker] = (),
    bins: int = 20,
    width: int = 560,
    height: int = 200,
) -> SafeString:
    """A weighted histogram (e.g. tonnes by SEE) with vertical markers."""
    left, bottom, top_pad = 50, 34, 22
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    every = [*values, *(m.value for m in markers)]
    lo, hi = (min(every), max(every)) if every else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    lo, hi = lo - span * 0.05, hi + span * 0.05
    counts = [0.0] * bins
    for value, weight in zip(values, weights, strict=True):
        k = min(bins - 1, int((value - lo) / (hi - lo) * bins))
        counts[k] += weight
    top = max(counts) or 1.0
    bw = plot_w / bins

    def x_of(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        f'stroke="#57606a"/>'
    ]
    for k, c in enumerate(counts):
        h = c / top * plot_h
        a, b = lo + k * (hi - lo) / bins, lo + (k + 1) * (hi - lo) / bins
        body.append(
            f'<rect x="{left + k * bw:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bw - 1:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{a:.3f}–{b:.3f} {escape(unit)}: '
            f"{c:,.1f} t</title></rect>"
        )
    for v in (lo, (lo + hi) / 2, hi):
        body.append(
            f'<text x="{x_of(v):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{v:.3g}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11">{escape(unit)}</text>'
    )
    for i, m in enumerate(markers):
        x = x_of(m.value)
        right = x > left + plot_w * 0.6  # label on the left of the line, inside the frame
        body.append(
            f'<line x1="{x:.1f}" y1="{top_pad - 4}" x2="{x:.1f}" y2="{top_pad + plot_h}" '
            f'stroke="{m.colour}" stroke-width="2" stroke-dasharray="4 2"/>'
            f'<text x="{x - 3 if right else x + 3:.1f}" y="{top_pad - 8 + 10 * (i % 2)}" '
            f'font-size="11" text-anchor="{"end" if right else "start"}" '
            f'fill="{m.colour}">{escape(m.label)} {m.value:.4g}</text>'
        )
    desc = (
        f"{len(values)} groups, {sum(weights):,.1f} t, SEE from {min(values):.4g} to "
        f"{max(values):.4g} {unit}"
        if values
        else _("no data")
    )
    if markers:
        desc += "; " + "; ".join(f"{m.label} at {m.value:.4g} {unit}" for m in markers)
    return _frame(title, desc, width, height, body)


def share_bar(parts: Sequence[tuple[str, float]], *, title: str, width: int = 560) -> SafeString:
    """One 100 % bar split into parts (e.g. tonnage on actual data vs defaults)."""
    total = sum(max(0.0, v) for _, v in parts) or 1.0
    x = 0.0
    body = []
    for k, (label, value) in enumerate(parts):
        w = max(0.0, value) / total * width
        body.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="26" '
            f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)}: '
            f"{value / total:.1%}</title></rect>"
        )
        if w > 60:
            body.append(
                f'<text x="{x + 6:.1f}" y="18" font-size="12" fill="#fff">'
                f"{escape(label)} {value / total:.0%}</text>"
            )
        x += w
    desc = "; ".join(f"{label}: {value / total:.1%}" for label, value in parts)
    return _frame(title, desc, width, 26, body)
