"""Why a shipment stays on the default value, and what would move it (issue #19 §4), shown
on the shipment's page (apps/shipments/page_panels.py).

The two figures of a shipment (docs/design.md §3) leave the default value on different
evidence: the **best estimate** takes the best rung of the installation the line declares
(else of the exporter's plants of that origin): a confirmed disclosure of it for the
shipment's year naming its CN code, or a modelled figure; the **CBAM figure** takes actual
data only when a verifier accredited for the activity confirmed them (IR 2025/2546),
otherwise the default value with the year's mark-up. Each step below says which of those
is missing, reading only what the user may see.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.disclosures.models import Status
from apps.disclosures.selectors import disclosure_list
from apps.estimates.models import Estimate, Tier
from apps.facilities.models import Installation
from apps.facilities.selectors import installation_list


def _step(text: str, url: str = "", link: str = "") -> dict[str, str]:
    return {"text": text, "url": url, "link": link}


def _installation(shipment, user: User) -> tuple[Installation | None, bool]:
    """The declared installation as the user may see it, and whether one is declared."""
    declared = bool(shipment.installation_id or shipment.installation_identifier)
    visible = installation_list(user=user)
    if shipment.installation_id:
        return visible.filter(pk=shipment.installation_id).first(), declared
    if shipment.installation_identifier:
        return visible.filter(identifier=shipment.installation_identifier).first(), declared
    return None, declared


def _disclosure_steps(shipment, installation: Installation, user: User) -> list[dict]:
    """What the installation's disclosures for the shipment's year lack for its CN code."""
    year, cn = shipment.date.year, shipment.cn_code
    upload = reverse("disclosure-upload")
    disclosure = (
        disclosure_list(user=user)
        .filter(installation=installation, period_year=year)
        .prefetch_related("versions")
        .first()
    )
    if disclosure is None:
        return [
            _step(
                _(
                    "No disclosure of %(installation)s covers %(year)s. Upload its data for "
                    "%(year)s (our template, the Commission's template or a report) naming CN "
                    "%(cn)s."
                )
                % {"installation": installation.identifier, "year": year, "cn": cn},
                upload if user.role == User.Role.EXPORTER else "",
                _("Upload a disclosure"),
            )
        ]
    versions = sorted(disclosure.versions.all(), key=lambda v: v.number)
    latest = versions[-1] if versions else None
    detail = reverse("disclosure-detail", args=[disclosure.pk])
    confirmed = [v for v in versions if v.status == Status.CONFIRMED]
    if not confirmed and latest is not None:
        if latest.status in (Status.REVIEW, Status.NEEDS_REVIEW):
            review = reverse("disclosure-review", args=[disclosure.pk, latest.number])
            return [
                _step(
                    _(
                        "Version %(number)s of the %(year)s disclosure is waiting for its "
                        "review: confirming it moves the shipments it covers."
                    )
                    % {"number": latest.number, "year": year},
                    review,
                    _("Review and confirm"),
                )
            ]
        return [
            _step(
                _(
                    "Version %(number)s of the %(year)s disclosure is %(status)s: no confirmed "
                    "data yet."
                )
                % {
                    "number": latest.number,
                    "year": year,
                    "status": latest.get_status_display().lower(),
                },
                detail,
                _("Open the disclosure"),
            )
        ]
    estimate = Estimate.objects.filter(
        installation=installation,
        cn_code=cn,
        period_start__year=year,
        superseded_by__isnull=True,
        tier__in=[Tier.DISCLOSED, Tier.VERIFIED],
    ).exists()
    if not estimate:
        return [
            _step(
                _(
                    "The confirmed %(year)s disclosure of %(installation)s gives no figure "
                    "for CN %(cn)s: upload a new version that names this good with its "
                    "production."
                )
                % {"year": year, "installation": installation.identifier, "cn": cn},
                detail,
                _("Open the disclosure"),
            )
        ]
    return []


def shipment_default_explanation(*, shipment, user: User) -> dict[str, Any] | None:
    """For a shipment whose best estimate or CBAM figure is the default value: why, and the
    steps that would move it; None when neither figure is a default value."""
    best_default = shipment.best_tier == Tier.DEFAULT
    cbam_default = shipment.tier == Tier.DEFAULT
    if not (best_default or cbam_default):
        return None
    year, cn, origin = shipment.date.year, shipment.cn_code, shipment.origin
    installation, declared = _installation(shipment, user)
    best: list[dict] = []
    if best_default:
        if installation is None and not declared:
            plants = [
                i
                for i in installation_list(user=user).filter(
                    organisation_id=shipment.exporter_id, country=origin
                )
            ]
            if not plants:
                best.append(
                    _step(
                        _(
                            "The customs line declares no installation, and the exporter has "
                            "no installation in %(origin)s on the platform: the importer can "
                            "declare the installation's id on the line, or the installation "
                            "can be linked to the exporter; then its data for %(year)s can be "
                            "disclosed."
                        )
                        % {"origin": origin, "year": year}
                    )
                )
            else:
                names = ", ".join(p.identifier for p in plants[:5])
                best.append(
                    _step(
                        _(
                            "The customs line declares no installation; the exporter's "
                            "installations in %(origin)s (%(names)s) have no disclosed or "
                            "modelled figure for CN %(cn)s in %(year)s."
                        )
                        % {"origin": origin, "names": names, "cn": cn, "year": year}
                    )
                )
                for plant in plants[:3]:
                    best.extend(_disclosure_steps(shipment, plant, user))
        elif installation is None:
            best.append(
                _step(
                    (
                        _(
                            "The line declares installation %(installation)s, which is not an "
                            "installation of your organisation on the platform: an official "
                            "can register it to your organisation, then you can disclose its "
                            "data."
                        )
                        if user.role == User.Role.EXPORTER
                        else _(
                            "The line declares installation %(installation)s, which the "
                            "platform does not know."
                        )
                    )
                    % {"installation": shipment.installation_identifier}
                )
            )
        else:
            best.extend(_disclosure_steps(shipment, installation, user))
            if not best:
                best.append(
                    _step(
                        _(
                            "%(installation)s has a figure for CN %(cn)s in %(year)s, but the "
                            "shipment was not re-chosen yet: it moves at the next update."
                        )
                        % {"installation": installation.identifier, "cn": cn, "year": year}
                    )
                )
    cbam: list[dict] = []
    if cbam_default:
        if not declared:
            cbam.append(
                _step(
                    _(
                        "The CBAM figure takes actual data only for a line that declares its "
                        "installation; until then it is the default value with the %(year)s "
                        "mark-up."
                    )
                    % {"year": year}
                )
            )
        else:
            cbam.append(
                _step(
                    _(
                        "The CBAM figure stays the default value with the %(year)s mark-up "
                        "until a verifier accredited for the activity confirms the "
                        "installation's %(year)s data (IR 2025/2546): attach a verification "
                        "report with a positive opinion to the confirmed disclosure."
                    )
                    % {"year": year}
                )
            )
    return {
        "best_default": best_default,
        "cbam_default": cbam_default,
        "best_steps": best,
        "cbam_steps": cbam,
        "installation": installation,
    }
