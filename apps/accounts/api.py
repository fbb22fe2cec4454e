"""``POST /api/v1/auth/token/`` → ``{"token", "expires"}`` (docs/interfaces.md); your tokens at
``/api/v1/auth/tokens/``, revoked with ``DELETE /api/v1/auth/tokens/{id}/``."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.accounts.lockout import LoginSlowedDown, lockout_minutes, slowed_down_response
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
            # django-axes: too many failures for this username from this address; or the
            # per-username slowdown (header Retry-After).
            429: OpenApiResponse(OpenApiTypes.OBJECT, description="locked out or slowed down"),
        },
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = authenticate(
                request,
                username=data.validated_data["username"],
                password=data.validated_data["password"],
            )
        except LoginSlowedDown as slowed:
            return slowed_down_response(request, slowed.retry_after)
        # axes marks the (DRF) request it was given; its middleware only sees Django's.
        if getattr(request, "axes_locked_out", False):
            minutes = lockout_minutes()
            response = Response(
                {
                    "detail": "Too many failed log-ins for this username from your address; "
                    f"try again in {minutes} minutes."
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(minutes * 60)
            return response
        if user is None:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_401_UNAUTHORIZED
            )
        # A log-in like the form's: axes records the address as the user's own (never
        # slowed down) and resets the failures counted against it.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
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
