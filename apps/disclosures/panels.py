"""The disclosures section of an installation's page (apps/facilities/panels.py): the
installation's disclosures the user may read, each with its versions, its estimates over
time, and the audit history of those and of its reconciliation flags."""

from __future__ import annotations

from apps.audit.history import audit_history_of
from apps.disclosures.explain import shipment_default_explanation
from apps.disclosures.selectors import disclosure_list
from apps.estimates.models import Estimate
from apps.facilities.panels import installation_panel
from apps.satellite.models import ReconciliationFlag
from apps.shipments.page_panels import shipment_panel


@installation_panel(order=20, template="disclosures/_installation.html")
def disclosures_panel(user, installation) -> dict:
    disclosures = list(
        disclosure_list(user=user)
        .filter(installation=installation)
        .prefetch_related("versions")
        .order_by("-period_year")
    )
    estimates = list(
        Estimate.objects.filter(installation=installation)
        .defer("trace")
        .order_by("period_start", "cn_code", "created_at")
    )
    flags = ReconciliationFlag.objects.filter(installation=installation).values_list(
        "pk", flat=True
    )
    history = audit_history_of(
        [("disclosure_version", v.pk) for d in disclosures for v in d.versions.all()]
        + [("estimate", e.pk) for e in estimates]
        + [("reconciliation_flag", pk) for pk in flags]
    )
    return {
        "installation_disclosures": disclosures,
        "installation_estimates": estimates,
        "history": history,
    }


@shipment_panel(order=10, template="disclosures/_shipment_default.html")
def shipment_default_panel(user, shipment) -> dict:
    """Why the shipment stays on the default value and what would move it."""
    return {"default_explanation": shipment_default_explanation(shipment=shipment, user=user)}
