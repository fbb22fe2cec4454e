"""Reads of installations, scoped by role: exporters see only their organisation's
installations and those an official linked to it (a confirmed match); and reads of the
match review queue (officials, auditors and admins only)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.facilities.models import Installation, MatchSuggestion

#: Citation of the GEM trackers, shown beside every list or page that shows their plants.
GEM_ATTRIBUTION = {
    "gem_steel": "Global Iron and Steel Tracker",
    "gem_cement": "Global Cement and Concrete Tracker",
}
GEM_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


def installation_list(*, user: User) -> QuerySet[Installation]:
    qs = Installation.objects.select_related("organisation")
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        linked = MatchSuggestion.objects.filter(
            kind=MatchSuggestion.Kind.INSTALLATION,
            status=MatchSuggestion.Status.CONFIRMED,
            organisation_id=user.organisation_id,
        ).values("installation_id")
        return qs.filter(Q(organisation_id=user.organisation_id) | Q(pk__in=linked))
    return qs


def installation_get(*, user: User, pk: int) -> Installation | None:
    """The installation ``pk`` if ``user`` may see it, else None (the caller answers 404)."""
    return installation_list(user=user).filter(pk=pk).first()


def installation_attribution(*, releases: set[tuple[str, str]]) -> list[str]:
    """The citation of each GEM release shown, from ``(source, source_release)`` pairs:
    "Global Energy Monitor, Global Iron and Steel Tracker, September 2025 (V1) release"
    (the licence, CC BY 4.0, is added by the template)."""
    return [
        f"Global Energy Monitor, {release or GEM_ATTRIBUTION[source]} release"
        for source, release in sorted(releases)
        if source in GEM_ATTRIBUTION
    ]


def match_reviewers(user: User) -> bool:
    """Who reads the review queue: everyone but exporters (it names other organisations)."""
    return user.is_authenticated and user.role != User.Role.EXPORTER


def match_deciders(user: User) -> bool:
    """Who confirms or rejects: officials and admins."""
    return user.is_authenticated and (user.role == User.Role.OFFICIAL or user.is_superuser)


def match_suggestion_list(*, user: User) -> QuerySet[MatchSuggestion]:
    if not match_reviewers(user):
        return MatchSuggestion.objects.none()
    return MatchSuggestion.objects.select_related(
        "organisation", "other_organisation", "installation", "decided_by"
    )


def installations_linked_to(*, organisation_id: int) -> QuerySet[Installation]:
    """Installations an exporter reaches: its own, and those of its confirmed links (for the
    modelled rung: the plants behind an exporter's shipments)."""
    linked = MatchSuggestion.objects.filter(
        kind=MatchSuggestion.Kind.INSTALLATION,
        status=MatchSuggestion.Status.CONFIRMED,
        organisation_id=organisation_id,
    ).values("installation_id")
    return Installation.objects.filter(Q(organisation_id=organisation_id) | Q(pk__in=linked))


def installation_emission_list(*, user: User) -> QuerySet:
    """Emissions per installation and year of the installations ``user`` may see."""
    from apps.facilities.models import InstallationEmission

    visible = installation_list(user=user).values("pk")
    return (
        InstallationEmission.objects.filter(installation__in=visible)
        .select_related("installation")
        .order_by("installation__identifier", "year", "tier")
    )


def installation_capacity_t(installation: Installation) -> float | None:
    """An installation's production capacity [t/a]: the sum of its units' capacities
    in the registry (GEM ``capacities``, operating units where the status is stated),
    else its reference production; None when the registry states neither. The weight of
    the plant in an exporter's mixture (docs/registry.md)."""
    units = [c for c in installation.capacities or [] if c.get("capacity_t")]
    operating = [c for c in units if str(c.get("status", "")).lower() == "operating"]
    total = sum(float(c["capacity_t"]) for c in (operating or units))
    if total > 0:
        return total
    return installation.reference_production_t or None


def installation_registry_capacity(installation: Installation) -> tuple[float, str] | None:
    """The production capacity [t/a] a disclosed annual production is held against, and
    its unit: the registry's operating units (GEM ``capacities`` whose status starts with
    "operating", so "operating pre-retirement" counts) summed by unit, the largest unit.
    GEM states a steel plant's capacity several times over (crude steel, BOF steel, iron,
    BF iron): each is a ceiling of its own product, so their sum is none; the largest is
    the plant's main product (docs/registry.md, "Production above capacity"). None when
    the registry states no operating capacity."""
    by_unit: dict[str, float] = {}
    for c in installation.capacities or []:
        status = str(c.get("status", "")).lower()
        if c.get("capacity_t") and status.startswith("operating"):
            unit = str(c.get("unit") or "")
            by_unit[unit] = by_unit.get(unit, 0.0) + float(c["capacity_t"])
    if not by_unit:
        return None
    unit, capacity = max(by_unit.items(), key=lambda kv: (kv[1], kv[0]))
    return (capacity, unit) if capacity > 0 else None


def exporter_installation_links() -> dict[int, set[int]]:
    """exporter organisation id → the installations it reaches: those it owns and those
    of its confirmed links (as :func:`installations_linked_to`, for all exporters)."""
    links: dict[int, set[int]] = {}
    for org, inst in Installation.objects.filter(organisation_id__isnull=False).values_list(
        "organisation_id", "id"
    ):
        links.setdefault(org, set()).add(inst)
    for org, inst in MatchSuggestion.objects.filter(
        kind=MatchSuggestion.Kind.INSTALLATION,
        status=MatchSuggestion.Status.CONFIRMED,
        installation_id__isnull=False,
    ).values_list("organisation_id", "installation_id"):
        links.setdefault(org, set()).add(inst)
    return links


def installation_emissions_compared(installation: Installation) -> list[dict]:
    """By year, newest first: the installation's reported emissions (EU ETS verified,
    :class:`~apps.facilities.models.ReportedEmission`) where known, beside its modelled
    direct emissions with their 5–95 % interval (``InstallationEmission``, tier
    modelled), and whether the reported figure lies inside that interval."""
    from apps.facilities.models import InstallationEmission, ReportedEmission

    rows: dict[int, dict] = {}
    for r in ReportedEmission.objects.filter(installation=installation):
        rows.setdefault(r.year, {"year": r.year}).update(
            reported_t=r.emissions_t, eutl_ids=r.eutl_ids, reported_source=r.source
        )
    for m in InstallationEmission.objects.filter(installation=installation, tier="modelled"):
        rows.setdefault(m.year, {"year": m.year}).update(
            modelled_t=m.direct_emissions_t,
            modelled_p05_t=m.direct_emissions_p05_t,
            modelled_p95_t=m.direct_emissions_p95_t,
        )
    out = []
    for year in sorted(rows, reverse=True):
        row = {
            "year": year,
            "reported_t": None,
            "eutl_ids": [],
            "reported_source": "",
            "modelled_t": None,
            "modelled_p05_t": None,
            "modelled_p95_t": None,
            **rows[year],
        }
        low, high, reported = row["modelled_p05_t"], row["modelled_p95_t"], row["reported_t"]
        row["inside_interval"] = (
            None if None in (low, high, reported) else bool(low <= reported <= high)
        )
        out.append(row)
    return out
