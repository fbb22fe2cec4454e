"""Pages (``urlpatterns``, mounted at the site root) of the site itself: home, sign-in, the
dashboard, and the pages that join areas (an exporter, an estimate with its evidence and
history, the methodologies)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.web import flags, methodology_versions, operations, views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon_view, name="favicon"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("exporters/<int:pk>/", views.exporter_detail_view, name="exporter-detail"),
    path("estimates/<int:pk>/", views.estimate_detail_view, name="estimate-detail"),
    path("glossary/", views.glossary_view, name="glossary"),
    path("flags/", flags.flag_list_view, name="flag-list"),
    path(
        "flags/<str:kind>/<int:pk>/transition/",
        flags.flag_transition_view,
        name="flag-transition",
    ),
    path("operations/", operations.operations_view, name="operations"),
    path("methodologies/", views.methodology_list_view, name="methodology-list"),
    path(
        "methodology-versions/",
        methodology_versions.methodology_versions_view,
        name="methodology-versions",
    ),
    path(
        "methodology-versions/compare/",
        methodology_versions.methodology_versions_compare_view,
        name="methodology-versions-compare",
    ),
    path(
        "methodologies/<str:methodology_id>/",
        views.methodology_detail_view,
        name="methodology-detail",
    ),
]

api_urlpatterns = [
    path(
        "operations/replica/",
        operations.ReplicaStatusView.as_view(),
        name="operations-replica",
    ),
]
