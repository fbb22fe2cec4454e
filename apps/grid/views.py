"""Grid pages: zones with their intensity and mix, and hydrogen installation reports.

Zones and factors are public reference data: every signed-in role reads them. A hydrogen
report belongs to an installation: exporters read only their organisation's (404 else).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.grid import charts
from apps.grid.selectors import (
    factors_effective,
    grid_factor_lookup,
    hydrogen_assessment_get,
    hydrogen_assessment_list,
    hydrogen_report,
    intensity_monthly,
    intensity_slice,
    mix_slice,
    zone_get,
    zone_list,
    zone_years,
)
from methodologies import grid as g
from methodologies.hydrogen import THRESHOLD_G_PER_MJ

#: Charts of longer series show daily means instead of hours.
MAX_HOURLY_POINTS = 24 * 45


def _labels(times: pd.DatetimeIndex, hourly: bool) -> list[str]:
    return [t.strftime("%m-%d %H:00" if hourly else "%Y-%m-%d") for t in times]


@login_required
def grid_zone_list_view(request: HttpRequest) -> HttpResponse:
    zones = list(zone_list())
    assessments = list(hydrogen_assessment_list(user=request.user)[:50])
    return render(request, "grid/zone_list.html", {"zones": zones, "assessments": assessments})


@login_required
def grid_zone_detail_view(request: HttpRequest, key: str) -> HttpResponse:
    zone = zone_get(key=key)
    if zone is None:
        raise Http404("No such grid zone")
    series = list(zone.series.all())
    years = zone_years(zone=zone)
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and int(year_text) in years else None
    if year is None and years:
        year = years[-1]
    context: dict = {"zone": zone, "series": series, "year": year, "years": years}
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        frame = intensity_slice(zone=zone.key, start=start, end=start.replace(year=year + 1))
        times = pd.DatetimeIndex(frame["time_utc"])
        hourly = len(frame) <= MAX_HOURLY_POINTS
        arrays = {
            "direct": frame["direct"].to_numpy(np.float64),
            "lifecycle": frame["lifecycle"].to_numpy(np.float64),
            "gap": (frame["provenance"] == "gap_filled").to_numpy(np.float64),
        }
        labels, arrays = charts.downsample(_labels(times, hourly), arrays, 1 if hourly else 24)
        context["intensity_chart"] = charts.line_chart(
            title=(
                _("Carbon intensity of %(zone)s, %(year)s (hourly)")
                if hourly
                else _("Carbon intensity of %(zone)s, %(year)s (daily means)")
            )
            % {"zone": zone.key, "year": year},
            labels=labels,
            series={"direct": arrays["direct"], "lifecycle": arrays["lifecycle"]},
            unit="gCO2eq/kWh",
            flags=[v > 0 for v in arrays["gap"]],
            flag_label=_("gap-filled"),
        )
        context["monthly"] = intensity_monthly(frame).to_dict("records")
        context["gap_hours"] = (
            frame[frame["provenance"] == "gap_filled"].head(50).to_dict("records")
        )
        mix = mix_slice(zone=zone.key, year=year)
        if mix is not None:
            context.update(_mix_charts(zone.key, year, mix))
        at = dt.datetime(year, 7, 1, tzinfo=dt.UTC)
        context["factor_date"] = at
        context["factors"] = factors_effective(zone=zone.key, at=at)
        for kind in g.KINDS:
            try:
                context[f"lookup_{kind}"] = grid_factor_lookup(
                    zone=zone.key, country=zone.country, year=year, kind=kind
                )
            except LookupError as exc:
                context[f"lookup_{kind}_error"] = str(exc)
    return render(request, "grid/zone_detail.html", context)


def _mix_charts(key: str, year: int, mix: dict) -> dict:
    out = {}
    times = mix["times"]
    hourly = len(times) <= MAX_HOURLY_POINTS
    every = 1 if hourly else 24
    if "generation" in mix:
        gen = {m: v for m, v in mix["generation"].items() if np.nansum(np.abs(v)) > 0}
        order = sorted(gen, key=lambda m: -np.nansum(gen[m]))
        labels, arrays = charts.downsample(
            _labels(times, hourly), {m: gen[m] for m in order}, every
        )
        out["mix_chart"] = charts.stacked_area(
            title=_("Generation mix of %(zone)s, %(year)s") % {"zone": key, "year": year},
            labels=labels,
            series=arrays,
            unit="MW",
        )
        total = np.nansum(np.array(list(gen.values())), axis=0)
        out["mix_shares"] = [
            {"mode": m, "share": float(np.nansum(gen[m]) / np.nansum(total))} for m in order
        ]
    for name, unit, label in (
        ("load_mw", "MW", _("Load")),
        ("price_eur_per_mwh", "EUR/MWh", _("Day-ahead price")),
    ):
        if name in mix:
            labels, arrays = charts.downsample(_labels(times, hourly), {label: mix[name]}, every)
            out[f"{name}_chart"] = charts.line_chart(
                title=f"{label} of {key}, {year}", labels=labels, series=arrays, unit=unit
            )
    return out


@login_required
def hydrogen_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = hydrogen_assessment_get(user=request.user, pk=pk)
    if assessment is None:
        raise Http404("No such hydrogen assessment")
    report = hydrogen_report(assessment)
    monthly = report["monthly"]["result"]["periods"]
    hourly = report["hourly"]["result"]["periods"]
    start = pd.Timestamp(assessment.profile["start"])
    times = pd.date_range(start, periods=len(hourly), freq="h")
    months = sorted(set(times.month))
    for row, month in zip(monthly, months, strict=False):
        row["label"] = dt.date(start.year, month, 1).strftime("%b %Y")
    month_chart = charts.stacked_bars(
        title=_("Month-by-month matching: renewable and grid electricity into the electrolyser"),
        labels=[r["label"] for r in monthly],
        series={
            "renewable": [r["renewable_mwh"] for r in monthly],
            "grid": [r["grid_mwh"] for r in monthly],
        },
        unit="MWh",
        marks=[r["passes"] for r in monthly],
    )
    weeks = max(1, int(np.ceil(len(hourly) / 168)))
    week_text = request.GET.get("week", "")
    gap_index = set(assessment.intensity_steps.get("gap_filled_index", []))
    fallback_index = set(assessment.intensity_steps.get("fallback_index", []))
    if week_text.isdigit() and 1 <= int(week_text) <= weeks:
        week = int(week_text)
    else:  # the first week with a failing hour, to show what hourly matching sees
        failing = [r["index"] for r in hourly if r["passes"] is False]
        week = failing[0] // 168 + 1 if failing else 1
    lo, hi = (week - 1) * 168, min(week * 168, len(hourly))
    intensity = report["hourly"]["case"]["grid_intensity_g_per_kwh"]
    week_rows = []
    for r in hourly[lo:hi]:
        i = r["index"]
        week_rows.append(
            {
                **r,
                "time": times[i],
                "intensity": intensity[i],
                "gap_filled": i in gap_index,
                "fallback": i in fallback_index,
            }
        )
    hour_chart = charts.stacked_bars(
        title=_("Hour-by-hour matching, week %(week)s") % {"week": week},
        labels=[row["time"].strftime("%a %H:00") for row in week_rows],
        series={
            "renewable": [row["renewable_mwh"] for row in week_rows],
            "grid": [row["grid_mwh"] for row in week_rows],
        },
        unit="MWh",
        marks=[row["passes"] for row in week_rows],
    )
    hours_failing = sum(1 for r in hourly if r["passes"] is False)
    return render(
        request,
        "grid/hydrogen_report.html",
        {
            "a": assessment,
            "installation": assessment.installation,
            "report": report,
            "monthly": monthly,
            "month_chart": month_chart,
            "hour_chart": hour_chart,
            "week": week,
            "weeks": weeks,
            "week_rows": week_rows,
            "prev_week": week - 1 if week > 1 else None,
            "next_week": week + 1 if week < weeks else None,
            "hours_failing": hours_failing,
            "hours_total": len(hourly),
            "months_failing": sum(1 for r in monthly if r["passes"] is False),
            "threshold": THRESHOLD_G_PER_MJ,
            "steps": assessment.intensity_steps.get("steps", []),
        },
    )
