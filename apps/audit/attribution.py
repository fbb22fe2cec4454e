"""Whose data an audit event carries, decided when it is appended.

An event's payload may carry an organisation's file names, disclosed or corrected values:
an exporter must read only its own organisation's events. The actor alone cannot say whose
data it is: a command-line ingest has no actor, and an official may act on an exporter's
disclosure. So each event is attributed, in this order:

1. to the organisation named by the caller (``audit_append(organisation=…)``);
2. to the organisation of the object it is about (a disclosure's, an installation's, a
   token's user's…), looked up by ``object_type`` in :data:`OWNER_OF`;
3. to the actor's organisation;
4. otherwise to nobody: *public* when the object is reference data that no organisation
   owns (CBAM default values, grid and emission factors, plant registries, satellite
   rasters, default-value estimates), else *restricted* (officials, auditors and
   administrators only: a customs file carries many exporters' lines, a user's role
   change concerns the platform's staff).

Area models are named by their app label (``apps.get_model``): the audit app, a core
app, imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

#: Ingest sources whose files are public reference data, not an organisation's.
PUBLIC_SOURCES = frozenset({"defaults", "grid", "factors", "raster", "facilities"})


@dataclass(frozen=True)
class Attribution:
    organisation_id: int | None
    public: bool = False


RESTRICTED = Attribution(None, public=False)
PUBLIC = Attribution(None, public=True)


def _first(model: str, pk: str, path: str) -> Any:
    try:
        Model = apps.get_model(model)
    except LookupError:
        return None
    return Model.objects.filter(pk=pk).values_list(path, flat=True).first()


def _owned(model: str, path: str) -> Callable[[str], Attribution]:
    def owner(pk: str) -> Attribution:
        org = _first(model, pk, path)
        return Attribution(org) if org else RESTRICTED

    return owner


def _estimate(pk: str) -> Attribution:
    row = (
        apps.get_model("estimates.Estimate")
        .objects.filter(pk=pk)
        .values_list("installation_id", "installation__organisation_id")
        .first()
    )
    if row is None:
        return RESTRICTED
    installation, org = row
    if installation is None:
        return PUBLIC  # a default value of IR 2025/2621: published, nobody's data
    return Attribution(org) if org else PUBLIC  # a modelled plant of a public registry


def _ingest_run(pk: str) -> Attribution:
    row = (
        apps.get_model("evidence.IngestRun")
        .objects.filter(pk=pk)
        .values_list("source", "requested_by__organisation_id")
        .first()
    )
    if row is None:
        return RESTRICTED
    source, org = row
    if org:
        return Attribution(org)
    return PUBLIC if source in PUBLIC_SOURCES else RESTRICTED


#: object_type → the attribution of the object with that id.
OWNER_OF: dict[str, Callable[[str], Attribution]] = {
    "disclosure": _owned("disclosures.Disclosure", "organisation_id"),
    "disclosure_version": _owned("disclosures.DisclosureVersion", "disclosure__organisation_id"),
    "extracted_value": _owned("disclosures.ExtractedValue", "version__disclosure__organisation_id"),
    "installation": _owned("facilities.Installation", "organisation_id"),
    "reconciliation_flag": _owned("satellite.ReconciliationFlag", "installation__organisation_id"),
    "hydrogen_assessment": _owned("grid.HydrogenAssessment", "installation__organisation_id"),
    "user": _owned("accounts.User", "organisation_id"),
    "api_token": _owned("accounts.ApiToken", "user__organisation_id"),
    "estimate": _estimate,
    "ingest_run": _ingest_run,
}


def attribute(*, actor: Any, object_type: str, object_id: str) -> Attribution:
    """The attribution of an event (rules 2-4 of the module docstring)."""
    owner = OWNER_OF.get(object_type)
    found = owner(object_id) if owner else RESTRICTED
    if found.organisation_id is None and getattr(actor, "organisation_id", None):
        return Attribution(actor.organisation_id)
    return found
