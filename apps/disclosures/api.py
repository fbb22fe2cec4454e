"""``/api/v1/disclosures/`` and ``/api/v1/disclosure-values/``: list and read disclosures
(scoped: an exporter its own organisation's, others' ids 404), upload a file (exporters),
read the extracted values with their evidence, confirm, correct or drop a value, and
confirm a version (exporters); attach a verification report (exporters of the disclosing
organisation and officials), which makes the estimates verified when its opinion is
positive (IR 2025/2546). A confirmed version found implausible is "held"
(``?status=held`` lists those disclosures); an official accepts or rejects it with a note
(``POST …/versions/{n}/decide``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.models import User
from apps.disclosures.models import (
    Disclosure,
    DisclosureVersion,
    ExtractedValue,
    VerificationReport,
)
from apps.disclosures.selectors import (
    disclosure_list,
    extracted_value_list,
    installation_choices,
)
from apps.disclosures.services import (
    ReviewError,
    disclosure_hold_decide,
    disclosure_upload,
    disclosure_version_confirm,
    extracted_value_review,
)
from apps.disclosures.verification import VerificationError, verification_report_attach
from apps.disclosures.views import upload_cap, upload_refusal, upload_request_check


class ExtractedValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtractedValue
        fields = [
            "id",
            "index",
            "field",
            "value",
            "text",
            "unit",
            "page",
            "cell",
            "line",
            "quote",
            "bbox",
            "extractor",
            "status",
            "reason",
            "corrected_value",
            "corrected_unit",
            "plausibility",
            "reviewed_at",
        ]
        read_only_fields = fields


class VersionSerializer(serializers.ModelSerializer):
    # The name this organisation gave the file (its run's), never another uploader's.
    file = serializers.CharField(source="ingest_run.original_name", read_only=True)
    queue_failure = serializers.CharField(
        source="ingest_run.enqueue_failure", read_only=True, allow_null=True
    )
    file_sha256 = serializers.CharField(source="evidence.sha256", read_only=True)
    superseded_by = serializers.IntegerField(
        source="superseded_by.number", read_only=True, allow_null=True
    )

    class Meta:
        model = DisclosureVersion
        fields = [
            "id",
            "number",
            "kind",
            "cn_code",
            "status",
            "progress",
            "failure",
            "extractor",
            "file",
            "file_sha256",
            "ingest_run",
            "queue_failure",
            "created_at",
            "confirmed_at",
            "superseded_by",
            "engine",
            "held",
            "decision",
            "decision_note",
            "decided_at",
        ]
        read_only_fields = fields


class DisclosureSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    installation = serializers.CharField(source="installation.identifier", read_only=True)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "organisation",
            "installation",
            "period_year",
            "period_start",
            "period_end",
            "status",
            "progress",
            "updated_at",
            "versions",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.BINARY)
class UploadedFileField(serializers.FileField):
    """A file part of the multipart body (the schema said ``format: uri``, which is what a
    file field *answers*; clients and fuzzers then sent a URL instead of the file)."""


class UploadSerializer(serializers.Serializer):
    installation = serializers.CharField(help_text="the installation's identifier")
    period = serializers.IntegerField(min_value=2000, max_value=2100)
    cn_code = serializers.RegexField(r"^\d{4}(\d{2}){0,2}$", required=False, default="")
    file = UploadedFileField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    note = serializers.CharField(help_text="why: required")


class ReviewSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["confirm", "correct", "drop"])
    corrected_value = serializers.FloatField(required=False, allow_null=True, default=None)
    corrected_unit = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class VerificationReportSerializer(serializers.Serializer):
    """The identification data of a verification report (IR 2025/2546 Annex 1.2, 1.3,
    2.6)."""

    report_identifier = serializers.CharField(max_length=128)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    verifier_name = serializers.CharField(max_length=255)
    accreditation_number = serializers.CharField(max_length=128)
    accreditation_body = serializers.CharField(max_length=255)
    accreditation_expires = serializers.DateField(required=False, allow_null=True, default=None)
    opinion = serializers.ChoiceField(choices=VerificationReport.Opinion.choices)
    comments = serializers.CharField(required=False, allow_blank=True, default="")
    issued_on = serializers.DateField()


def _exporter_only(user: User) -> None:
    if user.role != User.Role.EXPORTER:
        raise PermissionDenied("only exporters change disclosures")


class DisclosureViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Disclosure.objects.none()  # the schema's model; requests use get_queryset
    serializer_class = DisclosureSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        qs = disclosure_list(user=self.request.user).prefetch_related("versions__evidence")
        wanted = self.request.query_params.get("status")
        return qs.filter(status=wanted) if wanted else qs

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            upload_request_check(request)  # before authentication reads a session's body
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        refused = upload_refusal(exc)  # Django's request limits, raised while parsing
        if refused is not None:
            exc = APIException({"file": [str(refused)]})
            exc.status_code = refused.status
        return super().handle_exception(exc)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses={201: VersionSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Upload a disclosure file for one of your organisation's installations (exporters)."""
        _exporter_only(request.user)
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        installation = (
            installation_choices(user=request.user).filter(identifier=data["installation"]).first()
        )
        if installation is None:
            raise ValidationError({"installation": "not an installation of your organisation"})
        upload = data["file"]
        if upload.size > upload_cap():
            raise ValidationError({"file": [f"the file is larger than {upload_cap():,} bytes"]})
        version = disclosure_upload(
            user=request.user,
            installation=installation,
            period_year=data["period"],
            upload=upload,
            max_bytes=upload_cap(),
            cn_code=data["cn_code"],
        )
        version.refresh_from_db()
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    def _version(self, number: str) -> DisclosureVersion:
        version = self.get_object().versions.filter(number=int(number)).first()
        if version is None:
            raise NotFound("No such version")
        return version

    # One version's values, whole (not a page): no pagination, and the schema says so.
    @extend_schema(
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses=ExtractedValueSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<number>\d+)/values",
        pagination_class=None,
    )
    def values(self, request, pk=None, number=None):
        """The values of one version, each with its evidence (page, quote, box or cell)."""
        version = self._version(number)
        return Response(ExtractedValueSerializer(version.values.all(), many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses={
            200: inline_serializer(
                "ConfirmResult",
                {
                    "estimates": serializers.ListField(child=serializers.DictField()),
                    "notes": serializers.ListField(child=serializers.CharField()),
                    "shipments": serializers.IntegerField(),
                    "tiers_before": serializers.DictField(child=serializers.IntegerField()),
                    "held": serializers.ListField(
                        child=serializers.DictField(),
                        required=False,
                        help_text="why the version is held for an official's review",
                    ),
                    "supersedes": serializers.ListField(
                        child=serializers.IntegerField(), required=False
                    ),
                },
            ),
            400: inline_serializer(
                "ConfirmRefused", {"detail": serializers.CharField(help_text="why")}
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/confirm")
    def confirm(self, request, pk=None, number=None):
        """Submit a reviewed version (exporters): it feeds the installation's estimates."""
        version = self._version(number)
        _exporter_only(request.user)
        try:
            return Response(disclosure_version_confirm(version=version, user=request.user))
        except ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from exc

    @extend_schema(
        request=VerificationReportSerializer,
        responses={
            201: inline_serializer(
                "VerificationAttached",
                {
                    "report": serializers.IntegerField(),
                    "verified": serializers.BooleanField(),
                    "estimates": serializers.ListField(
                        child=serializers.DictField(), required=False
                    ),
                    "shipments": serializers.IntegerField(required=False),
                    "note": serializers.CharField(required=False),
                },
            ),
            400: inline_serializer(
                "VerificationRefused", {"detail": serializers.CharField(help_text="why")}
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="verification-reports")
    def verification_reports(self, request, pk=None):
        """Attach a verification report (IR 2025/2546) to a disclosure (exporters of its
        organisation, officials): a positive opinion makes its estimates verified."""
        disclosure = self.get_object()
        if request.user.role not in (User.Role.EXPORTER, User.Role.OFFICIAL):
            raise PermissionDenied("only exporters and officials attach verification reports")
        form = VerificationReportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            out = verification_report_attach(
                disclosure=disclosure, user=request.user, **form.validated_data
            )
        except VerificationError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from exc
        return Response(out, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DecisionSerializer,
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses={
            200: inline_serializer(
                "DecisionResult",
                {
                    "decision": serializers.CharField(),
                    "estimates": serializers.ListField(child=serializers.DictField()),
                    "shipments": serializers.IntegerField(),
                },
            ),
            400: inline_serializer("DecisionRefused", {"detail": serializers.CharField()}),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/decide")
    def decide(self, request, pk=None, number=None):
        """Accept (the engine is fed) or reject a version held for review, with a note
        (officials and admins); audited."""
        version = self._version(number)
        if request.user.role not in (User.Role.OFFICIAL, User.Role.ADMIN):
            raise PermissionDenied("only an official decides on a held disclosure")
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            return Response(
                disclosure_hold_decide(version=version, user=request.user, **form.validated_data)
            )
        except ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from exc


class ExtractedValueViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ExtractedValue.objects.none()
    serializer_class = ExtractedValueSerializer

    def get_queryset(self):
        return extracted_value_list(user=self.request.user)

    @extend_schema(request=ReviewSerializer, responses=ExtractedValueSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Confirm, correct (value, unit, reason) or drop (reason) one value (exporters)."""
        value = self.get_object()
        _exporter_only(request.user)
        form = ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            value = extracted_value_review(value=value, user=request.user, **form.validated_data)
        except ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(ExtractedValueSerializer(value).data)
