"""The exporter portal: upload a disclosure, follow its processing, review each value
beside its evidence, correct or confirm, submit; attach a verification report (exporters
and officials). Officials and auditors read every
disclosure; an exporter only its organisation's (404 otherwise)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from apps.accounts.models import User
from apps.audit.history import audit_history_of
from apps.disclosures.models import DisclosureVersion, ExtractedValue, VerificationReport
from apps.disclosures.preview import disclosure_goods_warnings, disclosure_version_preview
from apps.disclosures.review import PagePreviewError, page_preview_png, review_groups
from apps.disclosures.selectors import (
    TEMPLATE_FILES,
    disclosure_list,
    disclosure_version_list,
    exporter_shipments_year,
    extracted_value_list,
    installation_choices,
)
from apps.disclosures.services import (
    ReviewError,
    disclosure_hold_decide,
    disclosure_upload,
    disclosure_version_confirm,
    extracted_value_review,
    extracted_values_confirm,
)
from apps.disclosures.verification import VerificationError, verification_report_attach
from apps.estimates.models import Estimate
from ingest.disclosure.safety import MAX_BYTES


def upload_cap() -> int:
    """Bytes: the largest per-type cap of the readers, and never above the site's cap."""
    return min(max(MAX_BYTES.values()), settings.CM_MAX_UPLOAD_BYTES)


#: Bytes allowed beside the file in an upload request: the other fields and the multipart
#: framing (a few hundred bytes in practice).
FORM_OVERHEAD = 64 * 1024


class UploadRefused(Exception):
    """An upload request refused before its file is stored; ``str()`` names the field."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def upload_request_check(request: HttpRequest) -> None:
    """Refuse, on its declared length and before a byte of it is read, a body that cannot
    hold an acceptable file (Django reads no more than ``Content-Length``)."""
    limit = upload_cap() + FORM_OVERHEAD
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise UploadRefused(
            "file: " + gettext("the request's Content-Length is not a number"), 400
        ) from None
    if length > limit:
        raise UploadRefused(
            "file: "
            + gettext(
                "the request body of %(length)s bytes is larger than the limit of "
                "%(limit)s bytes (a file of at most %(cap)s bytes and the form)"
            )
            % {"length": f"{length:,}", "limit": f"{limit:,}", "cap": f"{upload_cap():,}"},
            413,
        )


def upload_refusal(exc: BaseException) -> UploadRefused | None:
    """Django's request limits (``DATA_UPLOAD_MAX_*``), raised while the body is parsed, as
    a refusal that says which limit; None for any other error."""
    if isinstance(exc, UploadRefused):
        return exc
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return UploadRefused(
            "file: "
            + gettext("more than %(limit)s files in one request (send one)") % {"limit": limit},
            400,
        )
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return UploadRefused(
            "form: " + gettext("more than %(limit)s form fields in one request") % {"limit": limit},
            400,
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return UploadRefused(
            "form: "
            + gettext("the form fields are larger than %(limit)s bytes") % {"limit": f"{limit:,}"},
            413,
        )
    return None


class UploadForm(forms.Form):
    installation = forms.ModelChoiceField(queryset=None, label=_("Installation"))
    period = forms.IntegerField(min_value=2000, max_value=2100, label=_("Reporting year"))
    cn_code = forms.RegexField(
        regex=r"^\d{4}(\d{2}){0,2}$",
        required=False,
        label=_("CN code (PDF reports only)"),
        help_text=_("the good whose per-tonne figures the report gives (4, 6 or 8 digits)"),
    )
    file = forms.FileField(
        label=_("File"), help_text=_("our CSV/XLSX template, the CBAM template, or a PDF report")
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = installation_choices(user=user)
        # The year of the exporter's newest shipment: the year its importers declare and
        # its disclosure should cover (last year when it has shipped nothing yet).
        year = exporter_shipments_year(user=user)
        self.fields["period"].initial = year or dt.date.today().year - 1
        if year:
            self.fields["period"].help_text = f"the year of your newest shipments ({year})"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_cap():
            raise forms.ValidationError(
                _("the file is larger than %(cap)s bytes") % {"cap": f"{upload_cap():,}"}
            )
        return upload


@login_required
def disclosure_list_view(request: HttpRequest) -> HttpResponse:
    disclosures = disclosure_list(user=request.user).order_by("-updated_at", "-id")[:200]
    return render(
        request,
        "disclosures/disclosure_list.html",
        {"disclosures": disclosures, "can_upload": request.user.role == User.Role.EXPORTER},
    )


# The CSRF check reads the body; the limits must come first, so the check runs inside
# (Django's pattern for per-view upload handling, docs "File Uploads", csrf_exempt then
# csrf_protect): the form is CSRF-protected all the same.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def disclosure_upload_view(request: HttpRequest) -> HttpResponse:
    if request.user.role != User.Role.EXPORTER:
        raise PermissionDenied("only exporters upload disclosures")
    if request.method == "POST":
        try:
            upload_request_check(request)
            _parsed = request.POST, request.FILES  # parsed now, under the DATA_UPLOAD_MAX_* limits
        except (UploadRefused, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            refused = upload_refusal(exc)
            context = {
                "form": UploadForm(user=request.user),
                "cap": upload_cap(),
                "templates": TEMPLATE_FILES,
            }
            context["refused"] = str(refused)
            return render(
                request, "disclosures/disclosure_upload.html", context, status=refused.status
            )
    return _disclosure_upload_form(request)


@csrf_protect
def _disclosure_upload_form(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        version = disclosure_upload(
            user=request.user,
            installation=form.cleaned_data["installation"],
            period_year=form.cleaned_data["period"],
            upload=form.cleaned_data["file"],
            max_bytes=upload_cap(),
            cn_code=form.cleaned_data.get("cn_code") or "",
        )
        return redirect("disclosure-detail", pk=version.disclosure_id)
    return render(
        request,
        "disclosures/disclosure_upload.html",
        {"form": form, "cap": upload_cap(), "templates": TEMPLATE_FILES},
    )


@login_required
def disclosure_template_file_view(request: HttpRequest, name: str) -> HttpResponse:
    """A template to fill in, as listed on the upload page (``TEMPLATE_FILES``)."""
    entry = TEMPLATE_FILES.get(name)
    if entry is None:
        raise Http404("No such template")
    return FileResponse(entry["path"].open("rb"), as_attachment=True, filename=name)


def _disclosure(request: HttpRequest, pk: int):
    disclosure = disclosure_list(user=request.user).filter(pk=pk).first()
    if disclosure is None:
        raise Http404("No such disclosure")
    return disclosure


class VerificationForm(forms.ModelForm):
    """The identification data of a verification report (IR 2025/2546 Annex 1.2, 1.3, 2.6)."""

    class Meta:
        model = VerificationReport
        fields = [
            "report_identifier",
            "period_start",
            "period_end",
            "verifier_name",
            "accreditation_number",
            "accreditation_body",
            "accreditation_expires",
            "opinion",
            "comments",
            "issued_on",
        ]
        widgets = {
            name: forms.DateInput(attrs={"type": "date"})
            for name in ("period_start", "period_end", "accreditation_expires", "issued_on")
        }


def _can_attach(user: User) -> bool:
    return user.role in (User.Role.EXPORTER, User.Role.OFFICIAL)


@login_required
def disclosure_verification_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a verification report from the disclosure page (exporters, officials)."""
    disclosure = _disclosure(request, pk)  # another organisation's: 404 before anything
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _can_attach(request.user):
        raise PermissionDenied("only exporters and officials attach verification reports")
    form = VerificationForm(request.POST)
    if form.is_valid():
        try:
            verification_report_attach(
                disclosure=disclosure, user=request.user, **form.cleaned_data
            )
            return redirect("disclosure-detail", pk=disclosure.pk)
        except VerificationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    return _disclosure_detail(request, disclosure, form, status=400)


@login_required
def disclosure_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _disclosure_detail(request, _disclosure(request, pk), None)


def _disclosure_detail(request, disclosure, form, status: int = 200) -> HttpResponse:
    versions = list(disclosure.versions.select_related("evidence", "trace", "ingest_run"))
    estimate_ids = [e["id"] for v in versions for e in (v.engine or {}).get("estimates", [])]
    estimates = {e.pk: e for e in Estimate.objects.filter(pk__in=estimate_ids)}
    for version in versions:
        version.estimate_rows = [
            estimates[e["id"]]
            for e in (version.engine or {}).get("estimates", [])
            if e["id"] in estimates
        ]
    busy = any(v.status in ("uploaded", "processing") for v in versions)
    history = audit_history_of(
        [("disclosure_version", v.pk) for v in versions]
        + [("ingest_run", v.ingest_run_id) for v in versions]
        + [("estimate", pk) for pk in estimates]
        + [("disclosure", disclosure.pk)]
    )
    can_attach = _can_attach(request.user)
    if form is None and can_attach:
        form = VerificationForm(
            initial={"period_start": disclosure.period_start, "period_end": disclosure.period_end}
        )
    return render(
        request,
        "disclosures/disclosure_detail.html",
        {
            "disclosure": disclosure,
            "versions": versions,
            "busy": busy,
            "history": history,
            "reports": disclosure.verification_reports.all(),
            "verification_form": form if can_attach else None,
            "can_decide": request.user.role in DECIDERS,
            "decision_error": request.GET.get("decision_error", "")[:300],
        },
        status=status,
    )


#: Who decides on a version held for review (apps.disclosures.plausibility).
DECIDERS = (User.Role.OFFICIAL, User.Role.ADMIN)


@login_required
@require_http_methods(["POST"])
def disclosure_decide_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """An official accepts or rejects a held version with a note (form on the detail page)."""
    version = _disclosure(request, pk).versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version")
    if request.user.role not in DECIDERS:
        raise PermissionDenied("only an official decides on a held disclosure")
    try:
        disclosure_hold_decide(
            version=version,
            user=request.user,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        )
    except ReviewError as exc:
        return redirect(
            f"{reverse('disclosure-detail', args=[pk])}?{urlencode({'decision_error': str(exc)})}"
        )
    return redirect(f"{reverse('disclosure-detail', args=[pk])}#version-{number}")


def _evidence_view(value: ExtractedValue, pages: dict[int, dict]) -> dict:
    """The quote in its page context, the number highlighted; or the sheet and cell."""
    out: dict = {"where": value.where}
    if value.cell:
        sheet, _bang, cell = value.cell.rpartition("!")
        out.update(sheet=sheet, cell=cell)
    page = pages.get(value.page) if value.page is not None else None
    if page:
        lines = page["text"].split("\n")
        hit = next((i for i, line in enumerate(lines) if line == value.quote), None)
        if hit is None:
            hit = next((i for i, line in enumerate(lines) if value.quote in line), None)
        if hit is not None:
            out["before"] = lines[max(0, hit - 2) : hit]
            out["after"] = lines[hit + 1 : hit + 3]
        number = (value.context or {}).get("text") or ""
        quote = value.quote
        parts = quote.split(number) if number else [quote]
        if len(parts) > 1:
            # The k-th copy of the number in the line (a row may print it twice).
            k = min((value.context or {}).get("occurrence", 0), len(parts) - 2)
            pre, post = number.join(parts[: k + 1]), number.join(parts[k + 1 :])
            out["quote_html"] = format_html(
                "<mark>{}<strong>{}</strong>{}</mark>", pre, number, post
            )
        else:
            out["quote_html"] = format_html("<mark>{}</mark>", quote)
        if value.bbox and page.get("width") and page.get("height"):
            # The value's box on the rendered page, in % of the page (apps.disclosures.review).
            w, h = page["width"], page["height"]
            x0, top, x1, bottom = value.bbox
            out["box"] = {
                "left": round(100 * x0 / w, 2),
                "top": round(100 * top / h, 2),
                "width": max(round(100 * (x1 - x0) / w, 2), 0.5),
                "height": max(round(100 * (bottom - top) / h, 2), 0.5),
            }
    return out


def _review_version(request: HttpRequest, pk: int, number: int) -> DisclosureVersion:
    version = (
        disclosure_version_list(user=request.user)
        .select_related("trace")
        .filter(disclosure_id=pk, number=number)
        .first()
    )
    if version is None:
        raise Http404("No such disclosure version")
    return version


def _review_post(request: HttpRequest, version: DisclosureVersion, pk: int) -> HttpResponse:
    """One review action: submit, confirm a group's open values, or review one value."""
    if "submit" in request.POST:
        disclosure_version_confirm(version=version, user=request.user)
        return redirect("disclosure-detail", pk=pk)
    if request.POST.get("action") == "confirm_many":
        ids = [int(i) for i in request.POST.get("values", "").split(",") if i.strip().isdigit()]
        extracted_values_confirm(version=version, user=request.user, ids=ids)
        return redirect(f"{request.path}#{request.POST.get('group', '')}")
    value = (
        extracted_value_list(user=request.user)
        .filter(version=version, pk=request.POST.get("value"))
        .first()
    )
    if value is None:
        raise Http404("No such value")
    corrected = request.POST.get("corrected_value", "").strip()
    extracted_value_review(
        value=value,
        user=request.user,
        action=request.POST.get("action", ""),
        corrected_value=float(corrected) if corrected else None,
        corrected_unit=request.POST.get("corrected_unit", ""),
        reason=request.POST.get("reason", ""),
    )
    return redirect(f"{request.path}#v{value.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_review_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The values beside their evidence, grouped by table; ``?preview=1`` adds what
    confirming will change (apps.disclosures.preview), with the confirm button."""
    version = _review_version(request, pk, number)
    is_exporter = request.user.role == User.Role.EXPORTER
    can_review = is_exporter and version.status in ("review", "needs_review")
    error = ""
    if request.method == "POST":
        if not is_exporter:
            raise PermissionDenied("only the exporter reviews its disclosure")
        try:
            return _review_post(request, version, pk)
        except (ReviewError, ValueError) as exc:
            error = str(exc)
    preview = None
    if can_review and version.status == "review" and request.GET.get("preview") and not error:
        try:
            preview = disclosure_version_preview(version=version, user=request.user)
        except ReviewError as exc:
            error = str(exc)
    pages = {p["number"]: p for p in version.pages or []}
    values = list(version.values.all())
    rows = [(v, _evidence_view(v, pages)) for v in values]
    trace = getattr(version, "trace", None)
    return render(
        request,
        "disclosures/disclosure_review.html",
        {
            "version": version,
            "disclosure": version.disclosure,
            "rows": rows,
            "groups": review_groups(rows),
            "trace": trace,
            "can_review": can_review,
            "error": error,
            "preview": preview,
            "goods_warnings": disclosure_goods_warnings(version=version, user=request.user)
            if can_review
            else [],
            "counts": {
                s: sum(v.status == s for v in values) for s in ExtractedValue.ValueStatus.values
            },
            "kinds": DisclosureVersion.Kind,
        },
        status=400 if error else 200,
    )


@login_required
def disclosure_page_image_view(request: HttpRequest, pk: int, number: int, page: int):
    """Page ``page`` of the version's PDF as a PNG, for whoever may read the version."""
    version = _review_version(request, pk, number)
    if version.kind != DisclosureVersion.Kind.PDF:
        raise Http404("Not a PDF")
    try:
        png = page_preview_png(evidence=version.evidence, page=page)
    except PagePreviewError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def disclosure_template_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The confirmed version written into the Commission's communication template (v2.1.1,
    formulas kept): docs/official-formats.md, "Writing it from a confirmed disclosure"."""
    from apps.disclosures.template_download import (
        TemplateDownloadError,
        disclosure_template_write,
    )

    version = (
        disclosure_version_list(user=request.user).filter(disclosure_id=pk, number=number).first()
    )
    if version is None:
        raise Http404("No such disclosure version")
    try:
        content = disclosure_template_write(version)
    except TemplateDownloadError as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    name = (
        f"CBAM_communication_{version.disclosure.installation.identifier}_"
        f"{version.disclosure.period_year}_v{version.number}.xlsx"
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
