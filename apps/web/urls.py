"""The web app's own pages (mounted at the site root by config/urls.py)."""

from __future__ import annotations

from django.urls import path

from apps.web import views

urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("exporters/<int:pk>/", views.exporter_detail_view, name="exporter-detail"),
    path("estimates/<int:pk>/", views.estimate_detail_view, name="estimate-detail"),
    path("glossary/", views.glossary_view, name="glossary"),
    path("methodologies/", views.methodology_list_view, name="methodology-list"),
    path(
        "methodologies/<str:methodology_id>/",
        views.methodology_detail_view,
        name="methodology-detail",
    ),
]
