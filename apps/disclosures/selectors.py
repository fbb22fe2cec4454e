"""Reads of disclosures, scoped by role: officials, auditors and admins read all; an
exporter reads only its own organisation's (others' ids answer 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.disclosures.models import Disclosure, DisclosureVersion, ExtractedValue
from apps.evidence.models import IngestRun
from apps.facilities.models import Installation


def disclosure_list(*, user: User) -> QuerySet[Disclosure]:
    qs = Disclosure.objects.select_related("organisation", "installation")
    if user.role == User.Role.EXPORTER:
        return (
            qs.filter(organisation_id=user.organisation_id) if user.organisation_id else qs.none()
        )
    return qs


def disclosure_version_list(*, user: User) -> QuerySet[DisclosureVersion]:
    qs = DisclosureVersion.objects.select_related(
        "disclosure__organisation", "disclosure__installation", "evidence"
    )
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(disclosure__organisation_id=user.organisation_id)
    return qs


def extracted_value_list(*, user: User) -> QuerySet[ExtractedValue]:
    qs = ExtractedValue.objects.select_related("version__disclosure", "version__evidence")
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(version__disclosure__organisation_id=user.organisation_id)
    return qs


def installation_choices(*, user: User) -> QuerySet[Installation]:
    """The installations a user may upload a disclosure for: its organisation's."""
    if user.role != User.Role.EXPORTER or not user.organisation_id:
        return Installation.objects.none()
    return Installation.objects.filter(organisation_id=user.organisation_id).order_by("name")


def disclosure_run_summary(*, run: IngestRun) -> dict:
    """What ``ingest disclosure --json`` adds (docs/interfaces.md): ``extractor`` and ``values``
    ``[{field, value, unit, page or cell (or line), quote}]``, plus the version."""
    version = DisclosureVersion.objects.filter(ingest_run=run).first()
    if version is None:
        return {"extractor": None, "values": []}
    values = []
    for v in version.values.all():
        item = {"field": v.field, "value": v.value if v.value is not None else v.text}
        item["unit"] = v.unit
        if v.page is not None:
            item["page"] = v.page
        elif v.cell:
            item["cell"] = v.cell
        else:
            item["line"] = v.line
        item["quote"] = v.quote
        values.append(item)
    return {
        "extractor": version.extractor or None,
        "values": values,
        "disclosure": version.disclosure_id,
        "version": version.number,
        "status": version.status,
    }
