"""Audit log API, included under /api/v1/audit/ (DESIGN §7: no trailing slashes)."""

from __future__ import annotations

from django.urls import path

from apps.audit import api

urlpatterns = [
    path("checkpoint", api.CheckpointView.as_view(), name="audit-checkpoint"),
    path("entries", api.HistoryView.as_view(), name="audit-history"),
    path("entries/<int:index>", api.EntryView.as_view(), name="audit-entry"),
    path("proof/inclusion", api.InclusionProofView.as_view(), name="audit-proof-inclusion"),
    path("proof/consistency", api.ConsistencyProofView.as_view(), name="audit-proof-consistency"),
]
