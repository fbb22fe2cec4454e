"""Extraction runs of disclosures: the ``disclosure`` ingester (docs/disclosures.md).

:func:`disclosure_ingest` executes the run of a version made up front (by the portal's
:func:`apps.disclosures.services.disclosure_submit` or the command's
:func:`apps.disclosures.services.disclosure_command_submit`): it checks the file (type by
content, size caps, ZIP bombs, defusedxml), reads it (our template, the CBAM template's
product summary, or a PDF parsed in a limited child process), extracts values with their
evidence (rule-based, or the LLM when ``LLM_BASE_URL`` is set) and stores them with the
extraction trace, all in one transaction. A poisonous file raises once: the version and
the run are marked failed with the reason and the run is not retried. An LLM that keeps
failing (timeouts, 429, 5xx after the retries, or malformed answers) leaves the version
"needs review" with the trace and **no** value.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, transaction
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone

from apps.audit.services import audit_append
from apps.disclosures.models import (
    Disclosure,
    DisclosureVersion,
    ExtractedValue,
    ExtractionTrace,
    Status,
)
from apps.disclosures.template_recompute import template_recompute
from apps.evidence.models import EvidenceFile, IngestRun
from apps.evidence.services import IngestOutcome, ingest_run_finish
from apps.evidence.store import evidence_local_path
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


class DisclosureInputError(IngestError):
    """The run's options do not say whose disclosure this is, or contradict the file."""


def version_progress(version: DisclosureVersion, status: str, progress: int, **fields: Any) -> None:
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


@contextlib.contextmanager
def file_named(path: Path, kind: str):
    """The stored file (named by its SHA-256) under a name with its type's extension,
    which openpyxl needs; a symbolic link in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="cm-disclosure-") as folder:
        named = Path(folder) / f"{path.name}.{kind}"
        os.symlink(path, named)
        yield named


def is_cbam_template(path) -> bool:
    from ingest.disclosure import _is_cbam_template as sniff

    return sniff(path)


def template_meta(data) -> dict:
    """Installation and period as our template states them."""
    out: dict[str, Any] = {"installation": {}}
    for row in data.itertuples(index=False):
        if row.section == "installation":
            out["installation"][row.field] = row.text
        if row.section == "period" and row.field == "start" and row.text:
            out["year"] = int(row.text[:4])
    return out


def file_states(evidence: EvidenceFile) -> dict:
    """What our template states of its installation and period (nothing for a PDF or the
    CBAM template, which the command's options must complete)."""
    with evidence_local_path(evidence) as path:
        kind = check_file(path)
        if kind == "pdf":
            return {}
        with file_named(path, kind) as named:
            if kind == "xlsx" and is_cbam_template(named):
                return {}
            data, _ = read_template(named)
    return template_meta(data)


# Sector of a CN code for the LLM's plausibility ranges (ingest.disclosure.llm.PLAUSIBLE).
SECTORS = {"72": "steel", "73": "steel", "76": "aluminium", "2523": "cement", "2507": "cement"}
SECTORS |= {"280410": "hydrogen", "31": "fertilisers", "2808": "fertilisers", "2814": "fertilisers"}


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


def _fail(version: DisclosureVersion | None, run: IngestRun, reason: str) -> None:
    if version is None:
        return
    with transaction.atomic():
        version_progress(version, Status.FAILED, 100, failure=reason)
        audit_append(
            actor=run.requested_by,
            action="disclosure.failed",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=run.evidence.sha256,
            payload={"reason": reason},
        )


def disclosure_ingest(*, run: IngestRun) -> IngestOutcome:
    """The ``disclosure`` ingester (apps.evidence.sources): :func:`_disclosure_ingest` on a
    local copy of the run's file."""
    with evidence_local_path(run.evidence) as path:
        return _disclosure_ingest(run=run, path=path)


def _disclosure_ingest(*, run: IngestRun, path: Path) -> IngestOutcome:
    """The ``disclosure`` ingester (apps.evidence.sources); see the module docstring.

    The run names its version (``run.options["version_id"]``), made before the run by the
    portal or the command; a command whose options could not name one left the reason in
    ``run.options["refused"]``, and the run fails with it once the file has been checked."""
    options = run.options or {}
    version: DisclosureVersion | None = None
    if "version_id" in options:
        version = DisclosureVersion.objects.select_related("disclosure__installation").get(
            pk=options["version_id"]
        )
        if version.ingest_run_id != run.pk or version.status not in (
            Status.UPLOADED,
            Status.PROCESSING,
        ):
            # The same file again, or a redelivered task after the work committed:
            # report what is stored.
            return _outcome_of(version, run)
        version_progress(version, Status.PROCESSING, 10)
    try:
        kind = check_file(path)
        if version is None:
            raise DisclosureInputError(options.get("refused") or "no disclosure version")
        with file_named(path, kind) as named:
            return _read_and_store(run, version, named, kind)
    except IngestError as exc:
        _fail(version, run, str(exc))
        raise
    except (DatabaseOperationalError, InterfaceError):
        raise  # the database went away: the run is executed again (apps.evidence.services)
    except Exception as exc:
        # Anything else fails the version with the run, never leaves it "processing".
        reason = f"unexpected error reading {run.name}: {type(exc).__name__}: {exc}"
        _fail(version, run, reason)
        raise


def _read_and_store(
    run: IngestRun, version: DisclosureVersion, path: Path, kind: str
) -> IngestOutcome:
    if kind == "pdf":
        version_progress(version, Status.PROCESSING, 20)
        document = read_pdf_text(path)
        version_progress(version, Status.PROCESSING, 50)
        return _ingest_pdf(run, version, document)
    recompute, warnings = None, []
    if kind == "xlsx" and is_cbam_template(path):
        data, meta = read_cbam_template(path)
        version_kind, extractor, rows = (
            DisclosureVersion.Kind.CBAM_TEMPLATE,
            "cbam_template",
            _cbam_rows(data),
        )
        # the whole template recomputed with the engine (docs/official-formats.md)
        recompute, warnings = template_recompute(path)
    else:
        data, meta = read_template(path)
        version_kind, extractor, rows = (
            DisclosureVersion.Kind.TEMPLATE,
            "template",
            _template_rows(data),
        )
    if version_kind == DisclosureVersion.Kind.TEMPLATE:
        stated = template_meta(data)
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
        trace={"extractor": extractor}
        | ({"recompute": recompute, "flags": recompute["flags"]} if recompute else {}),
        warnings=warnings,
    )


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
    version_progress(version, Status.PROCESSING, 80)
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
        version_progress(
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
        version_progress(
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
