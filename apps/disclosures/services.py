"""Writes of disclosures: upload, extraction (the ``disclosure`` ingester), review,
confirmation, and feeding confirmed values to the engine.

Flow: :func:`disclosure_submit` (portal, API) stores a new version and enqueues its
ingest run; the run executes :func:`disclosure_ingest`, which checks the file (type by
content, size caps, ZIP bombs, defusedxml), reads it (our template, the CBAM template's
product summary, or a PDF parsed in a limited child process), extracts values with their
evidence (rule-based, or the LLM when ``LLM_BASE_URL`` is set) and stores them with the
extraction trace, all in one transaction. A poisonous file raises once: the version and
the run are marked failed with the reason and the run is not retried. An LLM that keeps
failing (timeouts, 429, 5xx after the retries, or malformed answers) leaves the version
"needs review" with the trace and **no** value.

The exporter reviews each value (:func:`extracted_value_review`: confirm, correct, drop)
and submits (:func:`disclosure_version_confirm`). A version whose cases the engine
refuses, or that claims zero emissions the rules do not admit without evidence
(:mod:`apps.disclosures.plausibility`), is **held** for an official's review and makes no
estimate until an official accepts it with a note (:func:`disclosure_hold_decide`; or
rejects it). Otherwise the version becomes confirmed, :func:`disclosure_estimates_apply`
turns its values into "disclosed actual" estimates (``cbam.installation``) whose traces
cite the version, the file's SHA-256 and each value's evidence, then points the
installation's shipments at them (apps.shipments.services.shipment_estimates_apply); an
earlier confirmed version is superseded (kept) only when the new one made an estimate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, transaction
from django.db import OperationalError as DatabaseOperationalError
from django.db.models import Max
from django.utils import timezone

import methodologies
from apps.accounts.models import Organisation, User
from apps.accounts.services import organisations_ensure
from apps.audit.services import audit_append
from apps.catalogue.selectors import default_value_candidates
from apps.disclosures.models import (
    Disclosure,
    DisclosureVersion,
    ExtractedValue,
    ExtractionTrace,
    Status,
    VerificationReport,
)
from apps.estimates.models import Estimate, Tier
from apps.estimates.services import estimate_record, estimates_supersede
from apps.evidence.models import EvidenceFile, IngestRun
from apps.evidence.services import (
    IngestOutcome,
    evidence_store,
    ingest_run_create,
    ingest_run_finish,
    ingest_run_resubmit,
)
from apps.facilities.models import Installation
from apps.shipments.services import shipment_estimates_apply
from ingest.base import IngestError
from ingest.disclosure import (
    Document,
    LLMConfig,
    LLMError,
    LLMExtractor,
    RuleExtractor,
    check_file,
    read_cbam_template,
    read_pdf_text,
    read_template,
)
from ingest.disclosure import cbam_template as cbam_template_module
from ingest.disclosure.llm import normalise_space
from ingest.disclosure.units import UnitError, convert, parse_unit
from methodologies import cbam_tables
from methodologies.errors import CaseError, MethodologyError
from methodologies.trace import canonical_bytes, sha256_hex

SOURCE = "disclosure"
# Sector of a CN code for the LLM's plausibility ranges (ingest.disclosure.llm.PLAUSIBLE).
SECTORS = {"72": "steel", "73": "steel", "76": "aluminium", "2523": "cement", "2507": "cement"}
SECTORS |= {"280410": "hydrogen", "31": "fertilisers", "2808": "fertilisers", "2814": "fertilisers"}


class DisclosureInputError(IngestError):
    """The run's options do not say whose disclosure this is, or contradict the file."""


def _sector(cn_code: str) -> str | None:
    for n in (6, 4, 2):
        if cn_code[:n] in SECTORS:
            return SECTORS[cn_code[:n]]
    return None


def llm_config() -> LLMConfig | None:
    """The endpoint from settings (``LLM_BASE_URL``, ``LLM_MODEL``, ``LLM_API_KEY``), or
    None (→ the rule-based extractor). Timeout, attempts and backoff are not in
    config/settings.py yet: read from settings if present, else the environment
    (``CM_LLM_TIMEOUT_S``, ``CM_LLM_MAX_ATTEMPTS``, ``CM_LLM_BACKOFF_S``)."""
    base_url = getattr(settings, "LLM_BASE_URL", None) or os.environ.get("LLM_BASE_URL")
    if not base_url:
        return None

    def number(name: str, default: float) -> float:
        value = getattr(settings, name, None) or os.environ.get(name)
        return float(value) if value not in (None, "") else default

    return LLMConfig(
        base_url=base_url,
        model=getattr(settings, "LLM_MODEL", "") or os.environ.get("LLM_MODEL", ""),
        api_key=getattr(settings, "LLM_API_KEY", "") or os.environ.get("LLM_API_KEY", ""),
        timeout=number("CM_LLM_TIMEOUT_S", 60.0),
        max_attempts=int(number("CM_LLM_MAX_ATTEMPTS", 4)),
        backoff_base=number("CM_LLM_BACKOFF_S", 1.0),
    )


# --- upload --------------------------------------------------------------------------


def _period(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _disclosure_ensure(
    *, organisation: Organisation, installation: Installation, period_year: int
) -> Disclosure:
    start, end = _period(period_year)
    disclosure, _ = Disclosure.objects.get_or_create(
        organisation=organisation,
        installation=installation,
        period_year=period_year,
        defaults={"period_start": start, "period_end": end},
    )
    return disclosure


def _version_create(
    *,
    disclosure: Disclosure,
    evidence: EvidenceFile,
    user: Any,
    original_name: str,
    cn_code: str = "",
) -> tuple[DisclosureVersion, bool]:
    """The next version of ``disclosure`` for ``evidence``; the same file twice is the same
    version (``created`` false)."""
    same = disclosure.versions.filter(evidence=evidence).first()
    if same is not None:
        return same, False
    Disclosure.objects.select_for_update().filter(pk=disclosure.pk).first()
    number = (disclosure.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = DisclosureVersion.objects.create(
        disclosure=disclosure,
        number=number,
        evidence=evidence,
        submitted_by=user,
        cn_code=cn_code,
    )
    Disclosure.objects.filter(pk=disclosure.pk).update(
        status=Status.UPLOADED, progress=0, updated_at=timezone.now()
    )
    audit_append(
        actor=user,
        action="disclosure.upload",
        object_type="disclosure_version",
        object_id=version.pk,
        evidence_sha256=evidence.sha256,
        payload={
            "disclosure": disclosure.pk,
            "version": number,
            "installation": disclosure.installation.identifier,
            "period": disclosure.period_year,
            "file": original_name,
        },
    )
    return version, True


def disclosure_submit(
    *,
    user: User,
    installation: Installation,
    period_year: int,
    evidence: EvidenceFile,
    original_name: str,
    cn_code: str = "",
) -> DisclosureVersion:
    """Record an uploaded file as the next version of the (organisation, installation,
    period) disclosure and enqueue its extraction. The installation must belong to the
    user's organisation (callers check it too).

    The same file again is the same version; when that version is stuck (its run pending,
    or running with no execution holding it) the upload sends its run again, and when it
    failed the upload starts a new run of it (issue #16, items 3 and 6)."""
    if installation.organisation_id != user.organisation_id:
        raise PermissionError("the installation is not one of your organisation's")
    with transaction.atomic():
        disclosure = _disclosure_ensure(
            organisation=user.organisation, installation=installation, period_year=period_year
        )
        version, created = _version_create(
            disclosure=disclosure,
            evidence=evidence,
            user=user,
            original_name=original_name,
            cn_code=cn_code,
        )
        if created:
            run = ingest_run_create(
                source=SOURCE,
                evidence=evidence,
                original_name=original_name,
                requested_by=user,
                options={"version_id": version.pk},
            )
            version.ingest_run = run
            version.save(update_fields=["ingest_run"])
        else:
            version = _version_resubmit(version=version, user=user, original_name=original_name)
    return version


def _version_resubmit(
    *, version: DisclosureVersion, user: Any, original_name: str
) -> DisclosureVersion:
    """The same file uploaded again for a version: a failed version gets a new run (the
    old one keeps its failure), a stuck one has its run sent again; else nothing."""
    version = DisclosureVersion.objects.select_for_update().get(pk=version.pk)
    run = version.ingest_run
    if version.status == Status.FAILED or run is None or run.status == IngestRun.Status.FAILED:
        new = ingest_run_create(
            source=SOURCE,
            evidence=version.evidence,
            original_name=original_name,
            requested_by=user,
            options={"version_id": version.pk},
        )
        version.ingest_run = new
        version.status, version.progress, version.failure = Status.UPLOADED, 0, ""
        version.save(update_fields=["ingest_run", "status", "progress", "failure"])
        Disclosure.objects.filter(pk=version.disclosure_id).update(
            status=Status.UPLOADED, progress=0, updated_at=timezone.now()
        )
        audit_append(
            actor=user,
            action="disclosure.resubmit",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=version.evidence.sha256,
            payload={"run": new.pk, "failed_run": run.pk if run else None},
        )
    elif run.status in (IngestRun.Status.PENDING, IngestRun.Status.RUNNING):
        transaction.on_commit(lambda: ingest_run_resubmit(run=run))
    return version


# --- the ingester --------------------------------------------------------------------


def disclosure_upload(
    *,
    user: User,
    installation: Installation,
    period_year: int,
    upload,
    max_bytes: int,
    cn_code: str = "",
) -> DisclosureVersion:
    """Store an uploaded file (content-addressed, size-capped) and submit it as the next
    version of its disclosure (:func:`disclosure_submit`), in one transaction."""
    with transaction.atomic():
        evidence = evidence_store(stream=upload, name=upload.name, max_bytes=max_bytes)
        return disclosure_submit(
            user=user,
            installation=installation,
            period_year=period_year,
            evidence=evidence,
            original_name=upload.name,
            cn_code=cn_code,
        )


def _progress(version: DisclosureVersion, status: str, progress: int, **fields: Any) -> None:
    """Record progress at once (its own commit), so the portal shows it while we work."""
    with transaction.atomic():
        DisclosureVersion.objects.filter(pk=version.pk).update(
            status=status, progress=progress, **fields
        )
        Disclosure.objects.filter(pk=version.disclosure_id).update(
            status=status, progress=progress, updated_at=timezone.now()
        )
    version.status, version.progress = status, progress
    for name, value in fields.items():
        setattr(version, name, value)


def _version_for_run(run: IngestRun, template_meta: dict | None) -> DisclosureVersion:
    """The version this run extracts: given by the portal, or made from the command's
    ``--exporter``, ``--installation`` and ``--period`` (DESIGN §7)."""
    options = run.options or {}
    if "version_id" in options:
        return DisclosureVersion.objects.select_related("disclosure__installation").get(
            pk=options["version_id"]
        )
    exporter = (options.get("exporter") or "").strip()
    if not exporter:
        raise DisclosureInputError("a disclosure needs --exporter NAME (the organisation)")
    org_id = organisations_ensure(names=[exporter], kind=Organisation.Kind.EXPORTER)[exporter]
    organisation = Organisation.objects.get(pk=org_id)
    identifier = (options.get("installation") or "").strip()
    from_file = (template_meta or {}).get("installation", {})
    if not identifier:
        identifier = from_file.get("id", "")
    if not identifier:
        raise DisclosureInputError(
            "say which installation with --installation ID (a PDF does not name it)"
        )
    installation = Installation.objects.filter(identifier=identifier).first()
    if installation is None:
        installation = Installation.objects.create(
            identifier=identifier,
            name=from_file.get("name") or identifier,
            organisation=organisation,
            country=from_file.get("country", ""),
        )
    elif installation.organisation_id != organisation.pk:
        raise DisclosureInputError(
            f"installation {identifier} belongs to {installation.organisation}, not {exporter}"
        )
    period = options.get("period") or (template_meta or {}).get("year")
    if not period:
        raise DisclosureInputError("say which reporting period with --period YYYY")
    with transaction.atomic():
        disclosure = _disclosure_ensure(
            organisation=organisation, installation=installation, period_year=int(period)
        )
        version, _ = _version_create(
            disclosure=disclosure,
            evidence=run.evidence,
            user=run.requested_by,
            original_name=run.original_name,
            cn_code=options.get("cn_code", ""),
        )
        if version.ingest_run_id is None:
            version.ingest_run = run
            version.save(update_fields=["ingest_run"])
    return version


def _fail(version: DisclosureVersion | None, run: IngestRun, reason: str) -> None:
    if version is None:
        return
    with transaction.atomic():
        _progress(version, Status.FAILED, 100, failure=reason)
        audit_append(
            actor=run.requested_by,
            action="disclosure.failed",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"reason": reason},
        )


def disclosure_ingest(*, run: IngestRun) -> IngestOutcome:
    """The ``disclosure`` ingester (apps.evidence.ingesters); see the module docstring."""
    path = run.evidence.path
    version: DisclosureVersion | None = None
    if "version_id" in (run.options or {}):
        version = _version_for_run(run, None)
        if version.status not in (Status.UPLOADED, Status.PROCESSING):
            # A redelivered task after the work committed: report what is stored.
            return _outcome_of(version, run)
        _progress(version, Status.PROCESSING, 10)
    try:
        kind = check_file(path)
        with _named(path, kind) as named:
            return _read_and_store(run, version, named, kind)
    except IngestError as exc:
        _fail(version or _version_of_run(run), run, str(exc))
        raise
    except (DatabaseOperationalError, InterfaceError):
        raise  # the database went away: the run is executed again (apps.evidence.services)
    except Exception as exc:
        # Anything else fails the version with the run, never leaves it "processing".
        reason = f"unexpected error reading {run.name}: {type(exc).__name__}: {exc}"
        _fail(version or _version_of_run(run), run, reason)
        raise


@contextlib.contextmanager
def _named(path: Path, kind: str):
    """The stored file (named by its SHA-256) under a name with its type's extension,
    which openpyxl needs; a symbolic link in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="cm-disclosure-") as folder:
        named = Path(folder) / f"{path.name}.{kind}"
        os.symlink(path, named)
        yield named


def _version_of_run(run: IngestRun) -> DisclosureVersion | None:
    return DisclosureVersion.objects.filter(ingest_run=run).first()


def _read_and_store(
    run: IngestRun, version: DisclosureVersion | None, path: Path, kind: str
) -> IngestOutcome:
    if kind == "pdf":
        version = version or _version_for_run(run, None)
        if version.ingest_run_id != run.pk:  # the same file again: nothing new
            return _outcome_of(version, run)
        _progress(version, Status.PROCESSING, 20)
        document = read_pdf_text(path)
        _progress(version, Status.PROCESSING, 50)
        return _ingest_pdf(run, version, document)
    if kind == "xlsx" and _is_cbam_template(path):
        data, meta = read_cbam_template(path)
        version_kind, extractor, rows = (
            DisclosureVersion.Kind.CBAM_TEMPLATE,
            "cbam_template",
            _cbam_rows(data),
        )
        version = version or _version_for_run(run, None)
    else:
        data, meta = read_template(path)
        version_kind, extractor, rows = (
            DisclosureVersion.Kind.TEMPLATE,
            "template",
            _template_rows(data),
        )
        version = version or _version_for_run(run, _template_meta(data))
    if version.ingest_run_id != run.pk:
        return _outcome_of(version, run)
    warnings = []
    if version_kind == DisclosureVersion.Kind.TEMPLATE:
        stated = _template_meta(data)
        ident = stated["installation"].get("id", "")
        if ident and ident != version.disclosure.installation.identifier:
            warnings.append(
                {
                    "line": None,
                    "field": "installation.id",
                    "value": ident,
                    "reason": f"the file names installation {ident}; the disclosure is for "
                    f"{version.disclosure.installation.identifier} (values kept: check them)",
                }
            )
        if stated.get("year") and stated["year"] != version.disclosure.period_year:
            warnings.append(
                {
                    "line": None,
                    "field": "period.start",
                    "value": str(stated["year"]),
                    "reason": f"the file's period starts in {stated['year']}; the disclosure "
                    f"is for {version.disclosure.period_year} (values kept: check them)",
                }
            )
    return _store(
        run,
        version,
        version_kind,
        extractor,
        rows,
        meta,
        trace={"extractor": extractor},
        warnings=warnings,
    )


def _is_cbam_template(path) -> bool:
    from ingest.disclosure import _is_cbam_template as sniff

    return sniff(path)


def _template_meta(data) -> dict:
    """Installation and period as the template states them."""
    out: dict[str, Any] = {"installation": {}}
    for row in data.itertuples(index=False):
        if row.section == "installation":
            out["installation"][row.field] = row.text
        if row.section == "period" and row.field == "start" and row.text:
            out["year"] = int(row.text[:4])
    return out


def _template_rows(data) -> list[dict]:
    rows = []
    for row in data.itertuples(index=False):
        text = row.text if row.text else ""
        rows.append(
            {
                "field": f"{row.section}[{row.item}].{row.field}",
                "value": None if text else float(row.value),
                "text": text,
                "unit": row.unit,
                "cell": row.cell or "",
                "line": None if row.cell else int(row.line),
                "quote": row.quote,
                "context": {"raw_value": row.raw_value, "raw_unit": row.raw_unit},
            }
        )
    return rows


def _cbam_rows(data) -> list[dict]:
    return [
        {
            "field": v["field"],
            "value": v["value"],
            "text": "",
            "unit": v["unit"],
            "cell": v.get("cell", ""),
            "line": None,
            "quote": v["quote"],
            "context": {},
        }
        for v in cbam_template_module.to_values(data)
    ]


def _bbox(document: Document, page_number: int, quote: str, text: str | None, occurrence: int = 0):
    """The box of the quoted number (its ``occurrence``-th copy in the line: a table row
    may print the same number twice) or of the quoted line, on its page."""
    page = document.page(page_number)
    if page is None:
        return None
    wanted = normalise_space(quote)
    for line in page.lines:
        text_of_line = normalise_space(line.text)
        if wanted and (wanted in text_of_line or text_of_line in wanted):
            words = list(line.words)
            if text:
                hit = [w for w in words if w.text == text]
                if hit:
                    words = [hit[min(occurrence, len(hit) - 1)]]
            return [
                round(min(w.x0 for w in words), 2),
                round(min(w.top for w in words), 2),
                round(max(w.x1 for w in words), 2),
                round(max(w.bottom for w in words), 2),
            ]
    return None


def _ingest_pdf(run: IngestRun, version: DisclosureVersion, document: Document) -> IngestOutcome:
    config = llm_config()
    if config is None:
        extraction = RuleExtractor().extract(document)
        note = "no LLM endpoint configured (LLM_BASE_URL unset): the rule-based extractor ran"
    else:
        extractor = LLMExtractor(config, sector=_sector(version.cn_code))
        try:
            extraction = extractor.extract(document)
        except LLMError as exc:
            return _needs_review(run, version, extractor.name, config, exc)
        note = f"LLM extractor on {config.base_url}"
    _progress(version, Status.PROCESSING, 80)
    flags: dict[int, list[str]] = {}
    for flag in extraction.flags:
        if flag.index is not None:
            flags.setdefault(flag.index, []).append(f"{flag.kind}: {flag.detail}")
    rows = []
    seen: dict[tuple, int] = {}
    for i, v in enumerate(extraction.values):
        # The rule extractor gives a row's cells left to right: the k-th value with the same
        # text in the same quoted line is its k-th copy there.
        key = (v.page, v.quote, v.context.get("text"))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        rows.append(
            {
                "field": v.field,
                "value": v.value,
                "text": "",
                "unit": v.unit,
                "page": v.page,
                "cell": "",
                "line": None,
                "quote": v.quote,
                "bbox": _bbox(document, v.page, v.quote, v.context.get("text"), occurrence),
                "context": {**v.context, "period": v.period, "occurrence": occurrence},
                "plausibility": "; ".join(flags.get(i, [])),
            }
        )
    used = sorted({r["page"] for r in rows})
    pages = [
        {"number": p.number, "text": p.text, "width": p.width, "height": p.height}
        for p in document.pages
        if p.number in used
    ]
    trace = dict(extraction.trace)
    trace_fields = {
        "extractor": extraction.extractor,
        "model_id": trace.get("response_model") or trace.get("model") or "",
        "prompt_sha256": trace.get("prompt_sha256", ""),
        "temperature": 0 if config else None,
        "request": trace.get("request_body"),
        "response": trace.get("response_body", ""),
        "attempts": trace.get("attempts", []),
        "dropped": [d.to_dict() for d in extraction.dropped],
        "flags": [f.to_dict() for f in extraction.flags],
        "note": note,
    }
    meta = {"rows_read": len(rows) + len(extraction.dropped), "errors": []}
    errors = [
        {
            "line": d.candidate.get("page") if isinstance(d.candidate, dict) else None,
            "field": str(d.candidate.get("field", "")) if isinstance(d.candidate, dict) else "",
            "value": str(d.candidate.get("value", "")) if isinstance(d.candidate, dict) else "",
            "reason": f"dropped ({d.reason}): {d.detail}",
        }
        for d in extraction.dropped
    ]
    return _store(
        run,
        version,
        DisclosureVersion.Kind.PDF,
        extraction.extractor,
        rows,
        meta,
        trace=trace_fields,
        pages=pages,
        extra_errors=errors,
    )


def _needs_review(run, version, name: str, config: LLMConfig, exc: LLMError) -> IngestOutcome:
    """The LLM failed after its retries: keep the trace, store no value."""
    trace = exc.trace
    reason = str(exc)
    with transaction.atomic():
        ExtractionTrace.objects.update_or_create(
            version=version,
            defaults={
                "extractor": name,
                "model_id": config.model,
                "prompt_sha256": trace.get("prompt_sha256", ""),
                "temperature": 0,
                "request": trace.get("request_body"),
                "response": trace.get("response_body", ""),
                "attempts": trace.get("attempts", []),
                "error": reason,
                "note": "nothing was stored: the extraction needs review",
            },
        )
        _progress(
            version,
            Status.NEEDS_REVIEW,
            100,
            extractor=name,
            failure=reason,
            kind=DisclosureVersion.Kind.PDF,
        )
        outcome = IngestOutcome(
            rows_read=0,
            accepted=0,
            rejected=0,
            duplicates=0,
            errors=[{"line": None, "field": "extraction", "value": "", "reason": reason}],
            extra={"extractor": name, "status": Status.NEEDS_REVIEW, "version": version.pk},
        )
        ingest_run_finish(run=run, outcome=outcome)
        audit_append(
            actor=run.requested_by,
            action="disclosure.needs_review",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"extractor": name, "reason": reason},
        )
    return outcome


def _store(
    run: IngestRun,
    version: DisclosureVersion,
    kind: str,
    extractor: str,
    rows: list[dict],
    meta: dict,
    *,
    trace: dict,
    pages: list | None = None,
    extra_errors: list | None = None,
    warnings: list | None = None,
) -> IngestOutcome:
    """Store the values, the trace and the run's outcome in one transaction."""
    errors = [asdict(e) if not isinstance(e, dict) else e for e in meta.get("errors", [])]
    errors += extra_errors or []
    rejected = len(errors)
    errors += warnings or []
    with transaction.atomic():
        if version.values.exists():  # replay after a crash between commit and ack
            return _outcome_of(version, run)
        ExtractedValue.objects.bulk_create(
            [
                ExtractedValue(
                    version=version,
                    index=i,
                    field=r["field"][:255],
                    value=r["value"],
                    text=r.get("text", "")[:255],
                    unit=r.get("unit", "")[:64],
                    page=r.get("page"),
                    cell=r.get("cell", ""),
                    line=r.get("line"),
                    quote=r.get("quote", ""),
                    bbox=r.get("bbox"),
                    extractor=extractor,
                    context=r.get("context", {}),
                    plausibility=r.get("plausibility", ""),
                )
                for i, r in enumerate(rows)
            ]
        )
        trace_defaults = {
            "extractor": extractor,
            **{k: v for k, v in trace.items() if k != "extractor"},
        }
        ExtractionTrace.objects.update_or_create(version=version, defaults=trace_defaults)
        status = Status.REVIEW if rows else Status.NEEDS_REVIEW
        _progress(
            version,
            status,
            100,
            kind=kind,
            extractor=extractor,
            pages=pages or [],
            errors=errors[:1000],
            failure="" if rows else "no value could be extracted",
        )
        outcome = IngestOutcome(
            rows_read=int(meta.get("rows_read", len(rows))),
            accepted=len(rows),
            rejected=rejected,
            duplicates=0,
            errors=errors,
            extra={"extractor": extractor, "version": version.pk, "status": status},
        )
        ingest_run_finish(run=run, outcome=outcome)
        audit_append(
            actor=run.requested_by,
            action="disclosure.extract",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"extractor": extractor, "values": len(rows), "rejected": rejected},
        )
    return outcome


def _outcome_of(version: DisclosureVersion, run: IngestRun) -> IngestOutcome:
    n = version.values.count()
    with transaction.atomic():
        outcome = IngestOutcome(
            rows_read=n,
            accepted=0,
            rejected=0,
            duplicates=n,
            extra={"extractor": version.extractor, "version": version.pk},
        )
        ingest_run_finish(run=run, outcome=outcome)
    return outcome


# --- review --------------------------------------------------------------------------


class ReviewError(ValueError):
    """A review action that cannot be taken (wrong state, bad unit)."""


REVIEWABLE = (Status.REVIEW, Status.NEEDS_REVIEW)


def extracted_value_review(
    *,
    value: ExtractedValue,
    user: User,
    action: str,
    corrected_value: float | None = None,
    corrected_unit: str = "",
    reason: str = "",
) -> ExtractedValue:
    """Confirm, correct or drop one value of a version under review. The extracted value
    is never changed: a correction is stored beside it with its reason."""
    if value.version.status not in REVIEWABLE:
        raise ReviewError(f"version {value.version.number} is {value.version.status}")
    if action == "confirm":
        value.status = ExtractedValue.ValueStatus.CONFIRMED
        value.corrected_value, value.corrected_unit = None, ""
    elif action == "correct":
        if corrected_value is None:
            raise ReviewError("a correction needs a value")
        unit = (corrected_unit or value.unit).strip()
        if value.unit and unit != value.unit:
            try:
                convert(float(corrected_value), unit, (value.unit,))
            except UnitError as exc:
                raise ReviewError(str(exc)) from exc
        elif unit:
            try:
                parse_unit(unit)
            except UnitError as exc:
                raise ReviewError(str(exc)) from exc
        value.status = ExtractedValue.ValueStatus.CORRECTED
        value.corrected_value, value.corrected_unit = float(corrected_value), unit
    elif action == "drop":
        if not reason.strip():
            raise ReviewError("say why the value is dropped")
        value.status = ExtractedValue.ValueStatus.DROPPED
    else:
        raise ReviewError(f"unknown action {action!r}")
    value.reason = reason.strip()
    value.reviewed_by, value.reviewed_at = user, timezone.now()
    with transaction.atomic():
        value.save()
        audit_append(
            actor=user,
            action=f"disclosure.value.{action}",
            object_type="extracted_value",
            object_id=value.pk,
            evidence_sha256=value.version.evidence.sha256,
            payload={
                "version": value.version_id,
                "field": value.field,
                "extracted": value.value,
                "unit": value.unit,
                "corrected": value.corrected_value,
                "corrected_unit": value.corrected_unit,
                "reason": value.reason,
            },
        )
    return value


def disclosure_version_confirm(*, version: DisclosureVersion, user: User) -> dict:
    """Submit a reviewed version: values still "extracted" are confirmed, then either

    - the version is **held** for an official's review (status "held", no estimate, the
      earlier confirmed version stays current) when a case the engine would be fed is
      implausible (:func:`disclosure_plausibility_check`); or
    - the engine is fed (:func:`disclosure_estimates_apply`) and, when that made at least
      one estimate, any earlier confirmed version is superseded (kept).

    Returns what changed (``held`` lists the findings of a held version)."""
    if version.status != Status.REVIEW:
        raise ReviewError(f"version {version.number} is {version.status}, not ready to confirm")
    with transaction.atomic():
        version.values.filter(status=ExtractedValue.ValueStatus.EXTRACTED).update(
            status=ExtractedValue.ValueStatus.CONFIRMED,
            reviewed_by=user,
            reviewed_at=timezone.now(),
        )
        version.confirmed_by, version.confirmed_at = user, timezone.now()
        version.save(update_fields=["confirmed_by", "confirmed_at"])
        held = disclosure_plausibility_check(version=version)
        audit_append(
            actor=user,
            action="disclosure.confirm",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=version.evidence.sha256,
            payload={"version": version.number, "held": len(held)},
        )
        if held:
            return _version_hold(version=version, findings=held, actor=user)
        _progress(version, Status.CONFIRMED, 100)
        return _version_feed(version=version, actor=user)


def _version_hold(*, version: DisclosureVersion, findings: list[dict], actor: Any) -> dict:
    """Hold a confirmed version for an official's review: no estimate, audited."""
    engine = {
        "estimates": [],
        "notes": [f"held for an official's review: {f['reason']}" for f in findings],
        "shipments": 0,
        "tiers_before": {},
        "held": findings,
    }
    _progress(version, Status.HELD, 100, held=findings, engine=engine)
    audit_append(
        actor=actor,
        action="disclosure.hold",
        object_type="disclosure_version",
        object_id=version.pk,
        evidence_sha256=version.evidence.sha256,
        payload={"version": version.number, "findings": findings},
    )
    return engine


def _version_feed(*, version: DisclosureVersion, actor: Any, review: dict | None = None) -> dict:
    """Feed a confirmed version to the engine; supersede the earlier confirmed versions
    only when it made an estimate (a version that made none leaves them current)."""
    engine = disclosure_estimates_apply(version=version, actor=actor, review=review)
    engine["supersedes"] = []
    if engine["estimates"]:
        earlier = version.disclosure.versions.filter(
            status=Status.CONFIRMED, superseded_by__isnull=True
        ).exclude(pk=version.pk)
        engine["supersedes"] = sorted(earlier.values_list("number", flat=True))
        if engine["supersedes"]:
            earlier.update(superseded_by=version)
            audit_append(
                actor=actor,
                action="disclosure.supersede",
                object_type="disclosure_version",
                object_id=version.pk,
                payload={"version": version.number, "supersedes": engine["supersedes"]},
            )
    else:
        engine["notes"].append(
            "no estimate was made from this version: the earlier confirmed version, if any, "
            "stays current"
        )
    version.engine = engine
    version.save(update_fields=["engine"])
    return engine


DECISIONS = {"accept": Status.CONFIRMED, "reject": Status.REJECTED}


def disclosure_hold_decide(
    *, version: DisclosureVersion, user: User, decision: str, note: str
) -> dict:
    """An official's decision on a held version, with a note (required), audited:
    ``accept`` feeds the engine as a confirmation would (the estimates' provenance carries
    the findings, the decision and the note); ``reject`` makes no estimate. Either way the
    earlier confirmed version stays current unless accepted values made an estimate."""
    if user.role not in (User.Role.OFFICIAL, User.Role.ADMIN):
        raise PermissionError("only an official decides on a held disclosure")
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r} (expected accept or reject)")
    note = (note or "").strip()
    if not note:
        raise ReviewError("a decision on a held disclosure needs a note saying why")
    with transaction.atomic():
        locked = DisclosureVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != Status.HELD:
            raise ReviewError(f"version {locked.number} is {locked.status}, not held")
        decided_at = timezone.now()
        label = "accepted" if decision == "accept" else "rejected"
        _progress(
            version,
            DECISIONS[decision],
            100,
            decision=label,
            decision_note=note,
            decided_by=user,
            decided_at=decided_at,
        )
        audit_append(
            actor=user,
            action=f"disclosure.hold.{decision}",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=version.evidence.sha256,
            payload={
                "version": version.number,
                "note": note,
                "findings": [f["check"] for f in locked.held],
            },
        )
        if decision == "reject":
            return {"decision": label, "estimates": [], "shipments": 0}
        review = {
            "held": locked.held,
            "decision": label,
            "note": note,
            "decided_at": decided_at.isoformat(),
        }
        return {"decision": label, **_version_feed(version=version, actor=user, review=review)}


# --- feeding the engine --------------------------------------------------------------

_FIELD = re.compile(r"^(?P<section>\w+)\[(?P<item>.*)\]\.(?P<field>\w+)$")


def _canonical(value: ExtractedValue) -> float | None:
    """The reviewed number in the value's own (canonical) unit."""
    if value.status == ExtractedValue.ValueStatus.CORRECTED:
        if value.unit and value.corrected_unit and value.corrected_unit != value.unit:
            return convert(value.corrected_value, value.corrected_unit, (value.unit,)).value
        return value.corrected_value
    return value.value


def _evidence(value: ExtractedValue, used_as: str) -> dict:
    out: dict[str, Any] = {
        "input": used_as,
        "field": value.field,
        "value": _canonical(value) if value.value is not None else value.text,
        "unit": value.unit,
        "status": value.status,
        "quote": value.quote,
        "value_id": value.pk,
    }
    if value.page is not None:
        out["page"] = value.page
    elif value.cell:
        out["cell"] = value.cell
    elif value.line is not None:
        out["line"] = value.line
    if value.status == ExtractedValue.ValueStatus.CORRECTED:
        out["extracted"] = {"value": value.value, "unit": value.unit}
        out["reason"] = value.reason
    return out


def _records(values: list[ExtractedValue]) -> dict[str, dict[str, dict[str, ExtractedValue]]]:
    """Template values → {section: {item: {field: value}}}."""
    out: dict[str, dict[str, dict[str, ExtractedValue]]] = {}
    for v in values:
        match = _FIELD.match(v.field)
        if match:
            out.setdefault(match["section"], {}).setdefault(match["item"], {})[match["field"]] = v
    return out


def _default_see(origin: str, cn_code: str, year: int) -> dict | None:
    try:
        result = methodologies.run_case(
            {
                "methodology": "cbam.default",
                "cn_code": cn_code,
                "origin": origin,
                "year": year,
                "default_values": default_value_candidates(origin=origin, cn_code=cn_code),
            }
        )
    except MethodologyError:
        return None
    return result


#: Sources of electricity whose actual emission factor CBAM admits (IR 2025/2547 Annex II
#: D.4, D.4.3; Reg. 2023/956 Annex IV pt 6): a power purchase agreement, or a direct
#: technical link to the generating plant (the template's "onsite").
ACTUAL_ELECTRICITY_SOURCES = {
    "ppa": "a power purchase agreement",
    "onsite": "a direct technical link",
}


def _measured_grid_note(installation: Installation, year: int) -> str:
    """The platform's measured grid intensity for the installation's zone and year, as a
    note: evidence shown beside the CBAM factor, never used in its place."""
    from apps.grid.selectors import grid_factor_lookup

    try:
        measured = grid_factor_lookup(
            zone=installation.grid_zone, country=installation.country, year=year
        )
    except LookupError as exc:
        return f"measured grid intensity: none for {year} ({exc})"
    return (
        f"measured grid intensity {measured.value_t_per_mwh:.4g} t/MWh ({measured.source}; "
        f"{' → '.join(measured.steps)}): evidence only, not used (CBAM takes the Annex II "
        "factor unless an actual factor is justified)"
    )


def _electricity_factor(rec, item: str, installation: Installation, year: int, cite, notes):
    """The emission factor [t/MWh] CBAM admits for one disclosed electricity record:

    - the disclosed factor when the record's source is a power purchase agreement or a
      direct technical link ("ppa", "onsite"): IR 2025/2547 Annex II D.4 (third indent)
      and D.4.3, Reg. 2023/956 Annex IV pt 6;
    - otherwise the country factor of IR 2025/2621 Annex II (Art. 1(3); IR 2025/2547
      Annex II D.4, first indent), whatever factor the disclosure states (shown as
      evidence, not used).

    Returns None (and says why in ``notes``) when no factor applies."""
    source = ""
    if "source" in rec:
        source = rec["source"].text.strip().lower()
        cite(rec["source"], f"electricity[{item}].source")
    if "ef" in rec and source in ACTUAL_ELECTRICITY_SOURCES:
        cite(rec["ef"], f"electricity[{item}].ef_t_per_mwh")
        notes.append(
            f"electricity[{item}]: actual factor {_canonical(rec['ef']):g} t/MWh, justified by "
            f"{ACTUAL_ELECTRICITY_SOURCES[source]} (IR 2025/2547 Annex II D.4.3; the "
            "evidence it lists is for the verifier to check)"
        )
        return _canonical(rec["ef"])
    try:
        factor = cbam_tables.grid_factor(installation.country)
    except MethodologyError as exc:
        notes.append(f"electricity[{item}]: no CBAM factor ({exc}); left out")
        return None
    if "ef" in rec:
        cite(rec["ef"], f"electricity[{item}].ef_t_per_mwh (evidence only, not used)")
    stated = f"; the disclosed {_canonical(rec['ef']):g} t/MWh is not used" if "ef" in rec else ""
    notes.append(
        f"electricity[{item}]: source {source or 'not stated'}, no power purchase agreement "
        f"or direct technical link: CBAM country factor {factor.value:g} t/MWh "
        f"({factor.source}, {factor.row}"
        + (", as Other countries and territories" if factor.fallback else "")
        + f"){stated}; {_measured_grid_note(installation, year)}"
    )
    return factor.value


def _electricity(records, installation: Installation, year: int, share: float, cite, notes):
    consumed, emissions, counted = 0.0, 0.0, 0.0
    for item, rec in records.get("electricity", {}).items():
        if "consumed" not in rec:
            continue
        mwh = _canonical(rec["consumed"])
        cite(rec["consumed"], f"electricity[{item}].consumed_mwh")
        consumed += mwh
        ef = _electricity_factor(rec, item, installation, year, cite, notes)
        if ef is not None:
            emissions += mwh * ef
            counted += mwh
    if counted == 0:
        return {"consumed_mwh": 0.0, "ef_t_per_mwh": 0.0}, consumed
    return {"consumed_mwh": counted * share, "ef_t_per_mwh": emissions / counted}, consumed


def _streams(records, share: float, cite, notes) -> list[dict]:
    streams = []
    for item, rec in records.get("fuel", {}).items():
        if "amount" not in rec:
            continue
        amount = rec["amount"]
        unit = amount.unit
        kind = rec["kind"].text if "kind" in rec else ""
        ef = rec.get("ef")
        if not kind:
            if ef is not None and ef.unit == "t/t":
                kind = "process"
            elif "carbon_content" in rec and ef is None:
                kind = "mass_balance_in"
            else:
                kind = "combustion"
        path = f"direct.source_streams[{len(streams)}]"
        name = rec["name"].text if "name" in rec else item
        ad = _canonical(amount) * share
        if kind == "combustion":
            ncv = rec.get("ncv")
            if ef is None or ef.unit != "t/TJ" or (unit != "TJ" and ncv is None):
                notes.append(f"fuel[{item}] ({name}): no NCV or emission factor; left out")
                continue
            stream = {"type": "combustion", "name": name, "ef_t_per_tj": _canonical(ef)}
            if unit == "TJ":  # energy given: AD × NCV with NCV 1 TJ/TJ
                stream |= {"ad_t": ad, "ncv_tj_per_t": 1.0}
            elif unit == "t":
                stream |= {"ad_t": ad, "ncv_tj_per_t": _canonical(ncv)}
            else:
                stream |= {"ad_1000nm3": ad, "ncv_tj_per_1000nm3": _canonical(ncv)}
            if "oxidation_factor" in rec:
                stream["oxidation_factor"] = _canonical(rec["oxidation_factor"])
                cite(rec["oxidation_factor"], f"{path}.oxidation_factor")
            if ncv is not None:
                cite(ncv, f"{path}.ncv")
            cite(ef, f"{path}.ef_t_per_tj")
        elif kind == "process":
            if ef is None or ef.unit != "t/t" or unit != "t":
                notes.append(
                    f"fuel[{item}] ({name}): a process stream needs t and tCO2/t; left out"
                )
                continue
            stream = {"type": "process", "name": name, "ad_t": ad, "ef_t_per_t": _canonical(ef)}
            cite(ef, f"{path}.ef_t_per_t")
        else:
            carbon = rec.get("carbon_content")
            if carbon is None or unit != "t":
                notes.append(f"fuel[{item}] ({name}): mass balance needs t and carbon content")
                continue
            stream = {
                "type": "mass_balance",
                "name": name,
                "ad_t": ad,
                "carbon_content_t_per_t": _canonical(carbon),
                "output": kind == "mass_balance_out",
            }
            cite(carbon, f"{path}.carbon_content_t_per_t")
        cite(amount, f"{path}.ad")
        streams.append(stream)
    return streams


STEEL_ROUTES = ("bf_bof", "dri_eaf", "scrap_eaf")


def _route_case(installation, cn: str, production: float, records, year, share, cite, notes):
    """A ``route.steel`` case for a partial disclosure (production and electricity known,
    no source stream): the installation's route, IPCC Tier 1 factors (tier "modelled").
    A DRI-EAF works needs its DRI charged (``dri_t``): the disclosed precursors of CN 7203
    (direct reduced iron), allocated by the good's share of production; without one the
    route model cannot run and the notes say so."""
    route = next((r for r in installation.routes or [] if r in STEEL_ROUTES), None)
    if route is None or not cn.startswith(("72", "73")):
        return None
    electricity, _ = _electricity(records, installation, year, share, cite, notes)
    case = {
        "methodology": "route.steel",
        "route": route,
        "cn_code": cn,
        "production_t": production,
        "electricity_mwh": electricity["consumed_mwh"],
        "electricity_ef_t_per_mwh": electricity["ef_t_per_mwh"],
    }
    if route == "dri_eaf":
        case["reductant"] = "gas"
        dri = [
            (item, rec)
            for item, rec in records.get("precursor", {}).items()
            if {"cn_code", "mass"} <= rec.keys()
            and rec["cn_code"].text.replace(" ", "").startswith("7203")
        ]
        if not dri:
            notes.append(
                "dri_eaf: no precursor of CN 7203 (direct reduced iron) disclosed, so the "
                "DRI charged (dri_t) is unknown and the route model cannot run"
            )
            return None
        for item, rec in dri:
            cite(rec["mass"], f"dri_t (precursor[{item}].mass)")
        case["dri_t"] = sum(_canonical(rec["mass"]) for _, rec in dri) * share
    return case


def _template_cases(version, values, year: int, notes: list[str]) -> list[tuple]:
    """(CN code, case, evidence) per disclosed good of our template."""
    installation = version.disclosure.installation
    records = _records(values)
    # Goods records of the same CN code are one good (their production adds up).
    by_cn: dict[str, list[tuple[str, dict]]] = {}
    for item, rec in records.get("goods", {}).items():
        if "cn_code" in rec and "production" in rec and _canonical(rec["production"]) > 0:
            by_cn.setdefault(rec["cn_code"].text, []).append((item, rec))
    total = sum(_canonical(r["production"]) for group in by_cn.values() for _, r in group)
    out = []
    for cn, group in by_cn.items():
        cited: list[dict] = []

        def cite(value: ExtractedValue, used_as: str) -> None:
            cited.append(_evidence(value, used_as))  # noqa: B023

        item = "+".join(i for i, _ in group)
        production = sum(_canonical(r["production"]) for _, r in group)
        share = production / total
        local_notes: list[str] = []
        if len(by_cn) > 1:
            local_notes.append(
                f"installation-wide data allocated to CN {cn} by its share of production "
                f"({production:g} of {total:g} t = {share:.6g}); a simplification of the "
                "attribution to production processes (IR 2025/2547 Annex III)"
            )
        for _, good in group:
            cite(good["cn_code"], "good.cn_code")
            cite(good["production"], "good.activity_level_t")
        direct: dict[str, Any] = {"source_streams": _streams(records, share, cite, local_notes)}
        if not direct["source_streams"]:
            case = _route_case(
                installation, cn, production, records, year, share, cite, local_notes
            )
            if case is None:
                local_notes.append(
                    f"goods[{item}]: no usable fuel or material, and no route model applies "
                    "(an iron or steel good of an installation whose route is known); "
                    "not estimated"
                )
            else:
                local_notes.append(
                    f"goods[{item}]: no usable fuel or material: modelled with route.steel "
                    f"({case['route']}) from the disclosed production and electricity"
                )
                out.append((cn, case, cited, local_notes))
            notes.extend(local_notes)
            continue
        heat = records.get("heat", {})
        for h_item, rec in heat.items():
            ef = rec.get("ef")
            for side in ("imported", "exported"):
                if side not in rec:
                    continue
                if ef is None:
                    local_notes.append(
                        f"heat[{h_item}].{side}: no emission factor given; not counted"
                    )
                    continue
                direct[f"heat_{side}_tj"] = _canonical(rec[side]) * share
                direct[f"heat_{side}_ef_t_per_tj"] = _canonical(ef)
                cite(rec[side], f"direct.heat_{side}_tj")
                cite(ef, f"direct.heat_{side}_ef_t_per_tj")
        electricity, _ = _electricity(records, installation, year, share, cite, local_notes)
        precursors = []
        for p_item, rec in records.get("precursor", {}).items():
            if not {"cn_code", "mass", "origin"} <= rec.keys():
                continue
            p = {
                "cn_code": rec["cn_code"].text,
                "mass_t": _canonical(rec["mass"]) * share,
                "origin": rec["origin"].text,
            }
            for key in ("cn_code", "mass", "origin"):
                cite(rec[key], f"precursors[{len(precursors)}].{key}")
            if "see_direct" in rec:
                p["see_direct_t_per_t"] = _canonical(rec["see_direct"])
                p["see_indirect_t_per_t"] = (
                    _canonical(rec["see_indirect"]) if "see_indirect" in rec else 0.0
                )
                cite(rec["see_direct"], f"precursors[{len(precursors)}].see_direct_t_per_t")
                if "see_indirect" in rec:
                    cite(rec["see_indirect"], f"precursors[{len(precursors)}].see_indirect")
            else:
                default = _default_see(p["origin"], p["cn_code"], year)
                if default is None:
                    local_notes.append(f"precursor[{p_item}]: no SEE and no default; left out")
                    continue
                p["see_direct_t_per_t"] = default["see_direct_t_per_t"]
                p["see_indirect_t_per_t"] = default["see_indirect_t_per_t"] or 0.0
                local_notes.append(
                    f"precursor[{p_item}]: SEE from the CBAM default value "
                    f"({default['see_direct_t_per_t']:g} + {p['see_indirect_t_per_t']:g} t/t, "
                    f"trace {default['trace_sha256'][:12]}…)"
                )
            precursors.append(p)
        case = {
            "methodology": "cbam.installation",
            "installation_id": installation.identifier,
            "good": {"cn_code": cn, "activity_level_t": production},
            "direct": direct,
            "electricity": electricity,
            "precursors": precursors,
            "tier": "disclosed",
        }
        notes.extend(local_notes)
        out.append((cn, case, cited, local_notes))
    return out


def _communicated_cases(version, values, notes: list[str]) -> list[tuple]:
    """SEE communicated per CN code (CBAM template, or a PDF's see_direct/see_indirect for
    the version's CN code) as a one-tonne case: attributed direct emissions SEE_dir, and
    indirect SEE_indir as embedded electricity × its factor (or 1 MWh × SEE_indir)."""
    installation = version.disclosure.installation
    by_cn: dict[str, dict[str, ExtractedValue]] = {}
    for v in values:
        if version.kind == DisclosureVersion.Kind.CBAM_TEMPLATE:
            cn, _, field = v.field.partition(".")
        else:
            cn, field = version.cn_code, v.field
            if v.unit and v.unit != "t/t" and field.startswith("see_"):
                try:
                    convert(1.0, v.unit, ("t/t",))
                except UnitError:
                    continue
        if cn and field in ("see_direct", "see_indirect", "embedded_electricity"):
            by_cn.setdefault(cn, {})[field] = v
    out = []
    for cn, rec in by_cn.items():
        if "see_direct" not in rec:
            notes.append(f"{cn}: no SEE (direct); not estimated")
            continue
        cited = [_evidence(rec["see_direct"], "direct.attributed_emissions_t")]
        direct = _canonical(rec["see_direct"])
        if version.kind == DisclosureVersion.Kind.PDF and rec["see_direct"].unit:
            direct = convert(direct, rec["see_direct"].unit, ("t/t",)).value
        indirect = _canonical(rec["see_indirect"]) if "see_indirect" in rec else 0.0
        local = ["SEE communicated per tonne: the case is one tonne of good"]
        electricity = {"consumed_mwh": 0.0, "ef_t_per_mwh": 0.0}
        if "see_indirect" in rec:
            cited.append(_evidence(rec["see_indirect"], "electricity (indirect SEE)"))
            mwh = _canonical(rec["embedded_electricity"]) if "embedded_electricity" in rec else 0
            if mwh:
                cited.append(_evidence(rec["embedded_electricity"], "electricity.consumed_mwh"))
                electricity = {"consumed_mwh": mwh, "ef_t_per_mwh": indirect / mwh}
            else:
                electricity = {"consumed_mwh": 1.0, "ef_t_per_mwh": indirect}
                local.append("indirect SEE entered as 1 MWh × SEE_indirect tCO2e/MWh")
        else:
            local.append("no indirect SEE communicated; indirect counted zero (lower bound)")
        case = {
            "methodology": "cbam.installation",
            "installation_id": installation.identifier,
            "good": {"cn_code": cn, "activity_level_t": 1.0},
            "direct": {"attributed_emissions_t": direct},
            "electricity": electricity,
            "precursors": [],
            "tier": "disclosed",
        }
        out.append((cn, case, cited, local))
    return out


LADDER_WHY = {
    Tier.DISCLOSED: (
        "disclosed actual: the exporter's confirmed disclosure for this installation and "
        "period (version {v}) ranks above modelled and default values (DESIGN §3); a "
        "verified estimate would rank above it"
    ),
    Tier.VERIFIED: (
        "verified actual: the exporter's confirmed disclosure (version {v}) carries a "
        "verification report with a positive opinion for its reporting period (IR 2025/2546); "
        "it ranks above disclosed, modelled and default values (DESIGN §3)"
    ),
    Tier.MODELLED: (
        "modelled: the confirmed disclosure (version {v}) is partial (production and "
        "energy, no source streams), so a route model computed it; it ranks above the "
        "default value and below disclosed and verified actual data (DESIGN §3)"
    ),
}


def _satellite_check(
    *, version: DisclosureVersion, values: list[ExtractedValue], year: int, actor, notes: list
) -> None:
    """Check the disclosed annual production against the satellite-implied activity of the
    installation (``apps.satellite.services.reconciliation_check``): a disagreement beyond
    the combined uncertainty raises (or a consistent restatement closes) the reconciliation
    flag, which the estimates' traces then carry. Without satellite evidence for the year
    the check is skipped, and the notes say why."""
    from apps.satellite.services import SatelliteError, reconciliation_check

    amounts = []
    for record in _records(values).get("goods", {}).values():
        if "production" not in record or not _canonical(record["production"]):
            continue
        value = record["production"]
        amount = _canonical(value)
        if value.unit and value.unit != "t":
            amount = convert(amount, value.unit, ("t",)).value
        amounts.append(amount)
    if not amounts:
        return
    try:
        outcome = reconciliation_check(
            installation=version.disclosure.installation,
            period=str(year),
            disclosed_production_t=float(sum(amounts)),
            disclosure_ref=f"disclosure {version.disclosure.pk} version {version.number}",
            actor=actor,
        )
    except SatelliteError as exc:
        notes.append(f"satellite check not made: {exc}")
        return
    notes.append(
        f"satellite check: disclosed {outcome.disclosed_production_t:,.0f} t, satellite-implied "
        f"{outcome.expected_production_t:,.0f} ± {outcome.combined_sigma_t:,.0f} t "
        f"(z = {outcome.z_score:+.1f}){'; flagged' if outcome.flagged else ''}"
    )


def _version_cases(version: DisclosureVersion, values: list, notes: list[str]) -> list[tuple]:
    """(CN code, case, cited evidence, notes) per good the version's values describe."""
    if version.kind == DisclosureVersion.Kind.TEMPLATE:
        return _template_cases(version, values, version.disclosure.period_year, notes)
    cases = _communicated_cases(version, values, notes)
    if not cases:
        notes.append(
            "no confirmed value maps to an installation input (a PDF's figures feed the "
            "engine when it gives see_direct in t/t and the upload names the CN code)"
        )
    return cases


def disclosure_plausibility_check(*, version: DisclosureVersion) -> list[dict]:
    """The findings that hold a confirmed version for an official's review
    (:mod:`apps.disclosures.plausibility`): each case the engine would be fed is run;
    a :class:`~methodologies.errors.CaseError` (an implausible or malformed value, with
    the engine's physical ranges) and the zero-emission claims the rules do not admit
    without evidence are findings. Each names the CN code, the case key, the reason and,
    where a disclosed value gave the key, its field, where it is in the file and its id."""
    from apps.disclosures.plausibility import refusal_finding, zero_findings

    values = list(version.values.exclude(status=ExtractedValue.ValueStatus.DROPPED))
    findings = []
    for cn, case, cited, _ in _version_cases(version, values, []):
        try:
            result = methodologies.run_case(case)
        except CaseError as exc:
            found = [refusal_finding(exc)]
        except MethodologyError:
            continue  # not a value's plausibility: noted when the version is applied
        else:
            found = zero_findings(case, result)
        for finding in found:
            item = {
                "cn_code": cn,
                **finding,
                "file": version.ingest_run.name if version.ingest_run else "",
            }
            key = finding["key"]  # the case key; a citation names it, or its stem ("….ad")
            evidence = next(
                (c for c in cited if c["input"] == key or key.startswith(c["input"] + "_")),
                None,
            )
            if evidence is not None:
                item["field"] = evidence["field"]
                item["value_id"] = evidence["value_id"]
                for where in ("line", "cell", "page"):
                    if where in evidence:
                        item[where] = evidence[where]
            findings.append(item)
    return findings


def disclosure_estimates_apply(
    *, version: DisclosureVersion, actor: Any = None, review: dict | None = None
) -> dict:
    """Confirmed values → disclosed estimates → shipments; see the module docstring.
    Call inside the confirming transaction. ``review``: an official's decision on a held
    version, carried in each estimate's provenance."""
    from apps.satellite.selectors import reconciliation_flags

    disclosure = version.disclosure
    installation = disclosure.installation
    year = disclosure.period_year
    values = list(version.values.exclude(status=ExtractedValue.ValueStatus.DROPPED))
    notes: list[str] = []
    cases = _version_cases(version, values, notes)
    _satellite_check(version=version, values=values, year=year, actor=actor, notes=notes)
    flags = reconciliation_flags(installation_id=installation.pk, year=year)
    out: dict[str, Any] = {"estimates": [], "notes": notes, "shipments": 0, "tiers_before": {}}
    report = verification_report_current(disclosure=disclosure)
    for cn, case, cited, local_notes in cases:
        case = _verified_case(case, report)
        try:
            result = methodologies.run_case(case)
        except MethodologyError as exc:
            notes.append(f"{cn}: the engine refused the case: {exc}")
            continue
        tier = Tier(result.get("tier", Tier.DISCLOSED))
        normalised = result["trace"]["case"]
        cn = normalised.get("good", {}).get("cn_code") or normalised.get("cn_code") or cn
        subject = f"installation|{installation.identifier}|{cn}|{year}"
        provenance = {
            "disclosure": {
                "id": disclosure.pk,
                "version": version.number,
                "version_id": version.pk,
                "organisation": disclosure.organisation.name,
                "installation": installation.identifier,
                "period": [disclosure.period_start.isoformat(), disclosure.period_end.isoformat()],
                "kind": version.kind,
                "extractor": version.extractor,
                "evidence": {
                    "file": version.ingest_run.original_name if version.ingest_run else "",
                    "sha256": version.evidence.sha256,
                },
            },
            "values": cited,
            "notes": local_notes,
            "reconciliation_flags": flags,
            "ladder": {"tier": tier.value, "why": LADDER_WHY[tier].format(v=version.number)},
        }
        if tier == Tier.VERIFIED:
            provenance["verification"] = _verification_evidence(report)
        if review is not None:
            provenance["review"] = review
        trace = {**result["trace"], "provenance": provenance}
        result = {**result, "trace": trace, "trace_sha256": sha256_hex(canonical_bytes(trace))}
        earlier = list(Estimate.objects.filter(subject_key=subject, superseded_by__isnull=True))
        estimate = estimate_record(
            result=result,
            subject_key=subject,
            tier=tier,
            cn_code=cn,
            origin=installation.country,
            period_start=disclosure.period_start,
            period_end=disclosure.period_end,
            actor=actor,
            installation=installation,
        )
        estimates_supersede(old=earlier, new=estimate, actor=actor)
        applied = shipment_estimates_apply(estimate=estimate, actor=actor)
        out["estimates"].append(
            {
                "id": estimate.pk,
                "cn_code": estimate.cn_code,
                "see_total_t_per_t": estimate.see_total_t_per_t,
                "shipments": applied.shipments,
            }
        )
        out["shipments"] += applied.shipments
        for tier, n in applied.tiers_before.items():
            out["tiers_before"][tier or "none"] = out["tiers_before"].get(tier or "none", 0) + n
    return json.loads(json.dumps(out))


# --- verification reports (IR 2025/2546) --------------------------------------------


class VerificationError(ValueError):
    """A verification report refused; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}")


def verification_report_current(*, disclosure: Disclosure) -> VerificationReport | None:
    """The latest report with a positive opinion on the disclosure, or None."""
    positive = [
        VerificationReport.Opinion.POSITIVE,
        VerificationReport.Opinion.POSITIVE_WITH_COMMENTS,
    ]
    return (
        disclosure.verification_reports.filter(opinion__in=positive)
        .order_by("-issued_on", "-id")
        .first()
    )


def _verified_case(case: dict, report: VerificationReport | None) -> dict:
    """A disclosed ``cbam.installation`` case becomes verified when a positive report
    covers its period; a modelled case (a route model) stays modelled: the report
    verifies the disclosed data, not the platform's model."""
    if report is None or case.get("methodology") != "cbam.installation":
        return case
    return {**case, "tier": "verified"}


def _verification_evidence(report: VerificationReport) -> dict:
    return {
        "report_id": report.pk,
        "report_identifier": report.report_identifier,
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "verifier": report.verifier_name,
        "accreditation_number": report.accreditation_number,
        "accreditation_body": report.accreditation_body,
        "accreditation_expires": (
            report.accreditation_expires.isoformat() if report.accreditation_expires else None
        ),
        "opinion": report.opinion,
        "comments": report.comments,
        "issued_on": report.issued_on.isoformat(),
        "basis": "Commission Implementing Regulation (EU) 2025/2546, Annex (1.2, 1.3, 2.6)",
    }


def _verification_check(disclosure: Disclosure, fields: dict[str, Any]) -> None:
    for name in (
        "report_identifier",
        "verifier_name",
        "accreditation_number",
        "accreditation_body",
    ):
        if not str(fields.get(name) or "").strip():
            raise VerificationError(name, "required (IR 2025/2546 Annex 1.2, 1.3)")
    if fields["opinion"] not in VerificationReport.Opinion.values:
        raise VerificationError("opinion", f"one of {', '.join(VerificationReport.Opinion.values)}")
    start, end, issued = fields["period_start"], fields["period_end"], fields["issued_on"]
    if end < start:
        raise VerificationError("period_end", f"{end} is before the period's start {start}")
    if start > disclosure.period_start or end < disclosure.period_end:
        raise VerificationError(
            "period_start" if start > disclosure.period_start else "period_end",
            f"the report's period {start}–{end} does not cover the disclosure's reporting "
            f"period {disclosure.period_start}–{disclosure.period_end}",
        )
    if issued < start:
        raise VerificationError(
            "issued_on", f"{issued} is before the verified period's start ({start})"
        )
    if issued > timezone.now().date():
        raise VerificationError("issued_on", f"{issued} is in the future")
    expires = fields.get("accreditation_expires")
    if expires is not None and expires < issued:
        raise VerificationError(
            "accreditation_expires",
            f"the accreditation expired on {expires}, before the statement of {issued}",
        )


def verification_report_attach(
    *, disclosure: Disclosure, user: User, **fields: Any
) -> dict[str, Any]:
    """Attach a verification report to a disclosure (exporters of its organisation,
    officials). A positive opinion makes the estimates of its current confirmed version
    "verified actual": they are recomputed with tier verified, supersede the disclosed
    ones and move the installation's shipments up the ladder; a negative one is kept as
    evidence and changes no rung. Returns the report id and what changed."""
    if user.role == User.Role.EXPORTER:
        if disclosure.organisation_id != user.organisation_id:
            raise VerificationError("disclosure", "not a disclosure of your organisation")
    elif user.role != User.Role.OFFICIAL:
        raise VerificationError("disclosure", "only exporters and officials attach reports")
    fields = {**fields, "comments": fields.get("comments") or ""}
    _verification_check(disclosure, fields)
    if disclosure.verification_reports.filter(
        report_identifier=fields["report_identifier"]
    ).exists():
        raise VerificationError("report_identifier", "this report is already attached")
    with transaction.atomic():
        report = VerificationReport.objects.create(
            disclosure=disclosure, attached_by=user, **fields
        )
        audit_append(
            actor=user,
            action="disclosure.verification_attach",
            object_type="disclosure",
            object_id=disclosure.pk,
            payload={
                "report": report.pk,
                "report_identifier": report.report_identifier,
                "opinion": report.opinion,
                "verifier": report.verifier_name,
                "accreditation_number": report.accreditation_number,
            },
        )
        out: dict[str, Any] = {"report": report.pk, "verified": report.is_positive}
        version = disclosure.versions.filter(
            status=Status.CONFIRMED, superseded_by__isnull=True
        ).first()
        if report.is_positive and version is not None:
            engine = disclosure_estimates_apply(version=version, actor=user)
            version.engine = engine
            version.save(update_fields=["engine"])
            out |= {"estimates": engine["estimates"], "shipments": engine["shipments"]}
        elif report.is_positive:
            out["note"] = "no confirmed version yet: its estimates will be verified on confirmation"
        else:
            out["note"] = "negative opinion: kept as evidence, the estimates stay disclosed"
    return out
