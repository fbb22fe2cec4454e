"""``/api/v1/methodology-versions``: the methodology versions, their adoption records and
member signatures (docs/adoption.md).

Every signed-in user reads them (which version a figure was computed under is public
method, no organisation's data). Officials and admins upload a member's signature line
(made offline by the member); admins propose and retire versions. The record is also
served as a plain-text signed note, for ``python -m verifier adoption``.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.adoption.models import MethodologyVersion
from apps.adoption.selectors import (
    Coalition,
    coalition,
    version_current,
    version_list,
    version_record,
    version_signers,
    version_status,
)
from apps.adoption.services import (
    AdoptionError,
    methodology_version_propose,
    methodology_version_retire,
    methodology_version_sign,
)

SIGNERS = ("official", "admin")  # who may upload a member's signature line
ADMINS = ("admin",)


def _require(request, roles: tuple[str, ...]) -> None:
    if not (request.user.is_superuser or getattr(request.user, "role", None) in roles):
        raise PermissionDenied(f"only {' and '.join(roles)}s may do this")


class SignatureSerializer(serializers.Serializer):
    signer = serializers.CharField(help_text="the member key's name")
    key_id = serializers.CharField(help_text="hex, 4 bytes (C2SP signed-note key ID)")
    line = serializers.CharField(help_text="the signature line, '— <name> <base64>'")
    created_at = serializers.DateTimeField()


class MethodologyVersionSerializer(serializers.Serializer):
    label = serializers.CharField()
    digest = serializers.CharField(help_text="SHA-256 of the manifest's canonical JSON")
    status = serializers.CharField(help_text="preview, adopted or retired")
    current = serializers.BooleanField(help_text="the version figures are computed under")
    signers = serializers.ListField(
        child=serializers.CharField(), help_text="configured members whose signature verifies"
    )
    threshold = serializers.IntegerField()
    members = serializers.IntegerField()
    description = serializers.CharField()
    parameters = serializers.DictField(help_text="the version's parameter set")
    proposed_at = serializers.DateTimeField()
    adopted_at = serializers.DateTimeField(allow_null=True)
    retired_at = serializers.DateTimeField(allow_null=True)
    signatures = SignatureSerializer(many=True)
    record = serializers.CharField(help_text="the adoption record, a C2SP signed note")


class MethodologyVersionDetailSerializer(MethodologyVersionSerializer):
    manifest = serializers.DictField(help_text="engine, code, tables, methodologies, parameters")


def version_document(
    version: MethodologyVersion,
    *,
    detail: bool = False,
    members: Coalition | None = None,
    current: MethodologyVersion | bool | None = False,
) -> dict:
    members = members or coalition()
    if current is False:
        current = version_current().version
    doc = {
        "label": version.label,
        "digest": version.digest,
        "status": version_status(version, members),
        "current": current is not None and current.pk == version.pk,
        "signers": version_signers(version, members),
        "threshold": members.threshold,
        "members": len(members.keys),
        "description": version.description,
        "parameters": version.manifest.get("parameters", {}),
        "proposed_at": version.proposed_at,
        "adopted_at": version.adopted_at,
        "retired_at": version.retired_at,
        "signatures": [
            {"signer": s.signer, "key_id": s.key_id, "line": s.line, "created_at": s.created_at}
            for s in version.signatures.all()
        ],
        "record": version_record(version),
    }
    if detail:
        doc["manifest"] = version.manifest
    return doc


class ProposeSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=64)
    parameters = serializers.DictField(required=False, default=dict)
    description = serializers.CharField(required=False, default="", allow_blank=True)


class VersionListView(APIView):
    @extend_schema(
        responses=MethodologyVersionSerializer(many=True), operation_id="methodology_versions_list"
    )
    def get(self, request) -> Response:
        members, current = coalition(), version_current().version
        docs = [version_document(v, members=members, current=current) for v in version_list()]
        return Response(MethodologyVersionSerializer(docs, many=True).data)

    @extend_schema(
        request=ProposeSerializer,
        responses={201: MethodologyVersionDetailSerializer},
        operation_id="methodology_versions_propose",
    )
    def post(self, request) -> Response:
        _require(request, ADMINS)
        body = ProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = methodology_version_propose(actor=request.user, **body.validated_data)
        except AdoptionError as exc:
            raise ValidationError({"label": [str(exc)]}) from None
        return Response(
            MethodologyVersionDetailSerializer(version_document(version, detail=True)).data,
            status=status.HTTP_201_CREATED,
        )


def _get(label: str) -> MethodologyVersion:
    return get_object_or_404(version_list(), label=label)


class VersionDetailView(APIView):
    @extend_schema(
        responses=MethodologyVersionDetailSerializer, operation_id="methodology_versions_detail"
    )
    def get(self, request, label: str) -> Response:
        return Response(
            MethodologyVersionDetailSerializer(version_document(_get(label), detail=True)).data
        )


class VersionRecordView(APIView):
    @extend_schema(
        responses={(200, "text/plain"): OpenApiTypes.STR},
        operation_id="methodology_versions_record",
    )
    def get(self, request, label: str) -> HttpResponse:
        return HttpResponse(version_record(_get(label)), content_type="text/plain; charset=utf-8")


class SignSerializer(serializers.Serializer):
    line = serializers.CharField(
        max_length=400, help_text="a member's signature line, from `methodology_version sign`"
    )


class VersionSignView(APIView):
    @extend_schema(
        request=SignSerializer,
        responses={201: MethodologyVersionSerializer},
        operation_id="methodology_versions_sign",
    )
    def post(self, request, label: str) -> Response:
        _require(request, SIGNERS)
        version = _get(label)
        body = SignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            methodology_version_sign(
                version=version, line=body.validated_data["line"], actor=request.user
            )
        except AdoptionError as exc:
            raise ValidationError({"line": [str(exc)]}) from None
        return Response(
            MethodologyVersionSerializer(version_document(_get(label))).data,
            status=status.HTTP_201_CREATED,
        )


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class VersionRetireView(APIView):
    @extend_schema(
        request=RetireSerializer,
        responses=MethodologyVersionSerializer,
        operation_id="methodology_versions_retire",
    )
    def post(self, request, label: str) -> Response:
        _require(request, ADMINS)
        body = RetireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = methodology_version_retire(
                version=_get(label), reason=body.validated_data["reason"], actor=request.user
            )
        except AdoptionError as exc:
            raise ValidationError({"reason": [str(exc)]}) from None
        return Response(MethodologyVersionSerializer(version_document(version)).data)
