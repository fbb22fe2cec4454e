"""The API tokens page: create, list and revoke one's own tokens (docs/auditors.md)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create, api_token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def token_list_view(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens. POST: issue one; its value is shown on this answer only
    (only its SHA-256 is stored, as for ``POST /api/v1/auth/token/``)."""
    issued = None
    if request.method == "POST":
        token, expires = api_token_create(user=request.user)
        issued = {"token": token, "expires": expires}
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(
        request,
        "accounts/token_list.html",
        {"tokens": tokens, "issued": issued, "now": timezone.now()},
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest) -> HttpResponse:
    """Revoke one of the user's own tokens, by the id posted as ``token`` (another's, or
    none, is answered 404)."""
    raw = request.POST.get("token", "")
    token = (
        ApiToken.objects.filter(user=request.user, pk=int(raw)).first() if raw.isdigit() else None
    )
    if token is None:
        raise Http404("No such token")
    api_token_revoke(token=token, actor=request.user)
    return redirect("token-list")
