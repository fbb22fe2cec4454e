"""CSRF on every browser form: every page view is checked by Django's CSRF middleware (or,
where it must read the upload itself, by ``csrf_protect`` inside), every POST form carries
the token, and a POST without it is refused."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.apps.helpers import ROOT

#: Page views that are csrf_exempt outside and csrf_protect inside (they check the request's
#: size before Django reads the body; apps/disclosures/views.py).
PROTECTED_INSIDE = {"disclosure-upload"}
#: Routes that take no cookies: the REST API (DRF checks CSRF itself for a session, see
#: tests/apps/audit/test_state_changes.py) and PACT (bearer tokens only).
TOKEN_PREFIXES = ("api/", "pact/")


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def test_every_page_view_is_csrf_checked():
    exempt = []
    for route, pattern in _patterns(get_resolver()):
        callback = pattern.callback
        if not getattr(callback, "csrf_exempt", False):
            continue  # the middleware checks it
        if route.startswith(TOKEN_PREFIXES) or hasattr(callback, "cls"):
            continue  # an API view: token auth, or DRF's own CSRF check for sessions
        if pattern.name in PROTECTED_INSIDE:
            continue
        exempt.append(f"{route} ({pattern.name})")
    assert exempt == [], f"page views exempt from CSRF: {exempt}"


def test_every_post_form_carries_the_csrf_token():
    missing = []
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("apps/*/templates/**/*.html")]:
        text = template.read_text(encoding="utf-8")
        for form in re.finditer(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            tag = form.group(0)[: form.group(0).index(">") + 1]
            if re.search(r"method\s*=\s*['\"]?post", tag, flags=re.I) and (
                "{% csrf_token %}" not in form.group(0)
            ):
                missing.append(f"{template.relative_to(ROOT)}: {tag}")
    assert missing == [], missing


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/login/",
        "/logout/",
        "/disclosures/upload/",
        "/disclosures/1/versions/1/review/",
    ],
)
def test_a_post_without_the_token_is_refused(users, path):
    browser = Client(enforce_csrf_checks=True)
    if path != "/login/":
        browser.force_login(users["exporter_a"])
    refused = browser.post(path, {"username": "exporter_a", "password": "pw-exporter_a"})
    assert refused.status_code == 403
    assert b"CSRF" in refused.content


@pytest.mark.django_db
def test_a_post_with_the_token_gets_through(users):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    token = page.context["csrf_token"] if page.context else browser.cookies["csrftoken"].value
    answer = browser.post(
        "/login/",
        {"username": "official", "password": "pw-official", "csrfmiddlewaretoken": str(token)},
    )
    assert answer.status_code == 302  # logged in
