"""Brute-force defences around every password check (the login form and
``POST /api/v1/auth/token/``), on top of django-axes' lockout per (username, address):

- :func:`client_address`: the client's address as the trusted reverse proxies saw it
  (``CM_PROXY_COUNT`` of them), so that the lockout counts per *client*, not per proxy.
- :class:`UsernameSlowdownBackend`: a per-username slowdown against guesses spread over
  many addresses. It slows, never locks: it never refuses an address from which the user
  has logged in before, and a refused attempt is not counted as a failure.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone


def client_address(request: HttpRequest) -> str | None:
    """The address of the client that sent ``request`` (``AXES_CLIENT_IP_CALLABLE``).

    With no proxy in front (``CM_PROXY_COUNT=0``) it is the TCP peer, ``REMOTE_ADDR``.
    Behind N trusted reverse proxies, each appends to ``X-Forwarded-For`` the address it
    received the request from, so the client is the N-th entry *from the right*; whatever
    stands to its left was written by the client itself and is ignored (MDN
    "X-Forwarded-For", "Selecting an IP address": the rightmost entries added by trusted
    proxies; RFC 7239 §8.1 on forwarding headers a client can forge).
    A request that passed fewer proxies than N gives its oldest recorded hop; a header
    that is not an address gives the TCP peer.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.CM_PROXY_COUNT
    if count <= 0:
        return remote
    # Several X-Forwarded-For headers arrive joined by commas (RFC 9110 §5.3).
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if not hops:
        return remote
    candidate = hops[-count] if len(hops) >= count else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class LoginSlowedDown(Exception):
    """Too many failures for this username lately, from addresses it never logged in from:
    wait ``retry_after`` seconds. Deliberately not a ``PermissionDenied``: Django would count
    the refusal as a failed log-in (and axes would lock the address out)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"slow down: retry after {retry_after} s")
        self.retry_after = retry_after


def slowdown_wait(*, username: str, address: str | None, now: dt.datetime | None = None) -> int:
    """Seconds an attempt on ``username`` from ``address`` must still wait (0: go ahead).

    Once the username has ``CM_LOGIN_SLOWDOWN_AFTER`` failures from all addresses within
    the cool-off window, an address it never logged in from may try at most once every
    ``CM_LOGIN_SLOWDOWN_SECONDS`` after the last failure: a guesser spread over many
    addresses gets one guess per interval, not one per address. The user's own addresses
    (axes' access log of successful log-ins) are never slowed.
    """
    from axes.models import AccessAttempt, AccessLog

    now = now or timezone.now()
    failures = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    ).aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
    if (failures["n"] or 0) < settings.CM_LOGIN_SLOWDOWN_AFTER or failures["last"] is None:
        return 0
    if address and AccessLog.objects.filter(username=username, ip_address=address).exists():
        return 0
    wait = settings.CM_LOGIN_SLOWDOWN_SECONDS - (now - failures["last"]).total_seconds()
    return max(0, math.ceil(wait))


class UsernameSlowdownBackend:
    """An authentication backend that authenticates nobody: placed after axes' backend and
    before the password check, it raises :class:`LoginSlowedDown` when the attempt must
    wait (:func:`slowdown_wait`), and otherwise lets the next backend check the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            return None
        wait = slowdown_wait(username=username, address=client_address(request))
        if wait:
            raise LoginSlowedDown(wait)
        return None

    # No get_user(): it logs nobody in, so no session may name it as the user's backend
    # (Django's test client, for one, picks the first backend that has get_user).


def slowed_down_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with ``Retry-After`` (RFC 6585 §4): JSON under /api/ and /pact/, else a page."""
    if request.path.startswith(("/api/", "/pact/")):
        response: HttpResponse = JsonResponse(
            {"detail": f"Too many failed log-ins for this username; retry in {retry_after} s."},
            status=429,
        )
    else:
        response = render(
            request, "registration/slowed_down.html", {"retry_after": retry_after}, status=429
        )
    response["Retry-After"] = str(retry_after)
    return response


class LoginSlowdownMiddleware:
    """Answers a :class:`LoginSlowedDown` raised by a password check with a 429."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, LoginSlowedDown):
            return slowed_down_response(request, exception.retry_after)
        return None


def lockout_minutes() -> int:
    """The cool-off of a lockout, in whole minutes (for messages)."""
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
