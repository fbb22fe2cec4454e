"""Pages of the exports run as background jobs (apps/shipments/export_jobs.py): start one
from the list's filter, follow its progress (the page polls ``?format=json``), download the
file. A job is its user's: anyone else gets 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.shipments.export_jobs import ExportError, export_job_list, export_path
from apps.shipments.models import ExportJob
from apps.shipments.services import shipment_export_request


def _job(request: HttpRequest, pk: int) -> ExportJob:
    job = export_job_list(user=request.user).filter(pk=pk).first()
    if job is None:
        raise Http404(_("No such export"))
    return job


@login_required
@require_http_methods(["POST"])
def shipment_export_create_view(request: HttpRequest) -> HttpResponse:
    try:
        job = shipment_export_request(
            user=request.user,
            query=request.POST.get("query", ""),
            fmt=request.POST.get("format", ""),
            language=get_language() or "",
        )
    except ExportError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return redirect("shipment-export-detail", pk=job.pk)


def _state(job: ExportJob) -> dict:
    done = job.status == ExportJob.Status.DONE
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "error": job.error,
        "download": reverse("shipment-export-download", args=[job.pk]) if done else "",
    }


@login_required
def shipment_export_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if request.GET.get("format") == "json":
        return JsonResponse(_state(job))
    return render(
        request,
        "shipments/export_job.html",
        {"job": job, "state": _state(job), "recent": export_job_list(user=request.user)[:10]},
    )


@login_required
def shipment_export_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    path = export_path(job)
    if job.status != ExportJob.Status.DONE or not path.is_file():
        raise Http404(_("The export is not ready"))
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.filename)
