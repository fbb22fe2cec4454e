"""Server-rendered SVG chart of an installation's satellite activity index against its
disclosed production (no JavaScript, no external assets).

Everything is drawn on the activity-index scale [1]: 0 is the facility's quiet level and 1
its usual level (``methodologies.satellite``); a disclosed production D is drawn as D / P_ref,
the index it would correspond to, so the two can be read on one axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 20, 64
MONTHS = "JFMAMJJASOND"


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 0.2
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def activity_chart_svg(monthly: Sequence, annual: Sequence, flags: Sequence) -> SafeString:
    """SVG of monthly activity indices (points with ±σ bars), annual indices and annual
    disclosed production as index segments, and open flags (red markers).

    ``monthly``/``annual``: ActivityIndex rows (``period_start``, ``period_end``,
    ``activity_index``, ``activity_index_sigma``, ``disclosed_production_t``,
    ``reference_production_t``); ``flags``: ReconciliationFlag rows."""
    rows = list(monthly) + list(annual)
    if not rows:
        return mark_safe("")
    t0 = min(r.period_start for r in rows).timestamp()
    t1 = max(r.period_end for r in rows).timestamp()
    values = [0.0, 1.0]
    for r in rows:
        values += [
            r.activity_index - r.activity_index_sigma,
            r.activity_index + r.activity_index_sigma,
        ]
    disclosed = {}
    for r in annual:
        if r.disclosed_production_t is not None and r.reference_production_t:
            disclosed[r.period] = r.disclosed_production_t / r.reference_production_t
            values.append(disclosed[r.period])
    lo, hi = min(values), max(values)
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: datetime | float) -> float:
        t = when.timestamp() if isinstance(when, datetime) else when
        return LEFT + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="act-title act-desc" class="chart">',
        '<title id="act-title">Satellite activity index and disclosed production</title>',
        '<desc id="act-desc">Monthly activity index with ±1σ bars; annual index (blue) and '
        "disclosed production divided by the reference production (orange) per year; red "
        "markers are open reconciliation flags.</desc>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#bbb"/>',
    ]
    v = lo
    while v <= hi + step / 2:
        yy = y(v)
        dash = "" if abs(v) < 1e-9 or abs(v - 1) < 1e-9 else ' stroke-dasharray="2 3"'
        colour = "#888" if dash == "" else "#ddd"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="{colour}"{dash}/>'
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">'
            f"{v:g}</text>"
        )
        v += step
    # x axis: months (initials) when few, years always.
    months = sorted({(r.period_start.year, r.period_start.month) for r in monthly})
    if len(months) <= 36:
        for year, month in months:
            mid = datetime(year, month, 15, tzinfo=rows[0].period_start.tzinfo)
            out.append(
                f'<text x="{x(mid):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                f'font-size="10" fill="#555">{MONTHS[month - 1]}</text>'
            )
    years = sorted({r.period_start.year for r in rows})
    for year in years:
        start = datetime(year, 1, 1, tzinfo=rows[0].period_start.tzinfo)
        end = datetime(year + 1, 1, 1, tzinfo=rows[0].period_start.tzinfo)
        a, b = max(x(start), LEFT), min(x(end), WIDTH - RIGHT)
        out.append(
            f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#ccc"/>'
            f'<text x="{(a + b) / 2:.1f}" y="{HEIGHT - BOTTOM + 30}" text-anchor="middle" '
            f'font-size="12">{year}</text>'
        )
    # Annual segments: satellite (blue) and disclosed (orange).
    for r in annual:
        a, b = x(r.period_start), x(r.period_end)
        out.append(
            f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{y(r.activity_index):.1f}" '
            f'y2="{y(r.activity_index):.1f}" stroke="#1f5fbf" stroke-width="3" opacity="0.7">'
            f"<title>{escape(r.period)}: activity index {r.activity_index:.2f} ± "
            f"{r.activity_index_sigma:.2f}</title></line>"
        )
        if r.period in disclosed:
            d = disclosed[r.period]
            out.append(
                f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{y(d):.1f}" y2="{y(d):.1f}" '
                f'stroke="#d9730d" stroke-width="3" stroke-dasharray="8 4">'
                f"<title>{escape(r.period)}: disclosed {r.disclosed_production_t:,.0f} t = "
                f"{d:.2f} × reference</title></line>"
            )
    # Monthly points with ±σ bars, joined.
    points = sorted(monthly, key=lambda r: r.period_start)
    if points:
        path = " ".join(
            f"{x((r.period_start.timestamp() + r.period_end.timestamp()) / 2):.1f},"
            f"{y(r.activity_index):.1f}"
            for r in points
        )
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
        for r in points:
            cx = x((r.period_start.timestamp() + r.period_end.timestamp()) / 2)
            a_lo = y(r.activity_index - r.activity_index_sigma)
            a_hi = y(r.activity_index + r.activity_index_sigma)
            out.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{a_lo:.1f}" y2="{a_hi:.1f}" '
                f'stroke="#1f5fbf"/><circle cx="{cx:.1f}" cy="{y(r.activity_index):.1f}" '
                f'r="3" fill="#1f5fbf"><title>{escape(r.period)}: {r.activity_index:.2f} ± '
                f"{r.activity_index_sigma:.2f}</title></circle>"
            )
    # Flags: a red marker at the disclosed level of the flagged period.
    by_period = {r.period: r for r in rows}
    for f in flags:
        if f.status != "open" or f.period not in by_period:
            continue
        r = by_period[f.period]
        level = disclosed.get(f.period, r.activity_index)
        cx, cy = (x(r.period_start) + x(r.period_end)) / 2, y(level)
        out.append(
            f'<g class="flag"><path d="M{cx - 7:.1f},{cy + 7:.1f} L{cx:.1f},{cy - 7:.1f} '
            f'L{cx + 7:.1f},{cy + 7:.1f} Z" fill="#c0392b"/>'
            f'<text x="{cx + 10:.1f}" y="{cy - 6:.1f}" font-size="12" fill="#c0392b">'
            f"flag: z = {f.z_score:+.1f}</text><title>{escape(f.reason)}</title></g>"
        )
    # Legend and axis label.
    ly = HEIGHT - 14
    out.append(
        f'<text x="12" y="{TOP + plot_h / 2:.0f}" font-size="11" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2:.0f})" text-anchor="middle">'
        "activity index [1]</text>"
        f'<circle cx="{LEFT + 6}" cy="{ly - 4}" r="3" fill="#1f5fbf"/>'
        f'<text x="{LEFT + 14}" y="{ly}" font-size="11">monthly index ±1σ</text>'
        f'<line x1="{LEFT + 140}" x2="{LEFT + 166}" y1="{ly - 4}" y2="{ly - 4}" '
        'stroke="#1f5fbf" stroke-width="3"/>'
        f'<text x="{LEFT + 172}" y="{ly}" font-size="11">annual index</text>'
        f'<line x1="{LEFT + 262}" x2="{LEFT + 288}" y1="{ly - 4}" y2="{ly - 4}" '
        'stroke="#d9730d" stroke-width="3" stroke-dasharray="8 4"/>'
        f'<text x="{LEFT + 294}" y="{ly}" font-size="11">disclosed ÷ reference production'
        "</text>"
        f'<path d="M{LEFT + 500},{ly + 2} L{LEFT + 506},{ly - 10} L{LEFT + 512},{ly + 2} Z" '
        'fill="#c0392b"/>'
        f'<text x="{LEFT + 518}" y="{ly}" font-size="11">open flag</text>'
        "</svg>"
    )
    # every text and attribute value above is a number or passed through escape()
    return mark_safe("".join(out))  # noqa: S308
