"""``python -m verifier trace``: an estimate's trace, fetched from a running server, is the
one its ``estimate.create`` log entry recorded, and that entry is in the signed tree."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection

import methodologies
from methodologies.trace import canonical_bytes, sha256_hex
from tests.apps.api.helpers import ENGINE_CASES, record
from tests.apps.audit.helpers import PUBLIC_KEY, append_events, token_for
from verifier.__main__ import main

pytestmark = pytest.mark.services


def test_the_verifier_ties_a_trace_to_the_log(postgres, users, live_server, tmp_path, capsys):
    token = token_for("auditor")
    case, cn_code, tier = ENGINE_CASES["route.steel"]
    estimate = record(case, cn_code=cn_code, tier=tier)
    append_events(5)
    common = ["--url", live_server.url, "--token", token]
    pinned = ["--public-key", base64.b64encode(PUBLIC_KEY).decode()]
    saved = tmp_path / "trace.json"

    assert (
        main(["trace", *common, *pinned, "--estimate", str(estimate.pk), "--output", str(saved)])
        == 0
    )
    out = capsys.readouterr().out
    assert f"SHA-256 {estimate.trace_sha256}" in out
    assert "(estimate.create) recorded this trace's SHA-256" in out
    assert "is included in tree size 7" in out  # the token, the estimate and 5 events
    assert saved.read_bytes() == estimate.trace.encode()
    recomputed, digest = methodologies.recompute(json.loads(saved.read_bytes()))
    assert recomputed == saved.read_bytes() and digest == estimate.trace_sha256

    # A rewrite of the estimate that is consistent in itself (inputs, trace, digest).
    forged = canonical_bytes(methodologies.run_case({**case, "production_t": 800})["trace"])
    with connection.cursor() as cursor:  # as a superuser, past the estimates' trigger
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE estimates_estimate SET trace = %s, trace_sha256 = %s WHERE id = %s",
            [forged.decode(), sha256_hex(forged), estimate.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    assert main(["trace", *common, *pinned, "--estimate", str(estimate.pk)]) == 1
    out = capsys.readouterr().out
    assert (
        f"[FAIL] no estimate.create entry in tree size 7 records SHA-256 {sha256_hex(forged)}"
        in out
    )

    assert main(["trace", *common, *pinned, "--estimate", "999999"]) == 2
    assert "HTTP 404" in capsys.readouterr().err


def test_the_history_endpoint_lists_an_objects_entries(postgres, users):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token_for("auditor"))
    case, cn_code, tier = ENGINE_CASES["hydrogen.smr"]
    estimate = record(case, cn_code=cn_code, tier=tier)
    answer = api.get(f"/api/v1/audit/entries?object_type=estimate&object_id={estimate.pk}")
    assert answer.status_code == 200
    (entry,) = answer.json()["entries"]
    assert entry["action"] == "estimate.create" and entry["index"] == 1
    assert api.get("/api/v1/audit/entries?object_type=estimate").status_code == 400
