"""Helpers of the PACT tests: the v3 schema shapes, and getting a bearer token."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema
from django.test import Client

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "fixtures/pact/pact_v3_schema_subset.json").read_text()
)

_BASE_EVENT = {
    "type": "object",
    "required": ["type", "specversion", "id", "source", "time", "data"],
    "properties": {
        "type": {"type": "string"},
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "time": {"$ref": "#/$defs/DateTime"},
        "data": {"type": "object"},
    },
}


def _event(kind: str, data: dict) -> dict:
    return {
        "allOf": [
            _BASE_EVENT,
            {
                "properties": {
                    "type": {"const": f"org.wbcsd.pact.ProductFootprint.{kind}.3"},
                    "data": data,
                }
            },
        ]
    }


#: The v3 event schemas (``spec/v3/openapi.yaml`` components ``BaseEvent``,
#: ``RequestFulfilledEvent``, ``RequestRejectedEvent``, ``PublishedEvent``; same source and
#: commit as fixtures/pact/README.md), restated on the fixture's definitions.
EVENTS = {
    "RequestFulfilledEvent": _event(
        "RequestFulfilledEvent",
        {
            "type": "object",
            "required": ["requestEventId", "pfs"],
            "properties": {
                "requestEventId": {"type": "string"},
                "pfs": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/ProductFootprint"},
                },
            },
        },
    ),
    "RequestRejectedEvent": _event(
        "RequestRejectedEvent",
        {
            "type": "object",
            "required": ["requestEventId", "error"],
            "properties": {
                "requestEventId": {"type": "string"},
                "error": {"$ref": "#/$defs/Error"},
            },
        },
    ),
    "PublishedEvent": _event(
        "PublishedEvent",
        {
            "type": "object",
            "required": ["pfIds"],
            "properties": {"pfIds": {"type": "array", "items": {"$ref": "#/$defs/Uuid"}}},
        },
    ),
}


def check(instance: object, definition: str) -> None:
    schema = EVENTS.get(definition, {"$ref": f"#/$defs/{definition}"})
    jsonschema.validate(
        instance,
        {**schema, "$defs": SCHEMA["$defs"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(http: Client, client_id: str, secret: str) -> str:
    response = http.post(
        "/pact/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]
