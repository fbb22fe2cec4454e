"""``/api/v1/estimates/``: estimates, their canonical traces (JSON, flat CSV and XLSX, a bulk
zip archive with a SHA-256 manifest) and a recompute check.

Names (docs/interfaces.md, stable):

- ``GET /api/v1/estimates/`` filters ``cn_code``, ``origin``, ``exporter``, ``period_from``,
  ``period_to``, ``tier``, ``methodology``; keyset pages.
- ``GET /api/v1/estimates/{id}/trace`` the canonical JSON bytes (header ``X-Trace-SHA256``);
  ``/trace.csv`` and ``/trace.xlsx`` the same trace flattened to one row per JSON leaf
  (``path``, ``value``, ``type``), lossless: ``value`` is the leaf's RFC 8785 text, with
  an apostrophe before every segment a spreadsheet would read as a formula
  (``apps.common.exports.neutralise``; ``restore`` undoes it exactly).
- ``GET /api/v1/estimates/traces.zip?<filters>`` every trace of the filter, streamed as a
  zip: ``traces/estimate-<id>.json`` (the canonical bytes), ``manifest.json`` (one entry per
  file with its ``sha256``, equal to the estimate's ``trace_sha256`` when the whole trace is
  served, and its ``scope``) and ``SHA256SUMS``
  (``sha256sum -c SHA256SUMS`` checks the files).
- ``POST /api/v1/estimates/{id}/verify`` recomputes from the stored case, and compares
  what is served (the estimate's SEE columns, its shipments' embedded emissions and their
  monthly totals) with the trace: ``differences`` names what disagrees.

Every role reads through :func:`apps.estimates.selectors.estimate_list`: exporters see only
the estimates of their own shipments and installations (404 on others). A disclosed
estimate's ``provenance`` (the producer's confidential disclosure) is served only to
officials, auditors, admins and the installation's own organisation; any other exporter
gets the engine's part of the trace (:mod:`apps.estimates.traces`), in every form (JSON,
CSV, XLSX, zip), with ``X-Trace-Scope: engine`` and ``X-Trace-SHA256`` the digest of the
bytes served.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import django_filters
import rfc8785
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from apps.audit.selectors import checkpoint_document
from apps.audit.services import CheckpointRefused, checkpoint_ensure
from apps.common.exports import BOM, CSV_TYPE, csv_writer, neutralise
from apps.common.xlsx import ChunkSink
from apps.estimates.models import Estimate, Tier
from apps.estimates.selectors import estimate_list
from apps.estimates.services import estimate_verify
from apps.estimates.traces import ServedTrace, served_trace
from apps.shipments.selectors import estimate_shipment_differences, shipment_scope


class EstimateFilter(django_filters.FilterSet):
    cn_code = django_filters.CharFilter(
        method="filter_cn_code",
        help_text="CN code or prefix, digits (e.g. 72 or 7208)",
        validators=[RegexValidator(r"^[0-9 .]{1,12}$", "a CN code or prefix is digits only")],
    )
    origin = django_filters.CharFilter(method="filter_origin", help_text="ISO 3166-1 alpha-2")
    exporter = django_filters.CharFilter(
        method="filter_exporter",
        help_text="exporter name (contains, case-insensitive): estimates used by its shipments",
    )
    period_from = django_filters.DateFilter(
        field_name="period_end", lookup_expr="gte", help_text="period ends on or after"
    )
    period_to = django_filters.DateFilter(
        field_name="period_start", lookup_expr="lte", help_text="period starts on or before"
    )
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    methodology = django_filters.CharFilter(help_text="e.g. cbam.default")

    class Meta:
        model = Estimate
        fields = [
            "cn_code",
            "origin",
            "exporter",
            "period_from",
            "period_to",
            "tier",
            "methodology",
        ]

    def filter_cn_code(self, queryset, name, value):
        return queryset.filter(cn_code__startswith=re.sub(r"[ .]", "", value))

    def filter_origin(self, queryset, name, value):
        return queryset.filter(origin=value.strip().upper())

    def filter_exporter(self, queryset, name, value):
        # Only the caller's own shipments are searched: matched against every exporter's,
        # the filter told an exporter which competitors' names share its estimates.
        scope = shipment_scope(user=self.request.user)
        used = scope.filter(estimate_id=OuterRef("pk"), exporter__name__icontains=value.strip())
        return queryset.filter(Exists(used))


class EstimateSerializer(serializers.ModelSerializer):
    # The methodology version it was computed under, and whether that was a preview
    # (not adopted by k members; docs/adoption.md); null on an instance without members.
    adoption_version = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True
    )

    class Meta:
        model = Estimate
        fields = [
            "id",
            "subject_key",
            "tier",
            "methodology",
            "methodology_version",
            "engine_version",
            "cn_code",
            "origin",
            "installation",
            "period_start",
            "period_end",
            "see_direct_t_per_t",
            "see_indirect_t_per_t",
            "see_total_t_per_t",
            "interval_low_t_per_t",
            "interval_high_t_per_t",
            "direct_only",
            "reason",
            "trace_sha256",
            "preview",
            "adoption_version",
            "created_at",
        ]
        read_only_fields = fields


# --- Flat forms of a trace -----------------------------------------------------------------

FLAT_HEADER = ["path", "value", "type"]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def trace_rows(trace: Any, path: str = "$") -> Iterator[tuple[str, Any, str]]:
    """The leaves of a trace, depth first in key order: (JSONPath, value, JSON type).

    Empty objects and arrays are leaves too (``{}`` / ``[]``), so the rows determine the
    trace. Numbers keep their RFC 8785 spelling in CSV (see :func:`trace_csv`).
    """
    if isinstance(trace, dict):
        if not trace:
            yield path, "{}", "object"
        for key in sorted(trace):
            yield from trace_rows(trace[key], f"{path}.{key}")
    elif isinstance(trace, list):
        if not trace:
            yield path, "[]", "array"
        for i, item in enumerate(trace):
            yield from trace_rows(item, f"{path}[{i}]")
    else:
        yield path, trace, _json_type(trace)


def _text(value: Any, kind: str) -> str:
    if kind == "string" or kind in ("object", "array"):
        return value
    return rfc8785.dumps(value).decode()  # the number/boolean/null exactly as in the bytes


def trace_csv(trace: dict) -> bytes:
    """The flat trace as CSV (``apps.common.exports``: every field quoted, a byte-order mark,
    every text segment a spreadsheet could read as a formula neutralised, reversibly)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv_writer(out)
    writer.writerow(FLAT_HEADER)
    for path, value, kind in trace_rows(trace):
        text = _text(value, kind)
        writer.writerow([neutralise(path), neutralise(text) if kind == "string" else text, kind])
    return out.getvalue().encode("utf-8")


def trace_xlsx(trace: dict, *, estimate: Estimate) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("trace")

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell

    sheet.append([text_cell(h) for h in FLAT_HEADER])
    for path, value, kind in trace_rows(trace):
        if kind == "number":
            shown: Any = value
        elif kind == "boolean":
            shown = value
        else:
            shown = text_cell(_text(value, kind))
        sheet.append([text_cell(path), shown, text_cell(kind)])
    about = book.create_sheet("about")
    for key, value in (
        ("estimate", estimate.pk),
        ("subject_key", estimate.subject_key),
        ("trace_sha256", estimate.trace_sha256),
        ("note", "The canonical trace is the JSON of GET /api/v1/estimates/{id}/trace."),
    ):
        about.append([text_cell(key), value if isinstance(value, int) else text_cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Bulk archive ---------------------------------------------------------------------------


def traces_zip_stream(estimates, *, filters: dict[str, str], user) -> Iterator[bytes]:
    """Zip the traces of ``estimates`` as ``user`` may read them, as they are read (constant
    memory), then the manifest (SHA-256 of each file as written, the filters, the signed
    audit checkpoint) and a ``SHA256SUMS`` file. A trace served without its provenance
    has ``"scope": "engine"`` in the manifest (its ``sha256`` then differs from
    ``trace_sha256``, the digest of the whole trace)."""
    sink = ChunkSink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED)
    entries = []
    for estimate in estimates.select_related("installation").iterator(chunk_size=500):
        data = served_trace(estimate=estimate, user=user).data
        name = f"traces/estimate-{estimate.pk}.json"
        archive.writestr(name, data)
        entries.append(
            {
                "path": name,
                "estimate": estimate.pk,
                "subject_key": estimate.subject_key,
                "methodology": estimate.methodology,
                "tier": estimate.tier,
                "trace_sha256": estimate.trace_sha256,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "scope": "full" if data == estimate.trace.encode("utf-8") else "engine",
            }
        )
        yield sink.take()
    manifest = {
        "generated_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": filters,
        "count": len(entries),
        "files": entries,
    }
    try:
        manifest["audit_checkpoint"] = checkpoint_document(checkpoint_ensure())
    except CheckpointRefused as exc:  # the log no longer extends the last checkpoint
        manifest["audit_checkpoint"] = None
        manifest["audit_log_error"] = str(exc)
    archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    sums = "".join(f"{e['sha256']}  {e['path']}\n" for e in entries)
    archive.writestr("SHA256SUMS", sums)
    archive.close()
    yield sink.take()


# --- Views ----------------------------------------------------------------------------------

FILTER_PARAMETERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.DATE if name.startswith("period_") else str,
        description=str(f.extra.get("help_text", "")),
    )
    for name, f in EstimateFilter.base_filters.items()
]


class EstimateViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Estimate.objects.none()  # the schema's model; requests use get_queryset
    serializer_class = EstimateSerializer
    filterset_class = EstimateFilter

    def get_queryset(self):
        return (
            estimate_list(user=self.request.user).select_related("adoption_version").order_by("-id")
        )

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
        description="The canonical JSON (RFC 8785) bytes of the trace; "
        "header X-Trace-SHA256 carries their SHA-256. X-Trace-Scope is 'full' (the "
        "stored trace, digest trace_sha256) or 'engine' (a disclosed estimate read by "
        "another organisation than the installation's: the engine's part, without the "
        "confidential provenance; it recomputes byte for byte).",
    )
    def _served(self) -> tuple[Estimate, ServedTrace]:
        estimate = self.get_object()
        return estimate, served_trace(estimate=estimate, user=self.request.user)

    @staticmethod
    def _headers(response: HttpResponse, served: ServedTrace) -> HttpResponse:
        response["X-Trace-SHA256"] = served.sha256
        response["X-Trace-Scope"] = served.scope
        return response

    def trace(self, request, pk=None):
        _, served = self._served()
        return self._headers(HttpResponse(served.data, content_type="application/json"), served)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The trace flattened: one row per JSON leaf, columns path, value "
        "(the RFC 8785 text of numbers; in text, every segment that starts with = + - @ "
        "TAB or CR, at the start or after , ; | TAB or a line break, gets an apostrophe) "
        "and type. Header X-Trace-SHA256 is the digest of the JSON form.",
    )
    def trace_csv(self, request, pk=None):
        estimate, served = self._served()
        response = HttpResponse(trace_csv(served.trace), content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="trace-{estimate.pk}.csv"'
        return self._headers(response, served)

    @extend_schema(
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY
        },
        description="The trace flattened as in trace.csv, in a workbook (sheet 'trace'; "
        "numbers as numbers, text never a formula; sheet 'about' names the estimate).",
    )
    def trace_xlsx(self, request, pk=None):
        estimate, served = self._served()
        response = HttpResponse(
            trace_xlsx(served.trace, estimate=estimate),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="trace-{estimate.pk}.xlsx"'
        return self._headers(response, served)

    @extend_schema(
        operation_id="api_v1_estimates_traces_zip",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="traces/estimate-<id>.json, manifest.json, SHA256SUMS",
            )
        },
        description="Every trace of the filter (same filters as the list), streamed as a "
        "zip archive with a manifest of SHA-256 digests and the signed audit checkpoint.",
    )
    def traces_zip(self, request):
        estimates = self.filter_queryset(self.get_queryset()).order_by("id")
        filters = {k: v for k, v in request.query_params.items() if k in EstimateFilter.Meta.fields}
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            traces_zip_stream(estimates, filters=filters, user=request.user),
            content_type="application/zip",
        )
        response["Content-Disposition"] = f'attachment; filename="traces-{stamp}.zip"'
        return response

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "VerifyResult",
            {
                "match": serializers.BooleanField(),
                "stored_sha256": serializers.CharField(),
                "recomputed_sha256": serializers.CharField(),
                "differences": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="each served value (SEE column, shipment, monthly total) that "
                    "disagrees with the trace",
                ),
            },
        ),
        description="Recompute the estimate from the case stored in its trace; match is "
        "true when the recomputed bytes equal the stored trace, their SHA-256 equals "
        "the stored trace_sha256, and the served values agree with it: the SEE columns "
        "with the trace's result, each current shipment on the estimate with net mass × "
        "SEE total and its tier, the monthly totals with the sums of the shipments.",
    )
    def verify(self, request, pk=None):
        result = estimate_verify(
            estimate=self.get_object(), shipment_differences=estimate_shipment_differences
        )
        # A trace rewritten consistently (case and result) still recomputes to itself;
        # its digest then differs from the trace_sha256 recorded at creation.
        result["match"] = bool(
            result["match"] and result["recomputed_sha256"] == result["stored_sha256"]
        )
        return Response(result)
