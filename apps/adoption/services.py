"""Writes of methodology versions: propose (it runs as a preview), add a member's
signature (adopted once k of the n configured member keys signed), retire. Each change
and its audit event commit together (docs/adoption.md)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.adoption.models import AdoptionSignature, MethodologyVersion
from apps.adoption.selectors import ADOPTED, coalition, version_signers, version_status
from apps.audit.attribution import PUBLIC
from apps.audit.services import AuditEntry, audit_append_many
from methodologies.errors import CaseError
from methodologies.versions import version_digest, version_manifest
from verifier.adoption import adoption_text, signature_valid
from verifier.errors import FormatError


class AdoptionError(Exception):
    """A proposal, signature or retirement refused; the message says why."""


def _audit(actor: Any, action: str, version: MethodologyVersion, **payload: Any) -> None:
    audit_append_many(
        actor=actor,
        entries=[
            AuditEntry(
                action=action,
                object_type="methodology_version",
                object_id=version.pk,
                payload={"label": version.label, "digest": version.digest, **payload},
                attribution=PUBLIC,  # the method is the coalition's, no organisation's
            )
        ],
    )


def methodology_version_propose(
    *,
    label: str,
    parameters: dict[str, Any] | None = None,
    description: str = "",
    actor: Any = None,
) -> MethodologyVersion:
    """Record the engine installed here with ``parameters`` as version ``label``; it runs
    as a preview until k members sign it. Proposing the same content twice is refused,
    naming the existing label."""
    try:
        manifest = version_manifest(parameters or {})
    except CaseError as exc:
        raise AdoptionError(f"parameter set: {exc}") from None
    digest = version_digest(manifest)
    try:
        statement = adoption_text(label, digest)
    except FormatError as exc:
        raise AdoptionError(str(exc)) from None
    same = MethodologyVersion.objects.filter(digest=digest).first()
    if same is not None:
        raise AdoptionError(f"version {same.label} already has this content ({digest[:12]}…)")
    if MethodologyVersion.objects.filter(label=label).exists():
        raise AdoptionError(f"a version is already labelled {label!r}")
    with transaction.atomic():
        version = MethodologyVersion.objects.create(
            label=label,
            digest=digest,
            manifest=manifest,
            statement=statement,
            description=description,
            proposed_at=timezone.now(),
            proposed_by=actor if getattr(actor, "pk", None) else None,
        )
        _audit(actor, "methodology.preview", version, parameters=manifest["parameters"])
    return version


def methodology_version_sign(
    *, version: MethodologyVersion, line: str, actor: Any = None
) -> AdoptionSignature:
    """Add a member's signature line (made offline with ``methodology_version sign``).

    Refused unless it verifies over this version's record with one of the configured
    member keys. A second line by the same member stores nothing new. When the version
    reaches the threshold for the first time it is adopted (``methodology.adopt``)."""
    members = coalition()
    if not members.enabled:
        raise AdoptionError(gettext("no member keys are configured (CM_COALITION_KEYS)"))
    if version.retired_at is not None:
        raise AdoptionError(gettext("version %(label)s is retired") % {"label": version.label})
    line = line.strip()
    try:
        key = signature_valid(line, version.statement, members.keys)
    except FormatError as exc:
        raise AdoptionError(gettext("not a signature line: %(error)s") % {"error": exc}) from None
    if key is None:
        raise AdoptionError(
            gettext(
                "the line is not a valid signature of version %(label)s (%(digest)s…) by a "
                "configured member key"
            )
            % {"label": version.label, "digest": version.digest[:12]}
        )
    existing = AdoptionSignature.objects.filter(version=version, key_id=key.key_id.hex()).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        try:
            with transaction.atomic():
                signature = AdoptionSignature.objects.create(
                    version=version,
                    signer=key.name,
                    key_id=key.key_id.hex(),
                    line=line,
                    created_at=timezone.now(),
                    uploaded_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:  # a concurrent upload of the same member's line
            return AdoptionSignature.objects.get(version=version, key_id=key.key_id.hex())
        _audit(actor, "methodology.sign", version, signer=key.name, line=line)
        locked = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
        if locked.adopted_at is None and version_status(locked, members) == ADOPTED:
            locked.adopted_at = timezone.now()
            locked.save(update_fields=["adopted_at"])
            _audit(
                actor,
                "methodology.adopt",
                locked,
                signers=version_signers(locked, members),
                threshold=members.threshold,
                members=len(members.keys),
            )
            version.adopted_at = locked.adopted_at
    return signature


def methodology_version_retire(
    *, version: MethodologyVersion, reason: str, actor: Any = None
) -> MethodologyVersion:
    """Retire a version: it computes no new figure; its traces stay recomputable."""
    if not reason.strip():
        raise AdoptionError("say why the version is retired")
    with transaction.atomic():
        locked = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
        if locked.retired_at is not None:
            return locked
        locked.retired_at = timezone.now()
        locked.retired_reason = reason.strip()
        locked.save(update_fields=["retired_at", "retired_reason"])
        _audit(actor, "methodology.retire", locked, reason=locked.retired_reason)
    return locked
