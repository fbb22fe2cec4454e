"""Lockout behind reverse proxies (issue #16 item 8).

Behind the documented proxy every request reaches the application from the proxy's own
address. ``CM_PROXY_COUNT`` had no effect, so the lockout per (username, address) counted
every client as the proxy: five wrong passwords from anyone locked ``official`` out for
everyone. The client address is now read through the chain of trusted proxies (the N-th
``X-Forwarded-For`` entry from the right; MDN "X-Forwarded-For", RFC 7239 §8.1), and
guesses spread over many addresses meet a per-username slowdown that never refuses the
user's own addresses.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory, override_settings

from apps.accounts.lockout import client_address

LIMIT = 5  # settings.AXES_FAILURE_LIMIT
PROXY = "127.0.0.1"  # the reverse proxy on this host, as gunicorn sees it


def _login(client, username, password, *, forwarded: str, proxy: str = PROXY):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def _token(client, username, password, *, forwarded: str):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
@override_settings(CM_PROXY_COUNT=1)
def test_behind_one_proxy_an_attacker_cannot_lock_the_user_out_for_everyone(client, users):
    for _ in range(LIMIT - 1):
        assert _login(client, "official", "wrong", forwarded="203.0.113.7").status_code == 200
    assert _login(client, "official", "wrong", forwarded="203.0.113.7").status_code == 429
    # The attacker's address is locked out; the user, through the same proxy, is not.
    assert _login(client, "official", "pw-official", forwarded="203.0.113.7").status_code == 429
    ok = _login(client, "official", "pw-official", forwarded="198.51.100.20")
    assert ok.status_code == 302


@pytest.mark.django_db
@override_settings(CM_PROXY_COUNT=1)
def test_an_address_written_by_the_client_itself_is_ignored(client, users):
    """The proxy appends the address it saw; what the client sent stands to its left and
    cannot make the attacker's failures count against the user's address."""
    for _ in range(LIMIT):
        _login(client, "official", "wrong", forwarded="198.51.100.20, 203.0.113.7")
    assert _login(client, "official", "pw-official", forwarded="198.51.100.20").status_code == 302


def _address(meta: dict) -> str | None:
    return client_address(RequestFactory().get("/", **meta))


def test_the_client_is_the_nth_forwarded_address_from_the_right():
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.7, 10.0.0.1"}
    with override_settings(CM_PROXY_COUNT=0):
        assert _address(meta) == "10.0.0.2"  # no proxy trusted: the TCP peer
    with override_settings(CM_PROXY_COUNT=1):
        assert _address(meta) == "10.0.0.1"
    with override_settings(CM_PROXY_COUNT=2):
        assert _address(meta) == "203.0.113.7"  # proxy 10.0.0.1 forwarded for it
    with override_settings(CM_PROXY_COUNT=5):
        assert _address(meta) == "1.1.1.1"  # fewer hops than proxies: the oldest one
    with override_settings(CM_PROXY_COUNT=1):
        assert _address({"REMOTE_ADDR": "10.0.0.2"}) == "10.0.0.2"  # not via the proxy
        bad = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}
        assert _address(bad) == "10.0.0.2"
        v6 = {"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "2001:DB8::1"}
        assert _address(v6) == "2001:db8::1"


PW_A = "pw-exporter_a"
SLOW = {"CM_PROXY_COUNT": 1, "CM_LOGIN_SLOWDOWN_AFTER": 3, "CM_LOGIN_SLOWDOWN_SECONDS": 60}


@pytest.mark.django_db
@override_settings(**SLOW)
def test_guesses_spread_over_addresses_are_slowed_down_per_username(client, users):
    from axes.models import AccessAttempt

    # Each address stays far below the lockout; together they pass the slowdown threshold.
    for n in range(3):
        assert _login(client, "auditor", "wrong", forwarded=f"203.0.113.{n}").status_code == 200
    # Now a new address waits, even with the right password, and its refusal is no failure.
    slowed = _login(client, "auditor", "pw-auditor", forwarded="203.0.113.50")
    assert slowed.status_code == 429
    assert 0 < int(slowed["Retry-After"]) <= 60
    assert b"try again in" in slowed.content
    api = _token(client, "auditor", "wrong", forwarded="203.0.113.51")
    assert api.status_code == 429 and "token" not in api.json()
    assert not AccessAttempt.objects.filter(ip_address__in=["203.0.113.50", "203.0.113.51"])
    # Once the interval has passed since the last failure, one attempt goes through.
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61))
    assert _login(client, "auditor", "pw-auditor", forwarded="203.0.113.50").status_code == 302


@pytest.mark.django_db
@override_settings(**SLOW)
def test_the_slowdown_never_refuses_the_users_own_address(client, users):
    assert _login(client, "official", "pw-official", forwarded="198.51.100.20").status_code == 302
    client.logout()
    assert _token(client, "exporter_a", PW_A, forwarded="198.51.100.30").status_code == 201
    for n in range(6):  # a distributed attack on both usernames
        _login(client, "official", "wrong", forwarded=f"203.0.113.{n}")
        _token(client, "exporter_a", "wrong", forwarded=f"203.0.113.{n}")
    assert _login(client, "official", "pw-official", forwarded="198.51.100.20").status_code == 302
    # A token request is a log-in too: its address is the user's own from then on.
    assert _token(client, "exporter_a", PW_A, forwarded="198.51.100.30").status_code == 201
    assert _token(client, "exporter_a", PW_A, forwarded="198.51.100.99").status_code == 429
