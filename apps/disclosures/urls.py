"""Web pages (``urlpatterns``, mounted at the site root) and API routes (``api_urlpatterns``,
mounted under /api/v1/) of this area."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.disclosures import api, views

urlpatterns: list = [
    path("disclosures/", views.disclosure_list_view, name="disclosure-list"),
    path("disclosures/upload/", views.disclosure_upload_view, name="disclosure-upload"),
    path("disclosures/<int:pk>/", views.disclosure_detail_view, name="disclosure-detail"),
    path(
        "disclosures/<int:pk>/verification/",
        views.disclosure_verification_view,
        name="disclosure-verification",
    ),
    path(
        "disclosures/<int:pk>/versions/<int:number>/review/",
        views.disclosure_review_view,
        name="disclosure-review",
    ),
    path(
        "disclosures/<int:pk>/versions/<int:number>/pages/<int:page>.png",
        views.disclosure_page_image_view,
        name="disclosure-page-image",
    ),
    path(
        "disclosures/templates/<str:name>",
        views.disclosure_template_file_view,
        name="disclosure-template-file",
    ),
    path(
        "disclosures/<int:pk>/versions/<int:number>/decide/",
        views.disclosure_decide_view,
        name="disclosure-decide",
    ),
    path(
        "disclosures/<int:pk>/versions/<int:number>/template.xlsx",
        views.disclosure_template_view,
        name="disclosure-template",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("disclosures", api.DisclosureViewSet, basename="disclosure")
router.register("disclosure-values", api.ExtractedValueViewSet, basename="disclosure-value")
api_urlpatterns: list = [path("", include(router.urls))]
