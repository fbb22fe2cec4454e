"""``python manage.py ingest disclosure PATH --exporter NAME [--installation ID]
[--period YYYY]`` (docs/disclosures.md): the command line's submission, the
``submit`` of the ``disclosure`` entry in :data:`apps.evidence.sources.SOURCES`. Like the
portal (:func:`apps.disclosures.services.disclosure_submit`) it makes the version before
the run, so the extraction run only reads the file and stores its values."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import Organisation
from apps.accounts.services import organisation_key, organisations_ensure
from apps.disclosures.extraction import DisclosureInputError, file_states
from apps.disclosures.services import disclosure_ensure, version_create
from apps.evidence.models import EvidenceFile, IngestRun
from apps.evidence.services import ingest_run_create
from apps.facilities.models import Installation
from ingest.base import IngestError


def _command_subject(
    evidence: EvidenceFile, name: str, options: dict
) -> tuple[str, str, dict, int]:
    """(exporter, installation id, what the file states of it, period) from the command's
    options, completed from the file; raises :class:`DisclosureInputError` naming what is
    missing."""
    exporter = (options.get("exporter") or "").strip()
    if not exporter:
        raise DisclosureInputError("a disclosure needs --exporter NAME (the organisation)")
    identifier = (options.get("installation") or "").strip()
    period = options.get("period")
    try:
        stated = file_states(evidence) if not (identifier and period) else {}
    except IngestError:
        raise
    except Exception as exc:  # as the extraction run reports it (apps/disclosures/extraction.py)
        reason = f"unexpected error reading {name}: {type(exc).__name__}: {exc}"
        raise DisclosureInputError(reason) from exc
    from_file = stated.get("installation", {})
    identifier = identifier or from_file.get("id", "")
    if not identifier:
        raise DisclosureInputError(
            "say which installation with --installation ID (a PDF does not name it)"
        )
    try:
        key = organisation_key(exporter)
    except ValueError as exc:
        raise DisclosureInputError(f"--exporter: {exc}") from None
    installation = Installation.objects.filter(identifier=identifier).first()
    if installation is not None and getattr(installation.organisation, "key", None) != key:
        raise DisclosureInputError(
            f"installation {identifier} belongs to {installation.organisation}, not {exporter}"
        )
    period = period or stated.get("year")
    if not period:
        raise DisclosureInputError("say which reporting period with --period YYYY")
    return exporter, identifier, from_file, int(period)


def disclosure_command_submit(
    *, source: str, evidence: EvidenceFile, original_name: str, options: dict
) -> IngestRun:
    """``python manage.py ingest disclosure PATH --exporter NAME [--installation ID]
    [--period YYYY]`` (docs/disclosures.md): make the version up front, as the portal does,
    and return its run. The installation and period come from the options, else from what
    our template states; an exporter or installation the platform does not know yet is
    created (back-office use). The same file again gets a run that reports the stored
    values as duplicates. When the options cannot name a version the run is created all
    the same and fails with the reason once its file has been checked (exit status 1, the
    reason in ``--json``)."""
    try:
        exporter, identifier, from_file, period = _command_subject(evidence, original_name, options)
    except IngestError as exc:
        return ingest_run_create(
            source=source,
            evidence=evidence,
            original_name=original_name,
            options={**options, "refused": str(exc)},
        )
    with transaction.atomic():
        org_id = organisations_ensure(names=[exporter], kind=Organisation.Kind.EXPORTER)[exporter]
        organisation = Organisation.objects.get(pk=org_id)
        installation, _ = Installation.objects.get_or_create(
            identifier=identifier,
            defaults={
                "name": from_file.get("name") or identifier,
                "organisation": organisation,
                "country": from_file.get("country", ""),
            },
        )
        disclosure = disclosure_ensure(
            organisation=organisation, installation=installation, period_year=period
        )
        version, _ = version_create(
            disclosure=disclosure,
            evidence=evidence,
            user=None,
            original_name=original_name,
            cn_code=options.get("cn_code", ""),
        )
        run = ingest_run_create(
            source=source,
            evidence=evidence,
            original_name=original_name,
            options={**options, "version_id": version.pk},
        )
        if version.ingest_run_id is None:
            version.ingest_run = run
            version.save(update_fields=["ingest_run"])
    return run
