"""Open reconciliation flags across installations, read defensively.

The satellite area owns the flags (``apps.satellite``); its per-installation selector is
``apps.satellite.selectors.reconciliation_flags``. The dashboard and the shipments list
need a count and the set of flagged installations across all of them: they use the
satellite area's role-scoped ``flag_list(user=...)`` when it exists, else a
``ReconciliationFlag`` model, and answer "no flags" (``available`` false) when neither is
there, rather than fail. Open means a ``status`` of ``"open"``, else ``resolved_at``
empty, else every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.db.models import Model, QuerySet

MODEL_NAMES = ("ReconciliationFlag", "Flag")


@dataclass(frozen=True)
class FlagSummary:
    available: bool  # whether the platform stores reconciliation flags at all
    open: int
    installations: int


def _flag_model() -> type[Model] | None:
    try:
        module = import_module("apps.satellite.models")
    except ImportError:
        return None
    for name in MODEL_NAMES:
        model = getattr(module, name, None)
        if isinstance(model, type) and issubclass(model, Model):
            return model
    return None


def _open_flags(user: Any = None) -> QuerySet | None:
    qs = None
    if user is not None:
        try:
            qs = import_module("apps.satellite.selectors").flag_list(user=user)
        except (ImportError, AttributeError):
            qs = None
    if qs is None:
        model = _flag_model()
        if model is None:
            return None
        qs = model.objects.all()
    fields = {f.name for f in qs.model._meta.get_fields()}
    if "status" in fields:
        return qs.filter(status="open")
    if "resolved_at" in fields:
        return qs.filter(resolved_at__isnull=True)
    return qs


def flagged_installation_ids(user: Any = None) -> set[int] | None:
    """Ids of installations with an open flag (that ``user`` may see); None when flags
    are not stored."""
    qs = _open_flags(user)
    if qs is None or "installation" not in {f.name for f in qs.model._meta.get_fields()}:
        return None
    return set(qs.values_list("installation_id", flat=True).distinct())


def flagged_installation_identifiers(user: Any = None) -> set[str]:
    """The declared identifiers (as customs lines carry them) of those installations."""
    ids = flagged_installation_ids(user)
    if not ids:
        return set()
    from apps.facilities.models import Installation

    return set(Installation.objects.filter(pk__in=ids).values_list("identifier", flat=True))


def flag_summary(user: Any = None) -> FlagSummary:
    qs = _open_flags(user)
    if qs is None:
        return FlagSummary(available=False, open=0, installations=0)
    installations = flagged_installation_ids(user)
    return FlagSummary(available=True, open=qs.count(), installations=len(installations or ()))
