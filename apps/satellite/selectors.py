"""Reads of satellite evidence: observations, activity indices, reconciliation flags, scoped
by role like installations (exporters see only their organisation's)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.satellite.models import ActivityIndex, Observation, ReconciliationFlag, Scene


def _scoped(qs: QuerySet, user: User) -> QuerySet:
    if user.role == User.Role.EXPORTER:
        if not user.organisation_id:
            return qs.none()
        return qs.filter(installation__organisation_id=user.organisation_id)
    return qs


def observation_list(*, user: User) -> QuerySet[Observation]:
    return _scoped(Observation.objects.select_related("installation", "scene"), user)


def activity_index_list(*, user: User) -> QuerySet[ActivityIndex]:
    return _scoped(ActivityIndex.objects.select_related("installation"), user)


def flag_list(*, user: User) -> QuerySet[ReconciliationFlag]:
    return _scoped(ReconciliationFlag.objects.select_related("installation"), user)


def scene_list() -> QuerySet[Scene]:
    return Scene.objects.select_related("evidence")


def installation_satellite_view(*, installation_id: int) -> dict:
    """What the installation page shows: monthly and annual activity indices (in period
    order), all flags (open first), and the scenes that observed it."""
    indices = list(
        ActivityIndex.objects.filter(installation_id=installation_id).order_by("variable", "period")
    )
    flags = list(
        ReconciliationFlag.objects.filter(installation_id=installation_id).order_by(
            "status", "-period"
        )
    )
    scenes = (
        Observation.objects.filter(installation_id=installation_id)
        .values("scene_id")
        .distinct()
        .count()
    )
    return {
        "monthly": [i for i in indices if len(i.period) == 7],
        "annual": [i for i in indices if len(i.period) == 4],
        "flags": flags,
        "scene_count": scenes,
        "observation_count": Observation.objects.filter(installation_id=installation_id).count(),
    }


def reconciliation_flags(*, installation_id: int, year: int) -> list[dict]:
    """Open reconciliation flags of an installation for a year, each a dict with
    ``id``, ``period``, ``disclosed`` (value, unit), ``satellite_implied`` (value, unit),
    ``combined_uncertainty``, ``reason``; empty when there is none.

    ``disclosed`` and ``satellite_implied`` are dicts ``{"value", "unit"}``;
    ``combined_uncertainty`` is a number in the same unit (σ = √(σ_D² + σ_E²)).
    Also given (for traces): ``z_score``, ``k``, ``model`` ("satellite.activity v1"),
    ``parameters``, ``validation``, ``trace_sha256`` (of the satellite.activity trace),
    ``disclosure_ref``."""
    flags = ReconciliationFlag.objects.filter(
        installation_id=installation_id,
        status__in=[ReconciliationFlag.Status.OPEN, ReconciliationFlag.Status.REVIEW],
        period__startswith=f"{int(year):04d}",
    ).order_by("period", "id")
    return [
        {
            "id": f.pk,
            "period": f.period,
            "disclosed": {"value": f.disclosed_value, "unit": f.unit},
            "satellite_implied": {"value": f.satellite_value, "unit": f.unit},
            "combined_uncertainty": f.combined_uncertainty,
            "reason": f.reason,
            "z_score": f.z_score,
            "k": f.k,
            "model": f"{f.model} v{f.model_version}",
            "parameters": f.parameters,
            "validation": f.validation,
            "trace_sha256": f.trace_sha256,
            "disclosure_ref": f.disclosure_ref,
        }
        for f in flags
    ]
