"""The flags page (docs/web.md, "Flags"): every flag the user may see — customs lines
flagged implausible at ingest (``apps.shipments.models.LineFlag``) and reconciliation flags
of the satellite area — each linking to what it concerns, and the workflow open → under
review → resolved with a note, each step audited (``apps.audit.services.audit_append``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.satellite.models import ReconciliationFlag
from apps.satellite.selectors import flag_list
from apps.satellite.services import reconciliation_flag_close, reconciliation_flag_review
from apps.shipments.models import LineFlag
from apps.shipments.plausibility import (
    LABELS,
    FlagTransitionError,
    check_transition,
    line_flag_transition,
)

#: The page's status filter: name → the statuses shown.
SHOW = {
    "unresolved": ("open", "review"),
    "open": ("open",),
    "review": ("review",),
    "resolved": ("resolved",),
    "all": ("open", "review", "resolved"),
}


def may_review(user) -> bool:
    """Officials and admins move flags; others read them."""
    return user.is_superuser or user.role in (User.Role.OFFICIAL, User.Role.ADMIN)


def line_flag_scope(user):
    """The line flags ``user`` may see: those of the shipments they may read (an exporter
    its organisation's, an importer the lines naming it; other roles all), joined by key
    only, never a scan of the shipments."""
    qs = LineFlag.objects.all()
    if user.role == User.Role.EXPORTER:
        return (
            qs.filter(shipment__exporter_id=user.organisation_id)
            if user.organisation_id
            else qs.none()
        )
    if user.role == User.Role.IMPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(shipment__importer_name__iexact=user.organisation.name)
    return qs


def _line_flags(user) -> list[dict]:
    out = []
    for f in line_flag_scope(user).select_related("shipment"):
        s = f.shipment
        out.append(
            {
                "kind": "line",
                "kind_label": _("Implausible customs line"),
                "id": f.pk,
                "status": f.status,
                "subject": _("Shipment %(declaration)s / %(line)s (CN %(cn)s, %(origin)s)")
                % {
                    "declaration": s.declaration_id,
                    "line": s.line,
                    "cn": s.cn_code,
                    "origin": s.origin,
                },
                "url": reverse("shipment-detail", args=[s.pk]),
                "reason": f.reason,
                "note": f.note,
                "created_at": f.created_at,
            }
        )
    return out


def _reconciliation_flags(user) -> list[dict]:
    status = {"open": "open", "review": "review", "closed": "resolved"}
    return [
        {
            "kind": "reconciliation",
            "kind_label": _("Reconciliation (satellite)"),
            "id": f.pk,
            "status": status[f.status],
            "subject": _("Installation %(name)s (%(identifier)s), %(period)s")
            % {
                "name": f.installation.name,
                "identifier": f.installation.identifier,
                "period": f.period,
            },
            "url": reverse("installation-detail", args=[f.installation_id]),
            "reason": f.reason,
            "note": f.closed_reason,
            "created_at": f.created_at,
        }
        for f in flag_list(user=user).defer("trace")
    ]


def flag_counts(user) -> dict[str, int]:
    """Unresolved flags of both kinds the user may see: ``open``, ``review``, ``total``."""
    lines = line_flag_scope(user)
    rec = flag_list(user=user)
    open_ = (
        lines.filter(status="open").count()
        + rec.filter(status=ReconciliationFlag.Status.OPEN).count()
    )
    review = (
        lines.filter(status="review").count()
        + rec.filter(status=ReconciliationFlag.Status.REVIEW).count()
    )
    return {"open": open_, "review": review, "total": open_ + review}


@login_required
def flag_list_view(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "unresolved")
    show = show if show in SHOW else "unresolved"
    kind = request.GET.get("kind", "")
    flags = []
    if kind in ("", "line"):
        flags += _line_flags(request.user)
    if kind in ("", "reconciliation"):
        flags += _reconciliation_flags(request.user)
    counts = {name: sum(f["status"] in statuses for f in flags) for name, statuses in SHOW.items()}
    flags = [f for f in flags if f["status"] in SHOW[show]]
    flags.sort(key=lambda f: (f["status"] == "resolved", -f["created_at"].timestamp()))
    for f in flags:
        f["status_label"] = LABELS[f["status"]]
    return render(
        request,
        "web/flags.html",
        {
            "flags": flags,
            "show": show,
            "kind": kind,
            "counts": counts,
            "shows": [
                (key, label, counts[key])
                for key, label in (
                    ("unresolved", _("Unresolved")),
                    ("open", _("Open")),
                    ("review", _("Under review")),
                    ("resolved", _("Resolved")),
                    ("all", _("All")),
                )
            ],
            "may_review": may_review(request.user),
            "show_label": {
                "open": _("open"),
                "review": _("under review"),
                "resolved": _("resolved"),
                "unresolved": _("unresolved"),
            }.get(show, show),
        },
    )


@login_required
@require_POST
def flag_transition_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if not may_review(request.user):
        raise PermissionDenied("officials and admins review flags")
    status = request.POST.get("status", "")
    note = request.POST.get("note", "")
    back = reverse("flag-list") + "?" + request.POST.get("back", "")
    try:
        if kind == "line":
            flag = line_flag_scope(request.user).filter(pk=pk).first()
            if flag is None:
                raise Http404("No such flag")
            line_flag_transition(flag=flag, status=status, note=note, actor=request.user)
        elif kind == "reconciliation":
            flag = flag_list(user=request.user).filter(pk=pk).first()
            if flag is None:
                raise Http404("No such flag")
            current = {"open": "open", "review": "review", "closed": "resolved"}[flag.status]
            check_transition(current, status, note)
            if status == "review":
                reconciliation_flag_review(flag=flag, actor=request.user, note=note)
            else:
                reconciliation_flag_close(flag=flag, actor=request.user, reason=note.strip())
        else:
            raise Http404("No such kind of flag")
    except FlagTransitionError as exc:
        messages.error(request, _("Flag %(id)s: %(error)s") % {"id": pk, "error": exc})
        return redirect(back)
    messages.success(
        request, _("Flag %(id)s: %(status)s.") % {"id": pk, "status": LABELS[status].lower()}
    )
    return redirect(back)
