"""Pages (``urlpatterns``, mounted at the site root: the C2SP tlog-witness endpoint) and API
routes (``api_urlpatterns``, mounted under /api/v1/) of the audit log: /audit/…, without
trailing slashes (docs/interfaces.md)."""

from __future__ import annotations

from django.urls import path

from apps.audit import api, views

urlpatterns: list = [
    # C2SP tlog-witness (docs/integrity.md §4): other members' logs ask for cosignatures.
    path(
        "witness/add-checkpoint",
        views.WitnessAddCheckpointView.as_view(),
        name="witness-add-checkpoint",
    ),
]

api_urlpatterns: list = [
    path("audit/checkpoint", api.CheckpointView.as_view(), name="audit-checkpoint"),
    path("audit/entries", api.HistoryView.as_view(), name="audit-history"),
    path("audit/entries/<int:index>", api.EntryView.as_view(), name="audit-entry"),
    path("audit/proof/inclusion", api.InclusionProofView.as_view(), name="audit-proof-inclusion"),
    path(
        "audit/proof/consistency",
        api.ConsistencyProofView.as_view(),
        name="audit-proof-consistency",
    ),
]
