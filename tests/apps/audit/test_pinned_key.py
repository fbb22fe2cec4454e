"""The audit log's public key comes from the repository, not from the server checked:
``manage.py audit_public_key --pin URL`` writes it into the verifier's pinned keys, and
``python -m verifier`` uses that entry when no ``--public-key`` is given; a server that
signs with another key fails (docs/auditors.md)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.management import call_command

from tests.apps.api.helpers import ENGINE_CASES, record
from tests.apps.audit.helpers import PUBLIC_KEY, append_events, token_for
from verifier.__main__ import main, origin_of

pytestmark = pytest.mark.services


def test_the_pinned_key_is_published_and_used(
    postgres, users, live_server, tmp_path, capsys, monkeypatch
):
    keys = tmp_path / "pinned_keys.json"
    out = io.StringIO()
    call_command(
        "audit_public_key", "--pin", live_server.url + "/", "--file", str(keys), stdout=out
    )
    encoded = base64.b64encode(PUBLIC_KEY).decode()
    assert out.getvalue().startswith(encoded + "\tkey id ")
    assert json.loads(keys.read_text())["keys"] == {origin_of(live_server.url): encoded}

    token = token_for("auditor")
    case, cn_code, tier = ENGINE_CASES["route.steel"]
    estimate = record(case, cn_code=cn_code, tier=tier)
    append_events(2)
    monkeypatch.delenv("CM_AUDIT_PUBLIC_KEY", raising=False)
    monkeypatch.setenv("CM_VERIFIER_KEYS", str(keys))
    common = ["--url", live_server.url, "--token", token, "--estimate", str(estimate.pk)]
    capsys.readouterr()
    assert main(["trace", *common]) == 0
    said = capsys.readouterr().out
    assert "pinned by pinned_keys.json entry" in said and "trusting" not in said

    # Another key published for this address: the server's signature no longer verifies.
    other = base64.b64encode(bytes(range(32))).decode()
    keys.write_text(json.dumps({"keys": {origin_of(live_server.url): other}}))
    assert main(["trace", *common]) == 1


def test_the_repository_file_is_a_pinned_keys_file():
    from verifier.__main__ import PINNED_KEYS

    document = json.loads(PINNED_KEYS.read_text(encoding="utf-8"))
    assert isinstance(document["keys"], dict)
    for origin, key in document["keys"].items():
        assert origin == origin_of(origin)
        assert len(base64.b64decode(key, validate=True)) == 32
