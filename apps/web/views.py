"""Site pages: the dashboard, exporter and estimate pages, and the methodology pages."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apps.accounts.models import Organisation, User
from apps.audit.history import audit_history_of
from apps.common.links import id_url
from apps.estimates.selectors import estimate_list
from apps.estimates.services import estimate_verify
from apps.estimates.trace_view import trace_view
from apps.estimates.traces import served_trace
from apps.evidence.models import IngestRun
from apps.evidence.selectors import ingest_run_list
from apps.satellite.flags import flag_summary
from apps.shipments.plausibility import include_flagged, toggle_query
from apps.shipments.selectors import (
    cached_on_totals,
    flagged_lines,
    flagged_sums,
    minus_flagged,
    shipment_list,
    totals_version,
)
from apps.web import charts
from apps.web.dashboard import (
    BENCHMARK_NOTE,
    dashboard_totals,
    default_marker,
    intensity_distribution,
    totals_scope,
)
from apps.web.flags import flag_counts
from apps.web.methodology_docs import methodology_doc, methodology_index
from methodologies import METHODOLOGIES
from methodologies.errors import MethodologyError
from methodologies.verify import verify_trace


def favicon_view(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``: no icon (204). Pages declare none (``rel="icon" href="data:,"``),
    but a browser asks for this path when it shows a document that is not HTML, such as a
    trace's canonical JSON; a 404 there is an error in its console."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("dashboard")


def _year(request: HttpRequest) -> int | None:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None


def _with_exporter_urls(rows: list[dict]) -> list[dict]:
    """Each row with the link to its exporter's page (one reverse() for all rows)."""
    url = id_url("exporter-detail")
    return [{**row, "url": url.format(row["exporter_id"])} for row in rows]


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    version = totals_version()  # one read for the page's cached reads
    include = include_flagged(request.GET)
    data = dashboard_totals(user=request.user, year=year, version=version, include_flagged=include)
    overall = data.overall
    codes = [row["cn_code"] for row in data.top_codes]
    cn = request.GET.get("cn", "")
    cn = cn if cn.isdigit() and len(cn) <= 8 else (codes[0] if codes else "")
    groups = (
        intensity_distribution(user=request.user, cn_code=cn, year=year, version=version)
        if cn
        else []
    )
    marker_year = year or (data.years[0] if data.years else 2026)
    marker = (
        cached_on_totals(  # the default values change only by an ingest
            f"web:marker:{cn}:{marker_year}",
            lambda: default_marker(cn_code=cn, year=marker_year),
            version=version,
        )
        if cn
        else None
    )
    markers = [charts.Marker(marker["value"], "default")] if marker else []
    mass = sum(g["net_mass_t"] for g in groups)
    mean = sum(g["see_t_per_t"] * g["net_mass_t"] for g in groups) / mass if mass else None
    if mean is not None:
        markers.append(charts.Marker(mean, "mean", colour="#38761d"))
    estimated = overall["estimated_mass_t"]
    actual = estimated - overall["default_mass_t"]
    coverage = [
        (_("Actual data"), actual),
        (_("Default values"), overall["default_mass_t"]),
        (_("No estimate"), overall["net_mass_t"] - estimated),
    ]
    running = list(
        ingest_run_list(user=request.user)
        .filter(status__in=[IngestRun.Status.PENDING, IngestRun.Status.RUNNING])
        .select_related("evidence")[:10]
    )
    context = {
        "year": year,
        "years": data.years,
        "overall": overall,
        "by_group": data.by_group,
        "by_origin": data.by_origin,
        "by_month": data.by_month,
        "top_codes": data.top_codes,
        "cn": cn,
        "groups": _with_exporter_urls(sorted(groups, key=lambda g: g["see_t_per_t"])[:200]),
        "groups_total": len(groups),
        "mean": mean,
        "marker": marker,
        "benchmark_note": BENCHMARK_NOTE,
        "coverage": [
            (label, value, 100 * value / overall["net_mass_t"] if overall["net_mass_t"] else 0)
            for label, value in coverage
        ],
        # Tonnage by the best estimate's tier, and the gap between the two figures.
        "best_coverage": [
            (
                label,
                overall[f"best_{tier}_mass_t"] or 0.0,
                100 * (overall[f"best_{tier}_mass_t"] or 0.0) / overall["net_mass_t"]
                if overall["net_mass_t"]
                else 0,
            )
            for tier, label in (
                ("verified", _("Verified")),
                ("disclosed", _("Disclosed")),
                ("modelled", _("Modelled")),
                ("default", _("Default (without mark-up)")),
            )
        ],
        "figures_gap": (overall["embedded_emissions_t"] or 0.0)
        - (overall["best_embedded_emissions_t"] or 0.0),
        "flags": flag_summary(request.user),
        "review_flags": flag_counts(request.user),
        "implausible": data.flagged,
        "include_flagged": include,
        "include_query": toggle_query(request.GET, include=True),
        "exclude_query": toggle_query(request.GET, include=False),
        "running": running,
        "chart_groups": charts.bar_chart(
            [(r["group"], r["embedded_emissions_t"]) for r in data.by_group],
            title=_("Embedded emissions by product group"),
            unit="tCO2e",
        ),
        "chart_origins": charts.bar_chart(
            [(r["origin"], r["embedded_emissions_t"] or 0.0) for r in data.by_origin],
            title=_("Embedded emissions by origin"),
            unit="tCO2e",
        ),
        "chart_months": charts.column_chart(
            [(f"{r['month']:%Y-%m}", [r["embedded_emissions_t"] or 0.0]) for r in data.by_month],
            series=[_("embedded emissions")],
            title=_("Embedded emissions by month"),
            unit="tCO2e",
        ),
        "chart_distribution": charts.histogram(
            [g["see_t_per_t"] for g in groups],
            [g["net_mass_t"] for g in groups],
            title=_("SEE distribution of CN %(cn)s (tonnes by SEE)") % {"cn": cn},
            unit="tCO2e/t",
            markers=markers,
        )
        if groups
        else None,
        "chart_coverage": charts.share_bar(
            [(label, value) for label, value in coverage if value > 0] or [(_("No data"), 1.0)],
            title=_("Share of tonnage on actual data versus default values"),
        ),
    }
    return render(request, "web/dashboard.html", context)


@login_required
def exporter_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    if user.role == User.Role.EXPORTER and user.organisation_id != pk:
        raise Http404("No such exporter")
    organisation = Organisation.objects.filter(pk=pk).first()
    if organisation is None:
        raise Http404("No such exporter")
    totals = totals_scope(user=user).filter(exporter_id=pk)
    sums = {
        "shipments": Sum("shipments"),
        "net_mass_t": Sum("net_mass_t"),
        "embedded_emissions_t": Sum("embedded_emissions_t"),
        "estimated_mass_t": Sum("estimated_mass_t"),
        "default_mass_t": Sum("default_mass_t"),
    }
    # Lines flagged implausible at ingest are left out unless asked (?implausible=include).
    include = include_flagged(request.GET)
    flagged = flagged_lines(user=user).filter(exporter_id=pk)
    by_code = list(totals.values("cn_code", "origin").annotate(**sums).order_by("-net_mass_t"))
    by_month = list(totals.values("month").annotate(**sums).order_by("month"))
    overall = totals.aggregate(**sums)
    left_out = 0
    if not include:
        f_code = flagged_sums(flagged, group_by=["cn_code", "origin"])
        by_code = minus_flagged(by_code, f_code, key=("cn_code", "origin"))
        by_code.sort(key=lambda r: -(r["net_mass_t"] or 0.0))
        by_month = minus_flagged(
            by_month, flagged_sums(flagged, group_by=["month"]), key=("month",)
        )
        f_all = flagged_sums(flagged)[0]
        left_out = f_all["shipments"]
        if left_out:
            overall = {k: (overall[k] or 0.0) - (f_all[k] or 0.0) for k in overall}
    by_code = by_code[:50]
    for row in [*by_code, *by_month]:
        est = row["estimated_mass_t"] or 0.0
        row["see_t_per_t"] = (row["embedded_emissions_t"] or 0.0) / est if est else None
        row["default_share"] = (row["default_mass_t"] or 0.0) / est if est else None
    shipments = list(shipment_list(user=user).filter(exporter_id=pk).order_by("-id")[:20])
    return render(
        request,
        "web/exporter_detail.html",
        {
            "organisation": organisation,
            "overall": overall,
            "left_out": left_out,
            "include_flagged": include,
            "include_query": toggle_query(request.GET, include=True),
            "exclude_query": toggle_query(request.GET, include=False),
            "by_code": by_code,
            "by_month": by_month,
            "shipments": shipments,
            "installations": list(organisation.installations.all()[:50]),
            "chart_months": charts.column_chart(
                [(f"{r['month']:%Y-%m}", [r["see_t_per_t"] or 0.0]) for r in by_month],
                series=["mass-weighted SEE"],
                title=_("Mass-weighted SEE of the goods of %(name)s by month")
                % {"name": organisation.name},
                unit="tCO2e/t",
            ),
        },
    )


def _installation_of(estimate):
    """The installation an installation-level estimate is about (its subject key is
    ``installation|<identifier>|<CN>|<year>``), for the link; None otherwise."""
    from apps.facilities.models import Installation

    parts = estimate.subject_key.split("|")
    if len(parts) < 2 or parts[0] != "installation":
        return None
    return Installation.objects.filter(identifier=parts[1]).first()


def _verification(estimate) -> dict:
    """The Verify button's answer (as ``POST /api/v1/estimates/{id}/verify``), with the
    first part of the trace that differs and what is carried over rather than recomputed
    (docs/auditors.md)."""
    result = estimate_verify(estimate=estimate)
    result["match"] = bool(
        result["match"] and result["recomputed_sha256"] == result["stored_sha256"]
    )
    try:
        parts = verify_trace(json.loads(estimate.trace), estimate.trace.encode("utf-8"))
    except MethodologyError as exc:
        result["first_difference"], result["notes"] = f"the case does not run: {exc}", []
    else:
        result["first_difference"] = parts.first_difference
        result["notes"] = parts.notes
    return result


@login_required
def estimate_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = estimate_list(user=request.user).filter(pk=pk).first()
    if estimate is None:
        raise Http404("No such estimate")
    trace = served_trace(estimate=estimate, user=request.user).trace
    verification = _verification(estimate) if request.method == "POST" else None
    return render(
        request,
        "web/estimate_detail.html",
        {
            "estimate": estimate,
            "trace": trace,
            "trace_view": trace_view(trace, user=request.user),
            "installation": _installation_of(estimate),
            "history": audit_history_of([("estimate", estimate.pk)], user=request.user),
            "verification": verification,
        },
    )


@login_required
def methodology_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "web/methodology_list.html", {"methodologies": methodology_index()})


@login_required
def methodology_detail_view(request: HttpRequest, methodology_id: str) -> HttpResponse:
    if methodology_id not in METHODOLOGIES:
        raise Http404("No such methodology")
    return render(request, "web/methodology_detail.html", {"doc": methodology_doc(methodology_id)})


@login_required
def glossary_view(request: HttpRequest) -> HttpResponse:
    from apps.web.glossary import TERMS

    return render(request, "web/glossary.html", {"terms": TERMS})
