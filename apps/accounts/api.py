"""``POST /api/v1/auth/token/`` → ``{"token", "expires"}`` (DESIGN §7); your tokens at
``/api/v1/auth/tokens/``, revoked with ``DELETE /api/v1/auth/tokens/{id}/``."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.accounts.models import ApiToken, User
from apps.accounts.services import api_token_create, api_token_revoke


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: inline_serializer(
                "TokenResponse",
                {"token": serializers.CharField(), "expires": serializers.DateTimeField()},
            ),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="invalid username or password"),
            # django-axes: too many failures for this username from this address.
            (429, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="locked out"),
            (429, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        },
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_401_UNAUTHORIZED
            )
        token, expires = api_token_create(user=user)
        return Response({"token": token, "expires": expires}, status=status.HTTP_201_CREATED)


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="the token of this request")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        return bool(request is not None and getattr(request.auth, "pk", None) == token.pk)


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, GenericViewSet
):
    """``/api/v1/auth/tokens/``: your own tokens (admins: everyone's). Only a prefix of each
    token is kept in clear; ``DELETE /api/v1/auth/tokens/{id}/`` revokes one (the row stays,
    with ``revoked_at``, and the revocation is in the audit log)."""

    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        tokens = ApiToken.objects.all()
        if self.request.user.role != User.Role.ADMIN:
            tokens = tokens.filter(user=self.request.user)
        return tokens.order_by("-id")

    @extend_schema(responses={200: ApiTokenSerializer})
    def destroy(self, request, *args, **kwargs):
        token = api_token_revoke(token=self.get_object(), actor=request.user)
        return Response(self.get_serializer(token).data)
