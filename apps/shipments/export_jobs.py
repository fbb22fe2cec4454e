"""Shipment exports as background jobs (issue #19 §3): the list's "Export" buttons create
an :class:`~apps.shipments.models.ExportJob`, a task writes the file while counting its
rows, and the job's page shows the progress and then the download link.

- ``apps.shipments.services.shipment_export_request`` records the job and queues its
  task on commit.
- ``apps.shipments.services.shipment_export_run`` (the task's one service call) claims
  the job with a conditional ``UPDATE … WHERE status = 'pending'`` that must touch
  exactly one row, so a task delivered twice writes the file once; it reads the user's
  shipments through the same scope and filter as the list (an exporter's job holds only
  its organisation's lines), writes the file under ``MEDIA_ROOT/exports`` (a temporary
  name, renamed when whole) and records the rows written every :data:`PROGRESS_EVERY`
  rows.
- The synchronous ``?export=csv`` / ``?export=xlsx`` of the list stay for scripts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext, pgettext_lazy

from apps.accounts.models import User
from apps.shipments.models import ExportJob

FORMATS = ("csv", "xlsx")
#: Rows between two progress writes (a write costs one small UPDATE).
PROGRESS_EVERY = 5000

EXPORT_HEADER = [
    pgettext_lazy("export column", "id"),
    pgettext_lazy("export column", "declaration_id"),
    pgettext_lazy("export column", "line"),
    pgettext_lazy("export column", "version"),
    pgettext_lazy("export column", "date"),
    pgettext_lazy("export column", "cn_code"),
    pgettext_lazy("export column", "origin"),
    pgettext_lazy("export column", "exporter"),
    pgettext_lazy("export column", "importer"),
    pgettext_lazy("export column", "net_mass_t"),
    pgettext_lazy("export column", "see_direct_t_per_t"),
    pgettext_lazy("export column", "see_indirect_t_per_t"),
    pgettext_lazy("export column", "see_total_t_per_t"),
    pgettext_lazy("export column", "embedded_emissions_t"),
    pgettext_lazy("export column", "tier"),
    pgettext_lazy("export column", "estimate"),
    pgettext_lazy("export column", "installation_identifier"),
    pgettext_lazy("export column", "figure_status"),
]


def figure_status(estimate) -> str:
    """``official``, ``preview`` (computed under a methodology version not adopted by k
    members, docs/adoption.md) or empty (an instance without member keys)."""
    if estimate is None or (estimate.adoption_version_id is None and not estimate.preview):
        return ""
    return "preview" if estimate.preview else "official"


def export_rows(qs) -> Iterator[list[Any]]:
    """The export's rows of ``qs`` (shipments with their estimate and exporter), newest
    first, read in chunks."""
    for s in qs.order_by("-id").iterator(chunk_size=2000):
        e = s.estimate
        yield [
            s.id,
            s.declaration_id,
            s.line,
            s.version,
            s.date,
            s.cn_code,
            s.origin,
            s.exporter.name,
            s.importer_name,
            s.net_mass_t,
            e.see_direct_t_per_t if e else None,
            e.see_indirect_t_per_t if e else None,
            e.see_total_t_per_t if e else None,
            s.embedded_emissions_t,
            s.tier,
            s.estimate_id,
            s.installation_identifier,
            figure_status(e),
        ]


class ExportError(ValueError):
    """An export that cannot be made (said why)."""


def export_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(job: ExportJob) -> Path:
    return export_folder() / job.filename


def export_queryset(job: ExportJob):
    """The job's shipments: the user's scope, filtered as the list filters its query."""
    from apps.shipments.filters import ShipmentFilter
    from apps.shipments.selectors import shipment_list

    request = SimpleNamespace(user=job.user)
    filterset = ShipmentFilter(
        QueryDict(job.query), queryset=shipment_list(user=job.user), request=request
    )
    if not filterset.is_valid():
        raise ExportError(
            gettext("the filter is not valid: %(errors)s") % {"errors": filterset.errors.as_text()}
        )
    return filterset.qs


def rows_counted(rows: Iterable[list[Any]], *, job_id: int) -> Iterator[list[Any]]:
    """``rows`` unchanged, the count written to the job every PROGRESS_EVERY rows and at
    the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job_id).update(rows_done=done)
    ExportJob.objects.filter(pk=job_id).update(rows_done=done)


def export_job_list(*, user: User):
    """The user's own export jobs (nobody reads another user's)."""
    return ExportJob.objects.filter(user=user)
