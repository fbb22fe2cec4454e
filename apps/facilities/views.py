"""Installation pages: a filtered list, and a page per installation with its footprint map,
routes and grid zone, and the sections other areas register for it (satellite activity
against disclosed production and flags, disclosures and estimates: apps/facilities/panels.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.facilities.filters import InstallationFilter
from apps.facilities.maps import footprint_label, footprint_svg
from apps.facilities.models import Installation, MatchSuggestion
from apps.facilities.panels import installation_panels
from apps.facilities.selectors import (
    installation_attribution,
    installation_get,
    installation_list,
    match_deciders,
    match_reviewers,
    match_suggestion_list,
)
from apps.facilities.services import MatchDecisionError, match_decide

PAGE = 50
NEIGHBOURHOOD_DEG = 0.05


@login_required
def installation_list_view(request: HttpRequest) -> HttpResponse:
    filterset = InstallationFilter(request.GET, queryset=installation_list(user=request.user))
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
        "facilities/installation_list.html",
        {
            "filter": filterset,
            "installations": rows[:PAGE],
            "next_after": next_after,
            "query": params.urlencode(),
            "attribution": installation_attribution(
                releases=set(
                    installation_list(user=request.user)
                    .exclude(source="")
                    .values_list("source", "source_release")
                    .distinct()
                )
            ),
        },
    )


@login_required
def installation_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    installation = installation_get(user=request.user, pk=pk)
    if installation is None:
        raise Http404("No such installation")
    neighbours = []
    if installation.latitude is not None and installation.longitude is not None:
        neighbours = list(
            installation_list(user=request.user)
            .exclude(pk=installation.pk)
            .filter(
                latitude__range=(
                    installation.latitude - NEIGHBOURHOOD_DEG,
                    installation.latitude + NEIGHBOURHOOD_DEG,
                ),
                longitude__range=(
                    installation.longitude - NEIGHBOURHOOD_DEG,
                    installation.longitude + NEIGHBOURHOOD_DEG,
                ),
            )[:50]
        )
    panels, panel_context = installation_panels(request.user, installation)
    routes = dict(Installation.Route.choices)
    return render(
        request,
        "facilities/installation_detail.html",
        {
            "installation": installation,
            "attribution": installation_attribution(
                releases={(installation.source, installation.source_release)}
            ),
            "routes": [routes.get(r, r) for r in installation.routes or []],
            "footprint_label": footprint_label(installation.footprint_source),
            "map_svg": footprint_svg(installation, neighbours),
            "neighbours": neighbours,
            "panels": panels,
            **panel_context,
        },
    )


@login_required
def match_review_view(request: HttpRequest) -> HttpResponse:
    """The review queue: suggestions of entity resolution, best first, with their evidence;
    officials confirm or reject each (and can reverse a decision)."""
    if not match_reviewers(request.user):
        raise PermissionDenied("the review queue is for officials, auditors and admins")
    status = request.GET.get("status", MatchSuggestion.Status.SUGGESTED)
    kind = request.GET.get("kind", "")
    qs = match_suggestion_list(user=request.user)
    if status in MatchSuggestion.Status.values:
        qs = qs.filter(status=status)
    if kind in MatchSuggestion.Kind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "facilities/match_review.html",
        {
            "suggestions": list(qs[:PAGE]),
            "total": qs.count(),
            "status": status,
            "kind": kind,
            "statuses": MatchSuggestion.Status.choices,
            "kinds": MatchSuggestion.Kind.choices,
            "can_decide": match_deciders(request.user),
        },
    )


@login_required
@require_POST
def match_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not match_deciders(request.user):
        raise PermissionDenied("only officials and admins decide on suggestions")
    if not match_suggestion_list(user=request.user).filter(pk=pk).exists():
        raise Http404("No such suggestion")
    try:
        match_decide(
            suggestion_id=pk,
            decision=request.POST.get("decision", ""),
            actor=request.user,
            note=request.POST.get("note", ""),
        )
    except MatchDecisionError as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    back = request.POST.get("next", "")
    if back.startswith("/installations/") and url_has_allowed_host_and_scheme(back, None):
        return redirect(back)  # decided from an installation page: back to it
    return redirect(f"{reverse('match-review')}?status={request.POST.get('back', 'suggested')}")
