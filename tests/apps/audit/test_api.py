"""``/api/v1/audit/``: shapes as docs/interfaces.md names them, clear 400s, any role reads, and
anonymous requests are refused."""

from __future__ import annotations

import base64
import hashlib

import pytest
from rest_framework.test import APIClient

from apps.audit.models import Checkpoint
from tests.apps.audit.helpers import PUBLIC_KEY, append_events, token_for
from verifier import verify_checkpoint

pytestmark = pytest.mark.services

ENDPOINTS = [
    "/api/v1/audit/checkpoint",
    "/api/v1/audit/entries/0",
    "/api/v1/audit/proof/inclusion?index=0&tree_size=1",
    "/api/v1/audit/proof/consistency?first=1&second=2",
]


# One test per behaviour, looping over cases: each test's set-up (users with hashed
# passwords, the serialized-rollback reload) costs about two seconds.


def test_anonymous_requests_are_refused(postgres, users):
    append_events(2)
    for url in ENDPOINTS:
        assert APIClient().get(url).status_code in (401, 403), url


def test_every_role_may_read_the_log(postgres, users):
    """Every role reads checkpoints and proofs. An entry's data is read by officials,
    auditors and admins; an exporter reads only its own organisation's entries and the
    public ones (issue #16): these test events, with no actor and about no known object,
    are restricted."""
    append_events(2)
    for username in ("official", "auditor", "exporter_a", "admin"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + token_for(username))
        for url in ENDPOINTS:
            want = 404 if username == "exporter_a" and "/entries/" in url else 200
            assert client.get(url).status_code == want, (username, url)


def test_the_answers_have_the_documented_shapes(api):
    append_events(5)
    checkpoint = api.get("/api/v1/audit/checkpoint").json()
    assert set(checkpoint) == {
        *("tree_size", "root_hash", "timestamp", "signature", "public_key"),
        *("origin", "note"),
    }
    assert checkpoint["origin"] == "carbon-manifest/audit-log"
    # The same signature as a C2SP signed note: body, blank line, "— <origin> <base64>"
    # where the base64 holds the 4-byte key ID then the 64-byte signature.
    key_id = hashlib.sha256(b"carbon-manifest/audit-log\n\x01" + PUBLIC_KEY).digest()[:4]
    body = (
        f"carbon-manifest/audit-log\n6\n"
        f"{base64.b64encode(bytes.fromhex(checkpoint['root_hash'])).decode()}\n"
        f"{checkpoint['timestamp']}\n"
    )
    signature = base64.b64encode(key_id + base64.b64decode(checkpoint["signature"])).decode()
    assert checkpoint["note"] == f"{body}\n\u2014 carbon-manifest/audit-log {signature}\n"
    assert checkpoint["tree_size"] == 6
    assert len(bytes.fromhex(checkpoint["root_hash"])) == 32
    assert base64.b64decode(checkpoint["public_key"]) == PUBLIC_KEY
    verify_checkpoint(checkpoint, PUBLIC_KEY)

    entry = api.get("/api/v1/audit/entries/3").json()
    assert set(entry) == {"index", "leaf_hash", "data"}
    assert entry["index"] == 3
    assert base64.b64decode(entry["data"]).startswith(b'{"action":')

    proof = api.get("/api/v1/audit/proof/inclusion?index=3&tree_size=6").json()
    assert set(proof) == {"hashes"} and len(proof["hashes"]) == 3
    assert api.get("/api/v1/audit/proof/consistency?first=6&second=6").json() == {"hashes": []}
    assert api.get("/api/v1/audit/proof/consistency?first=0&second=6").json() == {"hashes": []}


def test_a_checkpoint_is_signed_only_when_the_tree_grew(api):
    append_events(3)
    first = api.get("/api/v1/audit/checkpoint").json()
    assert api.get("/api/v1/audit/checkpoint").json() == first
    assert Checkpoint.objects.count() == 1
    append_events(1, seed=9)
    second = api.get("/api/v1/audit/checkpoint").json()
    assert second["tree_size"] == first["tree_size"] + 1
    assert Checkpoint.objects.count() == 2


BAD_REQUESTS = [
    ("/api/v1/audit/proof/inclusion", "required"),
    ("/api/v1/audit/proof/inclusion?index=0", "required"),
    ("/api/v1/audit/proof/inclusion?index=x&tree_size=2", "valid integer"),
    ("/api/v1/audit/proof/inclusion?index=-1&tree_size=2", "greater than or equal to 0"),
    ("/api/v1/audit/proof/inclusion?index=0&tree_size=0", "greater than or equal to 1"),
    ("/api/v1/audit/proof/inclusion?index=2&tree_size=2", "index 2 is not below tree_size 2"),
    ("/api/v1/audit/proof/inclusion?index=0&tree_size=99", "tree_size 99 exceeds the log's size 4"),
    ("/api/v1/audit/proof/consistency?first=1", "required"),
    ("/api/v1/audit/proof/consistency?first=3&second=2", "first 3 is greater than second 2"),
    ("/api/v1/audit/proof/consistency?first=1&second=5", "second 5 exceeds the log's size 4"),
    ("/api/v1/audit/proof/consistency?first=1.5&second=2", "valid integer"),
]


def test_bad_parameters_get_a_400_that_says_why(api):
    append_events(3)
    for url, message in BAD_REQUESTS:
        response = api.get(url)
        assert response.status_code == 400, url
        assert message in response.content.decode(), (url, response.content)


def test_an_entry_beyond_the_log_is_not_found(api):
    assert api.get("/api/v1/audit/entries/1").status_code == 404
    assert api.get("/api/v1/audit/entries/-1").status_code == 404


def test_the_openapi_schema_documents_the_audit_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/audit/checkpoint",
        "/api/v1/audit/entries/{index}",
        "/api/v1/audit/proof/inclusion",
        "/api/v1/audit/proof/consistency",
    ):
        assert path in schema["paths"], path
    parameters = schema["paths"]["/api/v1/audit/proof/inclusion"]["get"]["parameters"]
    assert {p["name"] for p in parameters} >= {"index", "tree_size"}
