"""Ingest runs in the web app: their progress, counts and row-level error reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.common.exports import csv_response
from apps.evidence.selectors import ingest_run_list


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
        ["file", "line", "field", "value", "reason"],
        ((name, e["line"], e["field"], e["value"], e["reason"]) for e in run.errors),
    )
