"""The officials' pages of methodology versions (docs/adoption.md): the versions, who
signed what and when, their status; a form to add a member's signature line (made offline
by the member); and what changed between two versions: the figures of a sample of
shipments recomputed under both. Site pages: the comparison joins shipments and estimates.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy

from apps.accounts.models import User
from apps.adoption.selectors import (
    ADOPTED,
    PREVIEW,
    RETIRED,
    SampleCase,
    coalition,
    version_compare,
    version_current,
    version_differences_here,
    version_list,
    version_record,
    version_signers,
    version_status,
)
from apps.adoption.services import AdoptionError, methodology_version_sign
from apps.estimates.models import Estimate
from apps.shipments.selectors import shipment_list
from apps.shipments.services import shipment_figures_rechoose

READERS = (User.Role.OFFICIAL, User.Role.AUDITOR, User.Role.ADMIN)
SIGNERS = (User.Role.OFFICIAL, User.Role.ADMIN)
SAMPLE = 12  # shipments compared, each with a distinct CBAM-figure estimate
#: A version's status as a page shows it (the codes stay the API's, DESIGN §7).
STATUS_LABELS = {
    ADOPTED: pgettext_lazy("methodology version status", "Adopted"),
    PREVIEW: pgettext_lazy("methodology version status", "Preview"),
    RETIRED: pgettext_lazy("methodology version status", "Retired"),
}

#: The same in a sentence ("… 1 of 2 required signatures: preview.").
STATUS_WORDS = {
    ADOPTED: pgettext_lazy("methodology version status, in a sentence", "adopted"),
    PREVIEW: pgettext_lazy("methodology version status, in a sentence", "preview"),
    RETIRED: pgettext_lazy("methodology version status, in a sentence", "retired"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _reader(user: User) -> None:
    if not (user.is_superuser or user.role in READERS):
        raise PermissionDenied


def may_upload(user: User) -> bool:
    return user.is_superuser or user.role in SIGNERS


@login_required
def methodology_versions_view(request: HttpRequest) -> HttpResponse:
    _reader(request.user)
    if request.method == "POST":
        return _add_signature(request)
    members = coalition()
    current = version_current().version
    versions = []
    for v in version_list():
        signers = version_signers(v, members)
        versions.append(
            {
                "version": v,
                "status": (status := version_status(v, members)),
                "status_label": status_label(status),
                "current": current is not None and current.pk == v.pk,
                "signers": signers,
                "missing": [k.name for k in members.keys if k.name not in signers],
                "parameters": json.dumps(v.manifest.get("parameters", {}), sort_keys=True),
                "record": version_record(v),
                "elsewhere": version_differences_here(v),
            }
        )
    return render(
        request,
        "web/methodology_versions.html",
        {
            "members": members,
            "versions": versions,
            "may_upload": may_upload(request.user),
        },
    )


def _add_signature(request: HttpRequest) -> HttpResponse:
    if not may_upload(request.user):
        raise PermissionDenied
    version = version_list().filter(label=request.POST.get("label", "")).first()
    if version is None:
        raise Http404("no such methodology version")
    before = version_status(version)
    try:
        methodology_version_sign(
            version=version, line=request.POST.get("line", ""), actor=request.user
        )
    except AdoptionError as exc:
        messages.error(request, gettext("Signature refused: %(reason)s") % {"reason": exc})
    else:
        version = version_list().get(pk=version.pk)
        status = version_status(version)
        redone = ""
        if before != ADOPTED and status == ADOPTED:
            # The figures computed as previews are chosen again, now as official figures.
            outcome = shipment_figures_rechoose(actor=request.user)
            redone = " " + gettext("Figures chosen again: %(shipments)s shipments changed.") % {
                "shipments": f"{outcome.shipments:,}"
            }
        messages.success(
            request,
            gettext(
                "Signature stored. Version %(label)s has %(signed)s of %(k)s required "
                "signatures: %(status)s."
            )
            % {
                "label": version.label,
                "signed": len(version_signers(version)),
                "k": coalition().threshold,
                "status": STATUS_WORDS.get(status, status),
            }
            + redone,
        )
    return redirect(reverse("methodology-versions") + f"#version-{version.pk}")


def _sample(user: User) -> list[SampleCase]:
    """Up to SAMPLE current shipments the user may read, each with a distinct CBAM-figure
    estimate, with that estimate's stored case (the newest shipments first)."""
    picked: dict[int, object] = {}
    for s in shipment_list(user=user).filter(estimate__isnull=False).order_by("-id")[:3000]:
        if s.estimate_id not in picked:
            picked[s.estimate_id] = s
        if len(picked) == SAMPLE:
            break
    traces = dict(Estimate.objects.filter(pk__in=list(picked)).values_list("pk", "trace"))
    return [
        SampleCase(
            key=f"{s.declaration_id} / {s.line}",
            net_mass_t=float(s.net_mass_t),
            case=json.loads(traces[pk])["case"],
            extra={"shipment": s, "estimate_id": pk},
        )
        for pk, s in picked.items()
    ]


@login_required
def methodology_versions_compare_view(request: HttpRequest) -> HttpResponse:
    _reader(request.user)
    by_label = {v.label: v for v in version_list()}
    a, b = by_label.get(request.GET.get("a", "")), by_label.get(request.GET.get("b", ""))
    if a is None or b is None:
        raise Http404("choose two methodology versions (?a=LABEL&b=LABEL)")
    members = coalition()
    rows = version_compare(a=a, b=b, items=_sample(request.user))
    return render(
        request,
        "web/methodology_versions_compare.html",
        {
            "a": a,
            "b": b,
            "a_status": (a_status := version_status(a, members)),
            "b_status": (b_status := version_status(b, members)),
            "a_status_label": status_label(a_status),
            "b_status_label": status_label(b_status),
            "rows": rows,
            "changed": sum(1 for r in rows if r["changed"]),
            "parameters": {
                "a": json.dumps(a.manifest.get("parameters", {}), sort_keys=True),
                "b": json.dumps(b.manifest.get("parameters", {}), sort_keys=True),
            },
        },
    )
