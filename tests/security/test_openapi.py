"""What outside checks found in the served API (issue #15, items 14 and 15), as tests that
enumerate the schema and the URLconf rather than list endpoints by hand:

- the OpenAPI document at ``/api/schema/`` passes ``openapi-spec-validator`` (OpenAPI 3.0.3
  §4.7.24: a ``default`` must conform to its own schema);
- every integer or number query parameter of every operation answers 400 naming the
  parameter, never 500, for a value beyond what the database holds
  (``installation=99999999999999999999``), or a fraction where a whole number is due;
- ``TRACE`` is answered 405 on every route, pages and API alike (RFC 9110 §9.3.8).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admindocs.views import simplify_regex
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import OpenAPIV30SpecValidator

from apps.pact.services import pact_client_create
from tests.apps.pact.helpers import token

pytestmark = pytest.mark.services

HUGE = "99999999999999999999"  # 10^20 − 1 > 2^63 − 1 = 9 223 372 036 854 775 807


def served_schema(client: Client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def number_parameters(document: dict) -> list[tuple[str, str, str, dict, dict]]:
    """(method, path, name, schema, the operation's other required query parameters with a
    valid value) of every integer or number query parameter."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            for parameter in query:
                schema = parameter.get("schema", {})
                if schema.get("type") in ("integer", "number"):
                    required = {
                        p["name"]: max(p["schema"].get("minimum", 1), 1)
                        if p["schema"].get("type") == "integer"
                        else "x"
                        for p in query
                        if p.get("required") and p is not parameter
                    }
                    found.append((method, path, parameter["name"], schema, required))
    return found


def test_the_served_schema_passes_openapi_spec_validator(client):
    document = served_schema(client)
    errors = [str(e).splitlines()[0] for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert errors == []
    # The three errors reported were defaults breaking their own patterns; the parameter
    # and the field keep their pattern and lose the default ("" meant "not given").
    lookup = document["paths"]["/api/v1/grid/lookup/"]["get"]["parameters"]
    (country,) = [p["schema"] for p in lookup if p["name"] == "country"]
    assert country["pattern"] == "^[A-Za-z]{2}$" and "default" not in country
    cn_code = document["components"]["schemas"]["Upload"]["properties"]["cn_code"]
    assert cn_code["pattern"] and "default" not in cn_code
    # A default that its schema admits stays documented.
    (kind,) = [p["schema"] for p in lookup if p["name"] == "kind"]
    assert kind.get("default") == "direct"


def test_every_number_query_parameter_answers_400_for_a_value_out_of_range(postgres, users, client):
    client.force_login(users["admin"])
    document = served_schema(client)
    parameters = number_parameters(document)
    names = {(path, name) for _, path, name, _, _ in parameters}
    # The enumeration finds the filters the outside check named (it is not vacuous).
    assert ("/api/v1/reconciliation-flags/", "installation") in names
    assert ("/api/v1/activity-indices/", "installation") in names
    pact, secret = pact_client_create(name="Checker")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token(Client(), pact.client_id, secret)}"}
    checked = 0
    for method, path, name, schema, required in parameters:
        if method != "get" or "{" in path:
            continue
        values = [HUGE, "-" + HUGE]
        if schema["type"] == "integer" or name in ("installation", "scene", "year"):
            values.append("1.5")
        for value in values:
            if name == "page_size":
                continue  # DRF's pagination reads a bad page size as the default, by design
            extra = bearer if path.startswith("/pact/") else {}
            response = client.get(path, {**required, name: value}, **extra)
            assert response.status_code == 400, (path, name, value, response.content[:300])
            assert name in response.content.decode(), (path, name, value, response.content)
            checked += 1
    assert checked >= 20


def test_an_id_beyond_bigint_is_a_plain_400_on_a_list_and_a_404_on_a_detail(
    postgres, users, client
):
    client.force_login(users["admin"])
    response = client.get("/api/v1/reconciliation-flags/", {"installation": HUGE})
    assert response.status_code == 400
    assert response.json() == {
        "installation": ["Ensure this value is less than or equal to 9223372036854775807."]
    }
    assert client.get("/api/v1/reconciliation-flags/", {"installation": "1"}).status_code == 200
    for path in ("/api/v1/reconciliation-flags/", "/api/v1/estimates/", "/api/v1/shipments/"):
        assert client.get(f"{path}{HUGE}/").status_code == 404, path


def routes(patterns=None, prefix: str = "") -> list[str]:
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append(simplify_regex(prefix + str(pattern.pattern)))
    return found


def test_trace_is_405_on_every_route(postgres, users):
    paths = sorted({re.sub(r"<[^>]+>", "1", p) for p in routes()})
    assert "/api/v1/estimates/1/trace" in paths and "/shipments/" in paths
    anonymous, admin = Client(), Client()
    admin.force_login(users["admin"])
    for path in paths:
        for client in (anonymous, admin):
            response = client.generic("TRACE", path)
            assert response.status_code == 405, (path, response.status_code)
            assert "TRACE" not in response["Allow"], path
    # A viewset's own ``trace`` action (GET) is what TRACE used to reach, with 200 and data.
    allow = admin.generic("TRACE", "/api/v1/estimates/1/trace")["Allow"]
    assert "GET" in allow.split(", ")
