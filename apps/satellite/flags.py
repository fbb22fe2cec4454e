"""Open reconciliation flags across installations: how many, and which installations.

The per-installation selector is ``apps.satellite.selectors.reconciliation_flags``. The
dashboard and the shipments list need a count and the set of flagged installations across
all of them, as far as the user may see (``flag_list(user=...)``; without a user, every
flag). A flag is open until it is resolved (``open`` or ``review``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from apps.facilities.models import Installation
from apps.satellite.models import ReconciliationFlag
from apps.satellite.selectors import flag_list


@dataclass(frozen=True)
class FlagSummary:
    open: int
    installations: int


def _open_flags(user=None) -> QuerySet[ReconciliationFlag]:
    qs = ReconciliationFlag.objects.all() if user is None else flag_list(user=user)
    # Unresolved: open or under review.
    return qs.filter(status__in=[ReconciliationFlag.Status.OPEN, ReconciliationFlag.Status.REVIEW])


def flagged_installation_ids(user=None) -> set[int]:
    """Ids of installations with an open flag (that ``user`` may see)."""
    return set(_open_flags(user).values_list("installation_id", flat=True).distinct())


def flagged_installation_identifiers(user=None) -> set[str]:
    """The declared identifiers (as customs lines carry them) of those installations."""
    ids = flagged_installation_ids(user)
    if not ids:
        return set()
    return set(Installation.objects.filter(pk__in=ids).values_list("identifier", flat=True))


def flag_summary(user=None) -> FlagSummary:
    return FlagSummary(
        open=_open_flags(user).count(), installations=len(flagged_installation_ids(user))
    )
