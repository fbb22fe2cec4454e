"""Importers (docs/official-formats.md, "Importers"): officials browse the importers named in
the customs lines; an importer's members read their own customs lines and download their
own Registry report (XML, valid against v19)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.accounts.models import Organisation, User
from apps.accounts.services import organisations_ensure
from apps.shipments.models import DeclaredLine, Shipment
from apps.shipments.registry_report import ReportInputError, importer_report
from apps.shipments.selectors import shipment_list
from ingest.cbam_report import ReportError, write_cbam_report

READERS = (User.Role.OFFICIAL, User.Role.AUDITOR, User.Role.ADMIN)


def importer_rows() -> list[dict]:
    """Per importer named in the current customs lines: lines, tonnes, tCO2e, its
    organisation (when registered) and the reports it declared."""
    rows = list(
        Shipment.objects.filter(is_current=True)
        .exclude(importer_name="")
        .annotate(key=Lower("importer_name"))
        .values("key")
        .annotate(lines=Count("id"), tonnes=Sum("net_mass_t"), tco2e=Sum("embedded_emissions_t"))
        .order_by("-tonnes")
    )
    names = dict(
        Shipment.objects.filter(is_current=True)
        .exclude(importer_name="")
        .annotate(key=Lower("importer_name"))
        .values_list("key", "importer_name")
        .distinct()
    )
    orgs = {o.name.lower(): o for o in Organisation.objects.filter(kind=Organisation.Kind.IMPORTER)}
    reports: dict[str, list] = {}
    for d in DeclaredLine.objects.values(
        "declarant_id", "declarant_name", "year", "period"
    ).distinct():
        reports.setdefault(d["declarant_name"].lower(), []).append(d)
    for row in rows:
        row["name"] = names.get(row["key"], row["key"])
        row["organisation"] = orgs.get(row["key"])
        row["reports"] = reports.get(row["key"], [])
    return rows


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
    """Make every importer named in the current customs lines an organisation (kind
    importer); idempotent. Returns how many names there are."""
    names = list(
        Shipment.objects.filter(is_current=True)
        .exclude(importer_name="")
        .values_list("importer_name", flat=True)
        .distinct()
    )
    organisations_ensure(names=names, kind=Organisation.Kind.IMPORTER)
    return len(names)


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
