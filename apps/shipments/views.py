"""The officials' shipment pages: a filtered list and a shipment report."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.audit.selectors import audit_history
from apps.shipments.filters import ShipmentFilter
from apps.shipments.selectors import shipment_list

PAGE = 50


@login_required
def shipment_list_view(request: HttpRequest) -> HttpResponse:
    filterset = ShipmentFilter(request.GET, queryset=shipment_list(user=request.user))
    qs = filterset.qs.order_by("-id") if filterset.is_valid() else filterset.queryset.none()
    after = request.GET.get("after", "")
    if after.isdigit():
        qs = qs.filter(id__lt=int(after))
    rows = list(qs[: PAGE + 1])
    next_after = rows[PAGE - 1].id if len(rows) > PAGE else None
    params = request.GET.copy()
    params.pop("after", None)
    return render(
        request,
        "shipments/shipment_list.html",
        {
            "filter": filterset,
            "shipments": rows[:PAGE],
            "next_after": next_after,
            "query": params.urlencode(),
        },
    )


@login_required
def shipment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = (
        shipment_list(user=request.user)
        .select_related("ingest_run__evidence")
        .filter(pk=pk)
        .first()
    )
    if shipment is None:
        raise Http404("No such shipment")
    trace = json.loads(shipment.estimate.trace) if shipment.estimate else None
    history = list(audit_history(object_type="ingest_run", object_id=shipment.ingest_run_id))
    if shipment.estimate:
        history += list(audit_history(object_type="estimate", object_id=shipment.estimate_id))
    history.sort(key=lambda event: event.index)
    return render(
        request,
        "shipments/shipment_detail.html",
        {
            "shipment": shipment,
            "estimate": shipment.estimate,
            "trace": trace,
            "tier_label": tier_label(shipment.estimate, trace),
            "history": history,
        },
    )


def tier_label(estimate, trace: dict | None) -> str:
    """E.g. "Default value, 2026 mark-up (+10 %)"."""
    if estimate is None:
        return ""
    label = estimate.get_tier_display()
    case = (trace or {}).get("case", {})
    markup = (trace or {}).get("result", {}).get("markup")
    if estimate.tier == "default" and markup is not None:
        label += f", {case.get('year')} mark-up (+{markup * 100:g} %)"
    return label
