"""Pages (``urlpatterns``, mounted at the site root) of this app: ingest runs."""

from __future__ import annotations

from django.urls import path

from apps.evidence import views

urlpatterns: list = [
    path("ingests/", views.ingest_run_list_view, name="ingest-run-list"),
    path("ingests/<int:pk>/", views.ingest_run_detail_view, name="ingest-run-detail"),
    path("ingests/<int:pk>/errors.csv", views.ingest_run_errors_csv, name="ingest-run-errors"),
    path("ingests/<int:pk>/file", views.ingest_run_file_view, name="ingest-run-file"),
    path("ingests/<int:pk>/excerpt/", views.ingest_run_excerpt_view, name="ingest-run-excerpt"),
]
