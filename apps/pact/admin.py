from django.contrib import admin

from apps.pact.models import PactAccessToken, PactClient


@admin.register(PactClient)
class PactClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "created_at", "revoked_at")
    readonly_fields = ("client_id", "secret_sha256", "created_at")


@admin.register(PactAccessToken)
class PactAccessTokenAdmin(admin.ModelAdmin):
    list_display = ("client", "created_at", "expires_at")
    readonly_fields = ("client", "key_sha256", "created_at", "expires_at")
