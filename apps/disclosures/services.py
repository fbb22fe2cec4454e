"""State changes of disclosures: upload, review, confirmation, an official's decision on
a held version, and feeding confirmed values to the engine (docs/disclosures.md).

Flow: :func:`disclosure_submit` (portal, API) and
:func:`apps.disclosures.command.disclosure_command_submit` (``python manage.py ingest
disclosure``) store a new version and enqueue its ingest run,
which :mod:`apps.disclosures.extraction` executes. The exporter reviews each value
(:func:`extracted_value_review`: confirm, correct, drop) and submits
(:func:`disclosure_version_confirm`). Confirming reads the version's inputs once
(:func:`apps.disclosures.selectors.disclosure_inputs`), maps them to methodology cases with
pure code (:mod:`apps.disclosures.cases`), and then either **holds** the version for an
official's review when a case is implausible (:mod:`apps.disclosures.plausibility`;
:func:`disclosure_hold_decide` accepts or rejects it with a note), or
:func:`disclosure_estimates_apply` turns the cases into "disclosed actual" estimates
(``cbam.installation``) whose traces cite the version, the file's SHA-256 and each value's
evidence, then points the installation's shipments at them
(apps.shipments.services.shipment_estimates_apply); an earlier confirmed version is
superseded (kept) only when the new one made an estimate.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Organisation, User
from apps.audit.services import audit_append
from apps.disclosures import cases
from apps.disclosures.extraction import version_progress
from apps.disclosures.models import Disclosure, DisclosureVersion, ExtractedValue, Status
from apps.disclosures.selectors import (
    disclosure_inputs,
)
from apps.estimates.models import Estimate, Tier
from apps.estimates.services import estimate_record, estimates_supersede
from apps.evidence.models import EvidenceFile, IngestRun
from apps.evidence.services import evidence_store, ingest_run_create, ingest_run_resubmit
from apps.facilities.models import Installation
from apps.shipments.services import shipment_estimates_apply
from ingest.disclosure.units import UnitError, convert, parse_unit
from methodologies.trace import canonical_bytes, sha256_hex

SOURCE = "disclosure"


# --- upload --------------------------------------------------------------------------


def _period(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def disclosure_ensure(
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


def version_create(
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
        disclosure = disclosure_ensure(
            organisation=user.organisation, installation=installation, period_year=period_year
        )
        version, created = version_create(
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
        # Fetch once, compute once, then write (docs/disclosures.md, "Confirming a version").
        computed = _compute(version, disclosure_inputs(version=version))
        held = computed.findings
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
        version_progress(version, Status.CONFIRMED, 100)
        return _version_feed(version=version, actor=user, computed=computed)


def _version_hold(*, version: DisclosureVersion, findings: list[dict], actor: Any) -> dict:
    """Hold a confirmed version for an official's review: no estimate, audited."""
    engine = {
        "estimates": [],
        "notes": [f"held for an official's review: {f['reason']}" for f in findings],
        "shipments": 0,
        "tiers_before": {},
        "held": findings,
    }
    version_progress(version, Status.HELD, 100, held=findings, engine=engine)
    audit_append(
        actor=actor,
        action="disclosure.hold",
        object_type="disclosure_version",
        object_id=version.pk,
        evidence_sha256=version.evidence.sha256,
        payload={"version": version.number, "findings": findings},
    )
    return engine


def _version_feed(
    *,
    version: DisclosureVersion,
    actor: Any,
    review: dict | None = None,
    computed: cases.Computed | None = None,
) -> dict:
    """Feed a confirmed version to the engine; supersede the earlier confirmed versions
    only when it made an estimate (a version that made none leaves them current)."""
    engine = disclosure_estimates_apply(
        version=version, actor=actor, review=review, computed=computed
    )
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
        version_progress(
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


def disclosure_plausibility_check(
    *, version: DisclosureVersion, facts: cases.Facts | None = None
) -> list[dict]:
    """The findings that hold a confirmed version for an official's review
    (:func:`apps.disclosures.cases.case_findings`), from its inputs (``facts``, read now
    when not given)."""
    return _compute(version, facts).findings


def _compute(
    version: DisclosureVersion, facts: cases.Facts | None = None, review: dict | None = None
) -> cases.Computed:
    facts = facts or disclosure_inputs(version=version)
    file = version.ingest_run.name if version.ingest_run else ""
    return cases.compute(facts, file=file, review=review)


def _satellite_check(
    *, version: DisclosureVersion, production_t: float | None, actor: Any, notes: list
) -> None:
    """Check the disclosed annual production against the satellite-implied activity of the
    installation (``apps.satellite.services.reconciliation_check``): a disagreement beyond
    the combined uncertainty raises (or a consistent restatement closes) the reconciliation
    flag, which the estimates' traces then carry. Without satellite evidence for the year
    the check is skipped, and the notes say why."""
    from apps.satellite.services import SatelliteError, reconciliation_check

    if production_t is None:
        return
    try:
        outcome = reconciliation_check(
            installation=version.disclosure.installation,
            period=str(version.disclosure.period_year),
            disclosed_production_t=production_t,
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


def disclosure_estimates_apply(
    *,
    version: DisclosureVersion,
    actor: Any = None,
    review: dict | None = None,
    computed: cases.Computed | None = None,
) -> dict:
    """Confirmed values → disclosed estimates → shipments; see the module docstring.
    Call inside the confirming transaction. ``review``: an official's decision on a held
    version, carried in each estimate's provenance; ``computed``: what the confirmation
    computed already (:func:`apps.disclosures.cases.compute`), else computed now."""
    from apps.satellite.selectors import reconciliation_flags

    disclosure = version.disclosure
    installation = disclosure.installation
    year = disclosure.period_year
    computed = computed or _compute(version, review=review)
    notes = list(computed.notes)
    _satellite_check(version=version, production_t=computed.production_t, actor=actor, notes=notes)
    flags = reconciliation_flags(installation_id=installation.pk, year=year)
    out: dict[str, Any] = {"estimates": [], "notes": notes, "shipments": 0, "tiers_before": {}}
    for run in computed.runs:
        if run.result is None:
            notes.append(run.refusal)
            continue
        result = run.result
        tier = Tier(result.get("tier", Tier.DISCLOSED))
        normalised = result["trace"]["case"]
        cn = normalised.get("good", {}).get("cn_code") or normalised.get("cn_code")
        cn = cn or run.case.cn_code
        subject = f"installation|{installation.identifier}|{cn}|{year}"
        provenance = {**run.provenance, "reconciliation_flags": flags}
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
        for before, n in applied.tiers_before.items():
            key = before or "none"
            out["tiers_before"][key] = out["tiers_before"].get(key, 0) + n
    return json.loads(json.dumps(out))


def extracted_values_confirm(*, version: DisclosureVersion, user: User, ids: list[int]) -> int:
    """Confirm at once the values of ``version`` among ``ids`` that are still as extracted
    (a table's worth on the review page); values already corrected, confirmed or dropped
    keep their review. One audit event names every value confirmed. Returns their count."""
    if version.status not in REVIEWABLE:
        raise ReviewError(f"version {version.number} is {version.status}")
    with transaction.atomic():
        values = list(
            version.values.select_for_update()
            .filter(pk__in=ids, status=ExtractedValue.ValueStatus.EXTRACTED)
            .order_by("index")
        )
        if not values:
            return 0
        now = timezone.now()
        ExtractedValue.objects.filter(pk__in=[v.pk for v in values]).update(
            status=ExtractedValue.ValueStatus.CONFIRMED, reviewed_by=user, reviewed_at=now
        )
        audit_append(
            actor=user,
            action="disclosure.value.confirm_many",
            object_type="disclosure_version",
            object_id=version.pk,
            evidence_sha256=version.evidence.sha256,
            payload={
                "version": version.number,
                "values": [{"id": v.pk, "field": v.field, "value": v.value} for v in values],
            },
        )
    return len(values)
