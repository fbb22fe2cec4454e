"""Importers (docs/official-formats.md, "Importers"): officials browse the importers named in
the customs lines; an importer's members read their own customs lines and download their
own Registry report (XML, valid against v19)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.accounts.models import Organisation, User
from apps.accounts.services import importers_ensure as importer_organisations_ensure
from apps.shipments.models import DeclaredLine, Shipment
from apps.shipments.registry_report import ReportInputError, importer_report
from apps.shipments.selectors import shipment_list
from ingest.cbam_report import ReportError, write_cbam_report

READERS = (User.Role.OFFICIAL, User.Role.AUDITOR, User.Role.ADMIN)


def importer_rows() -> list[dict]:
    """Per importer of the current customs lines — its organisation where one was resolved
    (at ingest, by EORI or name), else the name the lines carry: lines, tonnes, tCO2e, its
    EORI and the reports it declared."""
    rows = list(
        Shipment.objects.filter(is_current=True)
        .exclude(importer_name="")
        .annotate(key=Lower("importer_name"))
        .values("importer_id", "key")
        .annotate(lines=Count("id"), tonnes=Sum("net_mass_t"), tco2e=Sum("embedded_emissions_t"))
    )
    names = dict(
        Shipment.objects.filter(is_current=True, importer__isnull=True)
        .exclude(importer_name="")
        .annotate(key=Lower("importer_name"))
        .values_list("key", "importer_name")
        .distinct()
    )
    orgs = Organisation.objects.in_bulk({r["importer_id"] for r in rows if r["importer_id"]})
    merged: dict = {}
    for r in rows:
        org = orgs.get(r["importer_id"])
        row = merged.setdefault(
            org.pk if org else r["key"],
            {
                "name": org.name if org else names.get(r["key"], r["key"]),
                "organisation": org,
                "lines": 0,
                "tonnes": 0.0,
                "tco2e": 0.0,
            },
        )
        row["lines"] += r["lines"]
        row["tonnes"] += r["tonnes"] or 0.0
        row["tco2e"] += r["tco2e"] or 0.0
    by_eori: dict[str, list] = {}
    by_name: dict[str, list] = {}
    for d in DeclaredLine.objects.values(
        "declarant_id", "declarant_name", "year", "period"
    ).distinct():
        by_eori.setdefault(d["declarant_id"], []).append(d)
        by_name.setdefault(d["declarant_name"].lower(), []).append(d)
    out = sorted(merged.values(), key=lambda row: -row["tonnes"])
    for row in out:
        org = row["organisation"]
        reports = by_name.get(row["name"].lower(), [])
        if org is not None and org.eori:
            reports = by_eori.get(org.eori, []) + [
                d for d in reports if d["declarant_id"] != org.eori
            ]
        row["reports"] = reports
    return out


@login_required
def importer_list_view(request: HttpRequest) -> HttpResponse:
    if request.user.role not in READERS:
        raise PermissionDenied("the importers' list is for officials, auditors and admins")
    if request.method == "POST":
        if request.user.role not in (User.Role.OFFICIAL, User.Role.ADMIN):
            raise PermissionDenied("officials register importers")
        importers_ensure()
        return redirect("importer-list")
    return render(request, "shipments/importer_list.html", {"rows": importer_rows()})


def importers_ensure() -> int:
    """Make every importer of the current customs lines an organisation (kind importer)
    and link the lines no organisation was resolved for at ingest (lines stored before
    importers were resolved); idempotent. Returns how many importers the lines name."""
    pairs = list(
        Shipment.objects.filter(is_current=True, importer__isnull=True)
        .exclude(importer_name="")
        .values_list("importer_name", "importer_eori")
        .distinct()
    )
    ids = importer_organisations_ensure(importers=pairs)
    with transaction.atomic():
        for (name, eori), pk in ids.items():
            Shipment.objects.filter(
                is_current=True, importer__isnull=True, importer_name=name, importer_eori=eori
            ).update(importer_id=pk)
    return (
        Shipment.objects.filter(is_current=True, importer__isnull=False)
        .values("importer_id")
        .distinct()
        .count()
    )


def _own(request: HttpRequest) -> Organisation:
    if request.user.role != User.Role.IMPORTER or not request.user.organisation_id:
        raise PermissionDenied("this page is an importer's own")
    return request.user.organisation


@login_required
def importer_home_view(request: HttpRequest) -> HttpResponse:
    organisation = _own(request)
    shipments = shipment_list(user=request.user)
    totals = shipments.aggregate(
        lines=Count("id"), tonnes=Sum("net_mass_t"), tco2e=Sum("embedded_emissions_t")
    )
    years = sorted({d.year for d in shipments.dates("date", "year")}, reverse=True)
    return render(
        request,
        "shipments/importer_home.html",
        {"organisation": organisation, "totals": totals, "years": years},
    )


@login_required
def importer_report_view(request: HttpRequest) -> HttpResponse:
    """``/importer/report.xml?year=YYYY[&quarter=Q]``: the importer's own Registry report."""
    organisation = _own(request)
    year = request.GET.get("year", "")
    quarter = request.GET.get("quarter", "")
    if (
        not year.isdigit()
        or not 2000 <= int(year) <= 2100
        or (quarter and (len(quarter) != 1 or quarter not in "1234"))
    ):
        return HttpResponse("year=YYYY and quarter=1..4", status=400, content_type="text/plain")
    if not organisation.eori:
        return HttpResponse(
            f"{organisation.name}: no EORI number is recorded for the organisation; the "
            "report needs the declarant's EORI",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    try:
        report = importer_report(
            importer=organisation.name,
            eori=organisation.eori,
            year=int(year),
            quarter=int(quarter) if quarter else None,
        )
        content = write_cbam_report(report)
    except (ReportInputError, ReportError) as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/xml")
    period = f"Q{quarter}" if quarter else "YR"
    response["Content-Disposition"] = (
        f'attachment; filename="cbam_report_{organisation.eori}_{year}{period}.xml"'
    )
    return response
