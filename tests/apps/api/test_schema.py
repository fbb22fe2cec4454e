"""The OpenAPI document is valid OpenAPI 3, and every API route of the URLconf is in it.

Routes are enumerated from the resolver (not listed by hand), so a new endpoint that the
schema misses fails here.
"""

from __future__ import annotations

import re

from django.contrib.admindocs.views import simplify_regex
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

API_PREFIXES = ("/api/v1/", "/pact/")


def routes(patterns=None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            found.append((simplify_regex(prefix + str(pattern.pattern)), pattern))
    return found


def normalised(path: str) -> str:
    """/api/v1/estimates/<pk>/trace and /api/v1/estimates/{id}/trace compare equal."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def api_routes() -> set[str]:
    paths = set()
    for path, pattern in routes():
        if not path.startswith(API_PREFIXES):
            continue
        # The router's browsable index and its ".json"-style format suffixes are
        # conveniences of DRF, not endpoints of ours.
        if pattern.name == "api-root" or "<format>" in path:
            continue
        paths.add(normalised(path))
    return paths


def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_openapi_document_validates():
    document = schema()
    validate_schema(document)  # drf-spectacular's bundled OpenAPI 3.0 JSON Schema
    assert document["openapi"].startswith("3.")


def test_every_api_route_in_the_urlconf_is_documented():
    documented = {normalised(p) for p in schema()["paths"]}
    routes_found = api_routes()
    # The enumeration itself finds the routes we know of (it is not vacuous).
    for known in (
        "/api/v1/shipments/",
        "/api/v1/estimates/{}/trace",
        "/api/v1/estimates/{}/trace.csv",
        "/api/v1/estimates/traces.zip",
        "/api/v1/default-values/",
        "/api/v1/auth/tokens/{}/",
        "/api/v1/audit/proof/consistency",
        "/pact/auth/token",
        "/pact/3/footprints/{}",
    ):
        assert known in routes_found, known
    missing = sorted(routes_found - documented)
    assert not missing, f"routes missing from the OpenAPI schema: {missing}"


def test_the_schema_names_the_stable_fields_and_filters():
    document = schema()
    paths = document["paths"]
    parameters = {p["name"] for p in paths["/api/v1/estimates/"]["get"]["parameters"]}
    assert {"cn_code", "origin", "exporter", "period_from", "period_to", "tier"} <= parameters
    parameters = {p["name"] for p in paths["/api/v1/default-values/"]["get"]["parameters"]}
    assert {"cn_code", "origin", "sector"} <= parameters
    parameters = {p["name"] for p in paths["/pact/3/footprints"]["get"]["parameters"]}
    assert {"limit", "productId", "geography", "classification", "status", "validOn"} <= parameters
    estimate = document["components"]["schemas"]["Estimate"]["properties"]
    assert {"id", "tier", "see_total_t_per_t", "trace_sha256"} <= set(estimate)
