from django import forms
from django.contrib import admin
from django.db import models

from apps.common.admin import ReadOnlyModelAdmin
from apps.pact.models import PactAccessToken, PactClient, ReceivedEvent, SentEvent


class PactClientForm(forms.ModelForm):
    # The partner's secret is never shown back; left blank, the stored one is kept.
    events_client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="the secret the partner's host issued us; leave blank to keep the current one",
    )

    class Meta:
        model = PactClient
        fields = ["events_client_secret"]  # the admin adds the others

    def clean_events_client_secret(self) -> str:
        return self.cleaned_data["events_client_secret"] or self.instance.events_client_secret


@admin.register(PactClient)
class PactClientAdmin(admin.ModelAdmin):
    form = PactClientForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = (
        "name",
        "client_id",
        "secret_sha256",
        "created_at",
        "revoked_at",
        "events_url",
        "events_token_url",
        "events_client_id",
        "events_client_secret",
        "published_through",
    )
    list_display = ("name", "client_id", "events_url", "created_at", "revoked_at")
    readonly_fields = ("client_id", "secret_sha256", "created_at", "published_through")


@admin.register(PactAccessToken)
class PactAccessTokenAdmin(admin.ModelAdmin):
    list_display = ("client", "created_at", "expires_at")
    readonly_fields = ("client", "key_sha256", "created_at", "expires_at")


class ReadOnlyAdmin(ReadOnlyModelAdmin):
    """Events are records of an exchange: looked at, never edited."""


@admin.register(ReceivedEvent)
class ReceivedEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "client", "type", "event_id", "source")
    list_filter = ("type",)


@admin.register(SentEvent)
class SentEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "client", "type", "event_id", "status", "attempts")
    list_filter = ("status", "type")
