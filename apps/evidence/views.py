"""Ingest runs in the web app: their progress, counts and row-level error reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from apps.common.exports import csv_response
from apps.evidence.excerpts import ExcerptError, cell_excerpt, line_excerpt, page_excerpt
from apps.evidence.selectors import ingest_run_list
from apps.evidence.store import EvidenceMissing, evidence_local_path, evidence_open


@login_required
def ingest_run_list_view(request: HttpRequest) -> HttpResponse:
    runs = ingest_run_list(user=request.user).select_related("evidence")[:100]
    return render(request, "evidence/run_list.html", {"runs": runs})


def _run(request: HttpRequest, pk: int):
    run = ingest_run_list(user=request.user).select_related("evidence").filter(pk=pk).first()
    if run is None:
        raise Http404("No such ingest run")
    return run


@login_required
def ingest_run_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    return render(
        request,
        "evidence/run_detail.html",
        {"run": run, "errors": run.errors[:500], "more": max(0, len(run.errors) - 500)},
    )


@login_required
def ingest_run_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    name = run.name
    return csv_response(
        f"errors-run-{run.pk}.csv",
        [
            pgettext_lazy("export column", "file"),
            pgettext_lazy("export column", "line"),
            pgettext_lazy("export column", "field"),
            pgettext_lazy("export column", "value"),
            pgettext_lazy("export column", "reason"),
        ],
        ((name, e["line"], e["field"], e["value"], e["reason"]) for e in run.errors),
    )


@login_required
def ingest_run_file_view(request: HttpRequest, pk: int) -> FileResponse:
    """The original file of a run, byte for byte, to whoever may see the run (an exporter:
    its own organisation's uploads; officials and auditors: all)."""
    run = _run(request, pk)
    try:
        stream = evidence_open(run.evidence)
    except EvidenceMissing:
        raise Http404("The evidence file is not in this installation's store") from None
    name = run.original_name or f"evidence-{run.evidence.sha256[:12]}"
    response = FileResponse(stream, as_attachment=True, filename=name)
    response["X-Evidence-SHA256"] = run.evidence.sha256
    return response


@login_required
def ingest_run_excerpt_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The cited place of the run's file: ``?line=N``, ``?cell=Sheet!B12`` or ``?page=N``."""
    run = _run(request, pk)
    excerpt, problem = None, ""
    try:
        with evidence_local_path(run.evidence) as path:
            excerpt = _excerpt(request, path)
    except EvidenceMissing:
        problem = _("the evidence file is not in this installation's store")
    except ExcerptError as exc:
        problem = str(exc)
    except Exception as exc:  # a file the reader cannot open as that kind
        problem = _("%(name)s cannot be read that way: %(error)s") % {
            "name": run.name,
            "error": type(exc).__name__,
        }
    return render(
        request,
        "evidence/run_excerpt.html",
        {"run": run, "excerpt": excerpt, "problem": problem},
        status=200 if excerpt else 404,
    )


def _excerpt(request: HttpRequest, path):
    """The place ``request`` names in the file at ``path`` (ExcerptError if none)."""
    if request.GET.get("line", "").isdigit():
        return line_excerpt(path, int(request.GET["line"]))
    if request.GET.get("cell"):
        return cell_excerpt(path, request.GET["cell"])
    if request.GET.get("page", "").isdigit():
        return page_excerpt(path, int(request.GET["page"]))
    raise ExcerptError("name the place: ?line=N, ?cell=Sheet!B12 or ?page=N")
