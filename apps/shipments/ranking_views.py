"""The rankings page (docs/web.md, "Rankings") and the compare view ("Compare exporters")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.shipments.plausibility import toggle_query
from apps.shipments.rankings import RANK_BY, RANK_SORTS, ranking
from apps.shipments.views import risk_left_out, risk_query


def _left_out(query: dict, user) -> int:
    if query.get("include_implausible"):
        return 0
    from apps.shipments.selectors import flagged_lines

    keys = ("cn_code", "origin", "period_from", "period_to")
    flagged = flagged_lines(user=user, **{k: v for k, v in query.items() if k in keys})
    if query.get("exporter_id"):
        flagged = flagged.filter(exporter_id=query["exporter_id"])
    return flagged.count()


def _emptied_text(request: HttpRequest, query: dict) -> str:
    """ "No shipments match: the filter Origin = “AQ” left none …" for an empty ranking."""
    from apps.shipments.filters import ShipmentFilter, emptied_by
    from apps.shipments.selectors import shipment_list

    params = {k: request.GET.get(k, "") for k in ("cn_code", "origin", "period_from", "period_to")}
    if query.get("include_implausible"):
        params["implausible"] = "include"
    found = emptied_by(
        ShipmentFilter(params, queryset=shipment_list(user=request.user), request=request)
    )
    if not found or not found["name"]:
        return ""
    return _(
        "No shipments match: the filter %(label)s = “%(value)s” left none of "
        "the lines that matched the filters before it."
    ) % {"label": found["label"], "value": found["value"]}


def _exporter_name(pk: int | None, user) -> str:
    from apps.accounts.models import Organisation, User

    if not pk or (user.role == User.Role.EXPORTER and user.organisation_id != pk):
        return ""
    return Organisation.objects.filter(pk=pk).values_list("name", flat=True).first() or ""


@login_required
def ranking_view(request: HttpRequest) -> HttpResponse:
    """Lines, tonnes, tCO2e, SEE, distinct exporters and the share on defaults by CN code,
    origin or exporter; every column sorts; a summary row over the filter."""
    query = risk_query(request.GET)
    exporter = request.GET.get("exporter", "")
    if exporter.isdigit():
        query["exporter_id"] = int(exporter)
    by = request.GET.get("by", "cn_code")
    by = by if by in RANK_BY else "cn_code"
    sort = request.GET.get("sort", "tco2e")
    sort = sort if sort in RANK_SORTS else "tco2e"
    descending = request.GET.get("dir", "desc") != "asc"
    result = ranking(user=request.user, by=by, sort=sort, descending=descending, **query)
    columns = []
    for name, (label, _key) in RANK_SORTS.items():
        if name == "exporters" and by == "exporter":
            continue
        params = request.GET.copy()
        params["sort"] = name
        params["dir"] = "asc" if (name == sort and descending) else "desc"
        state = "none"
        if name == sort:
            state = "descending" if descending else "ascending"
        columns.append(
            {
                "name": name,
                "label": RANK_BY[by][0] if name == "key" else label,
                "query": params.urlencode(),
                "sort": state,
            }
        )
    filters = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in query.items()
        if k not in ("include_implausible", "exporter_id")
    }
    return render(
        request,
        "shipments/rankings.html",
        {
            "by": by,
            "by_label": RANK_BY[by][0],
            "by_choices": [(k, v[0]) for k, v in RANK_BY.items()],
            "rows": result.rows,
            "summary": result.summary,
            "columns": columns,
            "query": filters,
            "origin_text": request.GET.get("origin", ""),
            "left_out": _left_out(query, request.user),
            "include_flagged": query.get("include_implausible", False),
            "include_query": toggle_query(request.GET, include=True),
            "exclude_query": toggle_query(request.GET, include=False),
            "emptied_by": _emptied_text(request, query) if not result.rows and filters else "",
            "filtered": bool(filters) or "exporter_id" in query,
            "exporter_id": query.get("exporter_id"),
            "exporter_name": _exporter_name(query.get("exporter_id"), request.user),
        },
    )


__all__ = ["ranking_view", "risk_left_out"]


@login_required
def compare_view(request: HttpRequest) -> HttpResponse:
    """Exporters of one product side by side (``?cn_code=`` an 8-digit CN code; ``origin``
    a code or a country name narrows to one origin, else across origins)."""
    import re

    from apps.catalogue.models import CNCode
    from apps.shipments.rankings import compare_exporters

    query = risk_query(request.GET)
    cn_code = re.sub(r"[\s.]", "", request.GET.get("cn_code", ""))
    error = ""
    if cn_code and not re.fullmatch(r"[0-9]{8}", cn_code):
        error = _("CN code %(code)s: the compare view takes one 8-digit CN code, e.g. 72081000") % {
            "code": repr(cn_code)
        }
    origin = query.get("origin", "")
    include = query.get("include_implausible", False)
    rows = (
        compare_exporters(
            user=request.user, cn_code=cn_code, origin=origin, include_implausible=include
        )
        if cn_code and not error
        else []
    )
    product = CNCode.objects.filter(code=cn_code).first() if cn_code else None
    left_out = 0
    if cn_code and not include and not error:
        from apps.shipments.selectors import flagged_lines

        left_out = flagged_lines(user=request.user, origin=origin).filter(cn_code=cn_code).count()
    return render(
        request,
        "shipments/compare.html",
        {
            "cn_code": cn_code,
            "product": product,
            "origin": origin,
            "origin_text": request.GET.get("origin", ""),
            "rows": rows,
            "error": error,
            "left_out": left_out,
            "include_flagged": include,
            "include_query": toggle_query(request.GET, include=True),
            "exclude_query": toggle_query(request.GET, include=False),
        },
    )
