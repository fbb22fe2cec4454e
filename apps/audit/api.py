"""``/api/v1/audit/``: signed checkpoints, entries and Merkle proofs (docs/interfaces.md).

Any authenticated user may read (officials, auditors, exporters, admins): auditors outside
the platform must be able to check inclusion of any entry. An event's data may carry an
organisation's file names and disclosed values, so an exporter reads no entry that another
organisation's members caused (404; its leaf hash stays in every proof). Anonymous requests
are refused.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.selectors import (
    OutOfRange,
    audit_consistency_proof,
    audit_event_list,
    audit_history,
    audit_inclusion_proof,
    checkpoint_document,
    entry_document,
)
from apps.audit.services import CheckpointRefused, checkpoint_ensure


class CheckpointSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="hex SHA-256, RFC 6962 §2.1")
    timestamp = serializers.CharField(help_text="RFC 3339 UTC, YYYY-MM-DDTHH:MM:SSZ")
    signature = serializers.CharField(
        help_text="base64 Ed25519 signature of 'carbon-manifest/audit-log\\n<tree_size>\\n"
        "<base64 root>\\n<timestamp>\\n'"
    )
    public_key = serializers.CharField(help_text="base64 of the 32-byte Ed25519 public key")


class EntrySerializer(serializers.Serializer):
    index = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="hex SHA-256(0x00 || data)")
    data = serializers.CharField(help_text="base64 of the exact bytes hashed as the leaf")


class ProofSerializer(serializers.Serializer):
    hashes = serializers.ListField(child=serializers.CharField(help_text="hex SHA-256"))


class HistoryQuerySerializer(serializers.Serializer):
    object_type = serializers.CharField(help_text="e.g. estimate, ingest_run, user, api_token")
    object_id = serializers.CharField(help_text="the object's id")


class HistoryEntrySerializer(serializers.Serializer):
    index = serializers.IntegerField()
    action = serializers.CharField()
    leaf_hash = serializers.CharField(help_text="hex SHA-256(0x00 || data)")


class HistorySerializer(serializers.Serializer):
    entries = HistoryEntrySerializer(many=True)


class InclusionQuerySerializer(serializers.Serializer):
    index = serializers.IntegerField(min_value=0, help_text="leaf index, 0-based")
    tree_size = serializers.IntegerField(min_value=1, help_text="size of the tree")


class ConsistencyQuerySerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=0, help_text="size of the older tree")
    second = serializers.IntegerField(min_value=0, help_text="size of the newer tree")


def _query(serializer_class: type[serializers.Serializer], request) -> dict[str, int]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _proof(hashes: list[bytes]) -> Response:
    return Response({"hashes": [h.hex() for h in hashes]})


class LogInconsistent(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "log_inconsistent"


class CheckpointView(APIView):
    @extend_schema(
        responses={200: CheckpointSerializer, 409: OpenApiTypes.OBJECT},
        description="The latest signed checkpoint covering the whole log "
        "(created if the log grew since the last one). 409 when the log no longer extends "
        "the last checkpoint signed (its rows were removed or rewritten): nothing is signed.",
    )
    def get(self, request):
        try:
            return Response(checkpoint_document(checkpoint_ensure()))
        except CheckpointRefused as exc:
            raise LogInconsistent(str(exc)) from None


class EntryView(APIView):
    @extend_schema(responses=EntrySerializer, description="One event, as hashed into the log.")
    def get(self, request, index: int):
        event = get_object_or_404(audit_event_list(user=request.user), index=index)
        return Response(entry_document(event))


class HistoryView(APIView):
    @extend_schema(
        operation_id="api_v1_audit_entries_list",
        parameters=[HistoryQuerySerializer],
        responses=HistorySerializer,
        description="The log's entries about one object, oldest first (e.g. the "
        "estimate.create event that recorded an estimate's trace_sha256); fetch each with "
        "entries/{index} and prove its inclusion.",
    )
    def get(self, request):
        query = _query(HistoryQuerySerializer, request)
        rows = audit_history(**query, user=request.user).values("index", "action", "leaf_hash")
        return Response({"entries": list(rows)})


class InclusionProofView(APIView):
    @extend_schema(
        parameters=[InclusionQuerySerializer],
        responses=ProofSerializer,
        description="PATH(index, D[tree_size]), RFC 6962 §2.1.1, leaf to root.",
    )
    def get(self, request):
        query = _query(InclusionQuerySerializer, request)
        try:
            return _proof(audit_inclusion_proof(**query))
        except OutOfRange as exc:
            raise ValidationError({"detail": str(exc)}) from None


class ConsistencyProofView(APIView):
    @extend_schema(
        parameters=[ConsistencyQuerySerializer],
        responses=ProofSerializer,
        description="PROOF(first, D[second]), RFC 6962 §2.1.2.",
    )
    def get(self, request):
        query = _query(ConsistencyQuerySerializer, request)
        try:
            return _proof(audit_consistency_proof(**query))
        except OutOfRange as exc:
            raise ValidationError({"detail": str(exc)}) from None
