"""Installation pages: a filtered list, and a page per installation with its footprint map,
routes, grid zone, satellite activity against disclosed production, and flags."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.facilities.filters import InstallationFilter
from apps.facilities.maps import footprint_label, footprint_svg
from apps.facilities.models import Installation, MatchSuggestion
from apps.facilities.selectors import (
    installation_attribution,
    installation_get,
    installation_list,
    match_deciders,
    match_reviewers,
    match_suggestion_list,
)
from apps.facilities.services import MatchDecisionError, match_decide
from apps.satellite.charts import activity_chart_svg
from apps.satellite.selectors import installation_satellite_view

PAGE = 50
# The disclosures area lists an installation's disclosures and estimates by providing this
# template; until it exists the empty-safe placeholder of this app is included.
DISCLOSURES_TEMPLATES = ["disclosures/_installation.html", "facilities/_disclosures.html"]
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
    satellite = installation_satellite_view(installation_id=installation.pk)
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
            "satellite": satellite,
            "chart_svg": activity_chart_svg(
                satellite["monthly"], satellite["annual"], satellite["flags"]
            ),
            "disclosures_template": select_template(DISCLOSURES_TEMPLATES),
            **_disclosures_and_estimates(request.user, installation),
            **_figures_and_links(request.user, installation),
        },
    )


def _figures_and_links(user, installation: Installation) -> dict:
    """The installation's current estimates with their intervals (the modelled rung and
    its evidence), and the exporters linked or suggested to it with their shipments and the
    gap between the two figures (docs/registry.md, the installation page). Suggestions
    name other organisations: officials, auditors and admins only."""
    from django.db.models import Count, Q, Sum

    from apps.estimates.models import Estimate
    from apps.shipments.models import Shipment

    current = list(
        Estimate.objects.filter(installation=installation, superseded_by__isnull=True)
        .defer("trace")
        .order_by("-period_start", "cn_code", "tier")
    )
    links = []
    if match_reviewers(user):
        suggestions = list(
            installation.match_suggestions.filter(kind=MatchSuggestion.Kind.INSTALLATION)
            .select_related("organisation", "decided_by")
            .order_by("-score")
        )
        totals = {
            r["exporter_id"]: r
            for r in Shipment.objects.filter(
                is_current=True,
                exporter_id__in=[s.organisation_id for s in suggestions],
                origin=installation.country,
            )
            .filter(Q(installation__isnull=True) | Q(installation=installation))
            .values("exporter_id")
            .annotate(
                n=Count("id"),
                mass=Sum("net_mass_t"),
                cbam=Sum("embedded_emissions_t"),
                best=Sum("best_embedded_emissions_t"),
            )
        }
        for s in suggestions:
            t = totals.get(s.organisation_id, {})
            gap = (t.get("cbam") or 0.0) - (t.get("best") or 0.0) if t else None
            links.append({"suggestion": s, "shipments": t.get("n", 0), "gap": gap})
    return {
        "current_estimates": current,
        "links": links,
        "can_decide": match_deciders(user),
    }


def _disclosures_and_estimates(user, installation: Installation) -> dict:
    """The installation's disclosures the user may read (each with its versions) and its
    estimates over time, for the disclosures block of the page."""
    from apps.disclosures.selectors import disclosure_list
    from apps.estimates.models import Estimate
    from apps.satellite.models import ReconciliationFlag
    from apps.web.audit import audit_history_of

    disclosures = list(
        disclosure_list(user=user)
        .filter(installation=installation)
        .prefetch_related("versions")
        .order_by("-period_year")
    )
    estimates = list(
        Estimate.objects.filter(installation=installation)
        .defer("trace")
        .order_by("period_start", "cn_code", "created_at")
    )
    flags = ReconciliationFlag.objects.filter(installation=installation).values_list(
        "pk", flat=True
    )
    history = audit_history_of(
        [("disclosure_version", v.pk) for d in disclosures for v in d.versions.all()]
        + [("estimate", e.pk) for e in estimates]
        + [("reconciliation_flag", pk) for pk in flags]
    )
    return {
        "installation_disclosures": disclosures,
        "installation_estimates": estimates,
        "history": history,
    }


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
