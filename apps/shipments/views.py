"""The officials' shipment pages: a filtered, sorted list (with CSV and XLSX exports of the
current filter) and a shipment report."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from apps.audit.history import audit_history_of
from apps.common.exports import csv_response
from apps.common.forms import filter_fields
from apps.common.links import id_url
from apps.common.xlsx import xlsx_response
from apps.estimates.models import Tier, default_subject_key
from apps.estimates.trace_view import trace_view
from apps.estimates.traces import served_trace
from apps.evidence.selectors import ingest_run_list
from apps.shipments.export_jobs import EXPORT_HEADER, export_rows
from apps.shipments.filters import ShipmentFilter
from apps.shipments.page_panels import shipment_panels
from apps.shipments.plausibility import include_flagged, toggle_query
from apps.shipments.reports import certificates_view, default_comparison, default_comparison_of
from apps.shipments.selectors import (
    SORTS,
    cached_on_totals,
    exporter_comparison,
    shipment_list,
    shipment_page,
    totals_version,
)

PAGE = 50
#: The most flagged lines the list's notice counts ("1,000 lines … or more").
LEFT_OUT_MAX = 1000

_ROW = (
    '<tr><td><a href="{}">{} / {}</a>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    '<td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
    "<td>{}</td></tr>"
)


#: What a list row shows, read with ``values()``.
LIST_VALUES = (
    "declaration_id",
    "line",
    "date",
    "cn_code",
    "origin",
    "exporter_id",
    "exporter__name",
    "importer_name",
    "net_mass_t",
    "estimate__see_total_t_per_t",
    "embedded_emissions_t",
    "tier",
    "implausible",
    "implausible_reason",
    "estimate__preview",
)


def _list_rows(rows: list[dict]) -> SafeString:
    """The list's table body, built here with every text escaped: placing 13 cells × 50
    rows through the template engine (or format_html) costs more CPU than the query
    (benchmarks/web.py)."""
    exporter_url, detail_url = id_url("exporter-detail"), id_url("shipment-detail")

    tiers = {value: escape(label) for value, label in Tier.choices}
    # The active language's decimal separator and short date (per row, a str.replace and a
    # strftime: the template engine's localisation would cost more than the query).
    decimal = formats.get_format("DECIMAL_SEPARATOR")
    short_date = formats.get_format("SHORT_DATE_FORMAT")

    def number(value: float, places: int) -> str:
        return f"{value:.{places}f}".replace(".", decimal)

    no_tier, implausible = escape(_("none")), escape(_("flagged implausible"))
    out = []
    for s in rows:
        see = s["estimate__see_total_t_per_t"]
        embedded = s["embedded_emissions_t"]
        exporter = escape(s["exporter__name"])
        exporter = f'<a href="{exporter_url.format(s["exporter_id"])}">{exporter}</a>'
        tier = escape(s["tier"])
        tier = (
            f'<span class="tier tier-{tier}">{tiers.get(s["tier"], tier)}</span>'
            if tier
            else no_tier
        )
        if s["estimate__preview"]:  # not an official figure (docs/adoption.md)
            tier += f' <span class="tier tier-preview">{_("Preview")}</span>'

        badge = ""
        if s["implausible"]:
            badge = (
                f' <span class="flag flag-implausible" title="{escape(s["implausible_reason"])}">'
                f"{implausible}</span>"
            )
        out.append(
            _ROW.format(
                detail_url.format(s["id"]),
                escape(s["declaration_id"]),
                s["line"],
                badge,
                dateformat.format(s["date"], short_date),
                escape(s["cn_code"]),
                escape(s["origin"]),
                exporter,
                escape(s["importer_name"] or "—"),
                number(s["net_mass_t"], 3),
                number(see, 4) if see is not None else "—",
                number(embedded, 2) if embedded is not None else "—",
                tier,
            )
        )
    return mark_safe("\n".join(out))  # noqa: S308  (every text above is escaped)


@login_required
def shipment_list_view(request: HttpRequest) -> HttpResponse:
    filterset = ShipmentFilter(
        request.GET, queryset=shipment_list(user=request.user), request=request
    )
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    export = request.GET.get("export", "")
    if export == "csv":
        return csv_response("shipments.csv", EXPORT_HEADER, export_rows(qs))
    if export == "xlsx":
        return xlsx_response("shipments.xlsx", EXPORT_HEADER, export_rows(qs))
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    page = shipment_page(
        qs, sort=sort, cursor=request.GET.get("cursor", ""), size=PAGE, values=LIST_VALUES
    )
    params = request.GET.copy()
    for key in ("cursor", "export"):
        params.pop(key, None)
    export_params = params.copy()
    export_params.pop("sort", None)
    filtered = any(v for k, v in params.items() if k not in ("sort", "implausible"))
    implausible = filterset.form.cleaned_data.get("implausible", "") if filterset.is_valid() else ""
    left_out = 0
    if not implausible and filterset.is_valid():
        only = request.GET.copy()
        only["implausible"] = "only"
        # Read through the flagged lines' partial index, at most LEFT_OUT_MAX of them: the
        # list never counts the shipments table (docs/web.md).
        left_out = len(
            ShipmentFilter(only, queryset=shipment_list(user=request.user), request=request)
            .qs.order_by()
            .values_list("id", flat=True)[:LEFT_OUT_MAX]
        )
    return render(
        request,
        "shipments/shipment_list.html",
        {
            "filter": filterset,
            "filter_fields": filter_fields(filterset.form),
            "shipments": page.rows,
            "rows": _list_rows(page.rows),
            "next_cursor": page.next_cursor,
            "first_page": not request.GET.get("cursor"),
            "query": params.urlencode(),
            "export_query": export_params.urlencode(),
            "sorts": [(k, v[0]) for k, v in SORTS.items()],
            "sort": sort,
            "sort_label": SORTS[sort][0],
            "filtered": filtered,
            "summary": _summary(filterset, qs, request.user) if page.rows else None,
            "emptied": _emptied(filterset, request) if not page.rows and filtered else None,
            "implausible": implausible,
            "left_out": left_out,
            "left_out_more": left_out >= LEFT_OUT_MAX,
            "include_query": toggle_query(request.GET, include=True),
            "exclude_query": toggle_query(request.GET, include=False),
        },
    )


#: Filters the pre-aggregated totals can answer (the summary row is then read from them).
_TOTALS_FILTERS = {"cn_code", "product_group", "origin", "exporter", "period_from", "period_to"}


def _summary(filterset, qs, user) -> dict:
    """The list's summary row: from the totals when every filter set is one they can
    answer (periods on whole months), else summed over the filtered lines."""
    import calendar

    from apps.accounts.models import Organisation
    from apps.shipments.filters import _digits, product_group_prefixes
    from apps.shipments.rankings import totals_summary

    data = {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}
    implausible = data.pop("implausible", "")
    period_to = data.get("period_to")
    whole_months = (not data.get("period_from") or data["period_from"].day == 1) and (
        not period_to or period_to.day == calendar.monthrange(period_to.year, period_to.month)[1]
    )
    both_codes = "cn_code" in data and "product_group" in data
    importer = getattr(user, "role", "") == "importer"  # reads lines by importer name
    if set(data) - _TOTALS_FILTERS or implausible == "only" or not whole_months:
        return list_summary(qs)
    if both_codes or importer:
        return list_summary(qs)
    prefixes = None
    if "cn_code" in data:
        prefixes = [_digits(data["cn_code"])]
    elif "product_group" in data:
        prefixes = product_group_prefixes(data["product_group"])
    origin = ""
    if "origin" in data:
        from ingest.countries import to_iso2

        origin = to_iso2(data["origin"]) or data["origin"].strip().upper()
    exporters = None
    if "exporter" in data:
        exporters = list(
            Organisation.objects.filter(name__icontains=data["exporter"]).values_list(
                "pk", flat=True
            )
        )
    row = totals_summary(
        user=user,
        cn_prefixes=prefixes,
        origin=origin,
        exporter_ids=exporters,
        period_from=data.get("period_from"),
        period_to=period_to,
        include_implausible=implausible == "include",
    )
    return {
        "lines": row["lines"],
        "tonnes": row["tonnes"],
        "tco2e": row["tco2e"],
        "exporters": row["exporters"],
        "default_share": row["default_share"],
    }


def _emptied(filterset, request) -> dict | None:
    """Which filter emptied the list, with the query string without it."""
    from apps.shipments.filters import emptied_by

    found = emptied_by(filterset)
    if found and found["name"]:
        params = request.GET.copy()
        for key in (found["name"], "cursor"):
            params.pop(key, None)
        found["without"] = params.urlencode()
    return found


# A summary the totals cannot answer (a tier, importer, installation, search …) reads the
# lines themselves: at most this many, newest first through the list's own index, so that
# no page view aggregates an unbounded part of the table (docs/scaling.md).
SUMMARY_CAP = 100_000


def list_summary(qs) -> dict:
    """The summary row of a filtered list: lines, tonnes, tCO2e (the CBAM figure),
    distinct exporters and the share of the tonnage on default values; over the newest
    :data:`SUMMARY_CAP` lines of the filter when it holds more (``capped``)."""
    from django.db.models import Case, Count, FloatField, Sum, When
    from django.db.models.functions import Coalesce

    # A sliced queryset is aggregated over a subquery: the LIMIT bounds what is read.
    row = qs.order_by("-id")[:SUMMARY_CAP].aggregate(
        lines=Count("id"),
        tonnes=Coalesce(Sum("net_mass_t"), 0.0),
        tco2e=Coalesce(Sum("embedded_emissions_t"), 0.0),
        exporters=Count("exporter_id", distinct=True),
        default_tonnes=Coalesce(
            Sum(
                Case(
                    When(tier="default", then="net_mass_t"),
                    default=0.0,
                    output_field=FloatField(),
                )
            ),
            0.0,
        ),
    )
    mass = row["tonnes"]
    row["default_share"] = 100 * row["default_tonnes"] / mass if mass else 0.0
    row["capped"] = row["lines"] >= SUMMARY_CAP
    return row


@login_required
def shipment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = (
        shipment_list(user=request.user)
        .select_related("ingest_run__evidence", "installation")
        .filter(pk=pk)
        .first()
    )
    if shipment is None:
        raise Http404("No such shipment")
    estimate = shipment.estimate
    trace = served_trace(estimate=estimate, user=request.user).trace if estimate else None
    version = totals_version()  # one read for the page's cached reads
    history = audit_history_of(
        [("ingest_run", shipment.ingest_run_id), ("estimate", shipment.estimate_id)],
        user=request.user,
    )
    panels, panel_context = shipment_panels(request.user, shipment)
    return render(
        request,
        "shipments/shipment_detail.html",
        {
            **panel_context,
            "panels": panels,
            "shipment": shipment,
            # The customs file opens for whoever may see its run (docs/web.md).
            "file_open": ingest_run_list(user=request.user)
            .filter(pk=shipment.ingest_run_id)
            .exists(),
            "installation": _installation_of(shipment, request.user),
            "estimate": estimate,
            "best": shipment.best_estimate,
            "gap": None
            if shipment.best_embedded_emissions_t is None or shipment.embedded_emissions_t is None
            else shipment.embedded_emissions_t - shipment.best_embedded_emissions_t,
            "trace": trace,
            "trace_view": trace_view(trace, user=request.user) if trace else None,
            "tier_label": tier_label(estimate, trace),
            "history": history,
            "default": _default_comparison(shipment, estimate, trace, version=version),
            "exporters": exporter_comparison(
                cn_code=shipment.cn_code, user=request.user, version=version
            ),
            "certificates": certificates_view(
                year=shipment.date.year,
                see_total_t_per_t=estimate.see_total_t_per_t if estimate else None,
                mass_t=shipment.net_mass_t,
                tier=estimate.tier if estimate else "",
            ),
        },
    )


def _installation_of(shipment, user):
    """The installation the line declares, as ``user`` may see it (for the link)."""
    from apps.facilities.selectors import installation_list

    if shipment.installation_id:
        return installation_list(user=user).filter(pk=shipment.installation_id).first()
    if not shipment.installation_identifier:
        return None
    return installation_list(user=user).filter(identifier=shipment.installation_identifier).first()


def _default_comparison(shipment, estimate, trace: dict | None, *, version: str) -> dict:
    """The origin's default value for the shipment's CN code and year: the shipment's own
    estimate when it is that default (its trace holds the engine's result), else the
    engine's answer, kept until the totals (and so the default values) change."""
    origin, cn_code, year = shipment.origin, shipment.cn_code, shipment.date.year
    if estimate is not None and estimate.subject_key == default_subject_key(origin, cn_code, year):
        return default_comparison_of(trace["result"])
    return cached_on_totals(
        f"shipments:default:{origin}:{cn_code}:{year}",
        lambda: default_comparison(origin=origin, cn_code=cn_code, year=year),
        version=version,
    )


def tier_label(estimate, trace: dict | None) -> str:
    """E.g. "Default value, 2026 mark-up (+10 %)"."""
    if estimate is None:
        return ""
    label = estimate.get_tier_display()
    case = (trace or {}).get("case", {})
    markup = (trace or {}).get("result", {}).get("markup")
    if estimate.tier == "default" and markup is not None:
        label += _(", %(year)s mark-up (+%(percent)s %%)") % {
            "year": case.get("year"),
            "percent": f"{markup * 100:g}",
        }
    return label


# --- The risk view (docs/web.md) ---------------------------------------------------------

RISK_HEADER = [
    pgettext_lazy("export column", "kind"),
    pgettext_lazy("export column", "id"),
    pgettext_lazy("export column", "name"),
    pgettext_lazy("export column", "country"),
    pgettext_lazy("export column", "shipments"),
    pgettext_lazy("export column", "net_mass_t"),
    pgettext_lazy("export column", "cbam_embedded_emissions_t"),
    pgettext_lazy("export column", "best_embedded_emissions_t"),
    pgettext_lazy("export column", "gap_t"),
    pgettext_lazy("export column", "flags"),
    pgettext_lazy("export column", "reasons"),
]


def risk_query(params) -> dict:
    """The risk view's filters from a query string: CN code (digits, a prefix), origin
    (two letters), period (ISO dates); anything else is ignored, a malformed value too."""
    import datetime as dt
    import re

    out: dict = {}
    cn = re.sub(r"[ .]", "", params.get("cn_code", ""))
    if cn.isdigit() and len(cn) <= 8:
        out["cn_code"] = cn
    origin = params.get("origin", "").strip()
    if origin:  # a code or a name ("China", "CN", "Türkiye"): ingest.countries.to_iso2
        from ingest.countries import to_iso2

        iso2 = to_iso2(origin)
        if iso2:
            out["origin"] = iso2
        elif re.fullmatch(r"[A-Za-z]{2}", origin):
            out["origin"] = origin.upper()
    if include_flagged(params):
        out["include_implausible"] = True
    for key in ("period_from", "period_to"):
        try:
            out[key] = dt.date.fromisoformat(params.get(key, ""))
        except ValueError:
            pass
    return out


def risk_readers(user) -> bool:
    """Officials, auditors and admins: the view names every exporter."""
    from apps.accounts.models import User

    return user.is_authenticated and (user.is_superuser or user.role != User.Role.EXPORTER)


@login_required
def risk_view(request: HttpRequest) -> HttpResponse:
    """Exporters and installations ranked by the gap between the CBAM figure and the best
    estimate, with the flags that explain it; ``?format=csv`` exports the ranking."""
    from django.core.exceptions import PermissionDenied

    from apps.shipments.risk import risk_ranking

    if not risk_readers(request.user):
        raise PermissionDenied("the risk view is for officials, auditors and admins")
    query = risk_query(request.GET)
    ranking = risk_ranking(**query)
    left_out = risk_left_out(query)
    if request.GET.get("format") == "csv":
        rows = [
            [
                r.kind,
                r.id,
                r.name,
                r.country,
                r.shipments,
                r.net_mass_t,
                r.cbam_t,
                r.best_t,
                r.gap_t,
                " | ".join(f["flag"] for f in r.flags),
                " | ".join(r.reasons),
            ]
            for r in [*ranking["exporters"], *ranking["installations"]]
        ]
        return csv_response("risk.csv", RISK_HEADER, rows)
    return render(
        request,
        "shipments/risk.html",
        {
            "exporters": ranking["exporters"],
            "installations": ranking["installations"],
            "query": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in query.items()
            },
            "csv_query": request.GET.urlencode(),
            "left_out": left_out,
            "include_flagged": query.get("include_implausible", False),
            "include_query": toggle_query(request.GET, include=True),
            "exclude_query": toggle_query(request.GET, include=False),
        },
    )


def risk_left_out(query: dict) -> int:
    """How many lines flagged implausible the risk view's filter leaves out (0 when the
    reader asked to include them)."""
    from apps.shipments.models import Shipment
    from apps.shipments.risk import _scope

    if query.get("include_implausible"):
        return 0
    where = {k: v for k, v in query.items() if k != "include_implausible"}
    return Shipment.objects.filter(
        _scope(**where, include_implausible=True), implausible=True
    ).count()
