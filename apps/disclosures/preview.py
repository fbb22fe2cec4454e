"""What confirming a version will change, shown to the exporter before it confirms
(issue #19 §4): the goods the disclosure names against the installation's products, and
which of the exporter's shipments move, from which figure to which, with their embedded
emissions before and after.

The preview is the confirmation itself, run inside a savepoint that is then rolled back
(:func:`disclosure_version_preview`): the same mapping, engine, plausibility hold and
re-choice of both figures of every shipment run as they will on confirming, so what the
page shows cannot drift from what confirming does. Nothing of it stays: no estimate, no
shipment change, no audit event (rolled back with the savepoint), no task (Django drops
the ``on_commit`` callbacks of a rolled-back savepoint). Only the exporter's own shipments
are read and shown.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.disclosures import cases
from apps.disclosures.models import DisclosureVersion, Status
from apps.disclosures.selectors import disclosure_inputs
from apps.estimates.models import Tier
from apps.facilities.models import Installation
from apps.shipments.selectors import shipment_list
from methodologies.cbam_goods import goods_sector
from methodologies.errors import MethodologyError

#: Installation routes (apps.facilities.models.Installation.Route) → the CBAM sector of
#: the goods they make (Reg. 2023/956 Annex I, as methodologies.cbam_goods names them).
ROUTE_SECTORS = {
    "bf_bof": "iron_and_steel",
    "dri_eaf": "iron_and_steel",
    "scrap_eaf": "iron_and_steel",
    "cement": "cement",
    "cement_grinding": "cement",
    "al_primary": "aluminium",
    "al_secondary": "aluminium",
    "h2_electrolysis": "hydrogen",
    "h2_smr": "hydrogen",
}

#: Shipments listed by name per group of changes (the group's totals count them all).
SAMPLE = 5

_READ = (
    "id",
    "declaration_id",
    "line",
    "date",
    "cn_code",
    "net_mass_t",
    "tier",
    "embedded_emissions_t",
    "estimate__see_total_t_per_t",
    "best_tier",
    "best_embedded_emissions_t",
    "best_estimate__see_total_t_per_t",
)


class _Rollback(Exception):
    """Raised to roll the preview's savepoint back, carrying what it saw."""

    def __init__(self, outcome: dict, after: dict[int, dict]) -> None:
        super().__init__("preview rolled back")
        self.outcome, self.after = outcome, after


def _sector(cn_code: str) -> str:
    try:
        return goods_sector(cn_code)
    except (MethodologyError, ValueError):
        return ""


def disclosure_goods(*, version: DisclosureVersion) -> list[str]:
    """The CN codes the version discloses figures for (the cases it maps to; pure, no
    engine run)."""
    found = cases.version_cases(disclosure_inputs(version=version), [])
    return sorted({c.cn_code for c in found if c.cn_code})


def installation_products(*, installation: Installation, user: User) -> dict[str, Any]:
    """What the installation is known to make: the CN codes of the user's shipments that
    declare it, and the sectors of its production routes."""
    shipped = (
        shipment_list(user=user)
        .filter(Q(installation=installation) | Q(installation_identifier=installation.identifier))
        .order_by()
        .values_list("cn_code", flat=True)
        .distinct()
    )
    return {
        "cn_codes": sorted(set(shipped)),
        "sectors": sorted(
            {ROUTE_SECTORS[r] for r in installation.routes or () if r in ROUTE_SECTORS}
        ),
    }


def disclosure_goods_warnings(*, version: DisclosureVersion, user: User) -> list[str]:
    """Why the disclosure's goods may not be this installation's: a good of a sector none
    of its routes makes, or a good none of the exporter's shipments from it declares (its
    estimate would then move no shipment). Empty when they match or nothing is known."""
    installation = version.disclosure.installation
    goods = disclosure_goods(version=version)
    products = installation_products(installation=installation, user=user)
    out = []
    for cn in goods:
        sector = _sector(cn)
        if products["sectors"] and sector and sector not in products["sectors"]:
            out.append(
                _(
                    "CN %(cn)s is a %(sector)s good, but %(installation)s's routes make "
                    "%(sectors)s goods: is this the right installation?"
                )
                % {
                    "cn": cn,
                    "sector": sector.replace("_", " "),
                    "installation": installation.identifier,
                    "sectors": ", ".join(s.replace("_", " ") for s in products["sectors"]),
                }
            )
        elif products["cn_codes"] and cn not in products["cn_codes"]:
            out.append(
                _(
                    "CN %(cn)s: none of your shipments from %(installation)s declares this "
                    "good (they declare %(declared)s); its estimate will move no shipment"
                )
                % {
                    "cn": cn,
                    "installation": installation.identifier,
                    "declared": ", ".join(products["cn_codes"][:8]),
                }
            )
    if goods and not products["cn_codes"]:
        out.append(
            _(
                "none of your shipments declares %(installation)s yet: confirming records the "
                "estimates, but moves no shipment until a customs line declares it (or the "
                "installation is linked to your organisation)"
            )
            % {"installation": installation.identifier}
        )
    return out


def _scope(version: DisclosureVersion, user: User):
    """The user's shipments the confirmation may re-choose: those declaring the
    installation, and the exporter's undeclared lines of the installation's country
    (reached through its plants, apps.shipments.services.shipment_figures_rechoose)."""
    installation = version.disclosure.installation
    return shipment_list(user=user).filter(
        Q(installation=installation)
        | Q(installation_identifier=installation.identifier)
        | Q(
            installation__isnull=True,
            installation_identifier="",
            exporter_id=version.disclosure.organisation_id,
            origin=installation.country,
        )
    )


def _read(version: DisclosureVersion, user: User) -> dict[int, dict]:
    return {row["id"]: row for row in _scope(version, user).values(*_READ)}


def _figure(row: dict, which: str) -> tuple[str, float | None, float | None]:
    if which == "cbam":
        return row["tier"], row["estimate__see_total_t_per_t"], row["embedded_emissions_t"]
    return (
        row["best_tier"],
        row["best_estimate__see_total_t_per_t"],
        row["best_embedded_emissions_t"],
    )


def _changes(before: dict[int, dict], after: dict[int, dict], which: str) -> list[dict]:
    """The shipments whose ``which`` figure changes, grouped by (CN code, year, tier and
    SEE before, tier and SEE after), largest change first."""
    tiers = dict(Tier.choices)
    groups: dict[tuple, dict] = {}
    for pk, old in before.items():
        new = after.get(pk)
        if new is None:
            continue
        t0, s0, e0 = _figure(old, which)
        t1, s1, e1 = _figure(new, which)
        if (t0, s0, e0) == (t1, s1, e1):
            continue
        key = (old["cn_code"], old["date"].year, t0, s0, t1, s1)
        g = groups.setdefault(
            key,
            {
                "cn_code": old["cn_code"],
                "year": old["date"].year,
                "tier_before": tiers.get(t0, t0 or "none"),
                "see_before": s0,
                "tier_after": tiers.get(t1, t1 or "none"),
                "see_after": s1,
                "shipments": 0,
                "mass_t": 0.0,
                "tco2e_before": 0.0,
                "tco2e_after": 0.0,
                "sample": [],
            },
        )
        g["shipments"] += 1
        g["mass_t"] += old["net_mass_t"] or 0.0
        g["tco2e_before"] += e0 or 0.0
        g["tco2e_after"] += e1 or 0.0
        if len(g["sample"]) < SAMPLE:
            g["sample"].append({"id": pk, "label": f"{old['declaration_id']} / {old['line']}"})
    out = sorted(groups.values(), key=lambda g: -abs(g["tco2e_after"] - g["tco2e_before"]))
    for g in out:
        g["delta"] = g["tco2e_after"] - g["tco2e_before"]
        g["more"] = g["shipments"] - len(g["sample"])
    return out


def disclosure_version_preview(*, version: DisclosureVersion, user: User) -> dict[str, Any]:
    """Run the confirmation of ``version`` by ``user`` in a savepoint, read the user's
    shipments before and after, and roll everything back. Returns the estimates it would
    record, whether it would be held (and why), the changes to both figures of the user's
    shipments, grouped, and their totals."""
    from apps.disclosures.services import ReviewError, disclosure_version_confirm

    if version.status != Status.REVIEW:
        raise ReviewError(f"version {version.number} is {version.status}, not ready to confirm")
    before = _read(version, user)
    try:
        with transaction.atomic():
            outcome = disclosure_version_confirm(version=version, user=user)
            raise _Rollback(outcome, _read(version, user))
    except _Rollback as done:
        outcome, after = done.outcome, done.after
    version.refresh_from_db()  # the rolled-back confirmation set fields on the instance
    best, cbam = _changes(before, after, "best"), _changes(before, after, "cbam")

    def total(groups: list[dict], key: str) -> float:
        return sum(g[key] for g in groups)

    return {
        "held": outcome.get("held") or [],
        "estimates": outcome.get("estimates", []),
        "notes": outcome.get("notes", []),
        "best": best,
        "cbam": cbam,
        "considered": len(before),
        "moved": sum(
            1
            for pk, row in before.items()
            if pk in after
            and any(_figure(row, w) != _figure(after[pk], w) for w in ("best", "cbam"))
        ),
        "best_before": total(best, "tco2e_before"),
        "best_after": total(best, "tco2e_after"),
        "cbam_before": total(cbam, "tco2e_before"),
        "cbam_after": total(cbam, "tco2e_after"),
    }
