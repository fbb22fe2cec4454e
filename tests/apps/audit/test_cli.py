"""The auditor's command line against a running server: a saved checkpoint stays
consistent with the latest, entries are included, and a rewrite is caught."""

from __future__ import annotations

import base64
import hashlib
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from apps.audit.tasks import audit_checkpoint_task
from tests.apps.audit.helpers import PUBLIC_KEY, TEST_SEED, append_events, token_for
from tests.apps.audit.test_append_only import forged, superuser_rewrites
from verifier.__main__ import main
from verifier.checkpoint import checkpoint_body

pytestmark = pytest.mark.services


def test_the_verifier_cli_checks_a_live_log(postgres, users, live_server, tmp_path, capsys):
    token = token_for("auditor")
    append_events(30)
    assert audit_checkpoint_task() == 31  # the periodic task signs the grown tree
    saved, latest = tmp_path / "saved.json", tmp_path / "latest.json"
    call_command("audit_checkpoint", output=str(saved), stdout=StringIO())
    append_events(12, seed=1)
    common = ["--url", live_server.url, "--token", token]
    pinned = ["--public-key", base64.b64encode(PUBLIC_KEY).decode()]

    assert main(["check", *common, *pinned, "--checkpoint", str(saved), "--save", str(latest)]) == 0
    assert "consistency 31 → 43" in capsys.readouterr().out
    assert json.loads(latest.read_text())["tree_size"] == 43
    assert main(["check", *common, "--checkpoint", str(saved)]) == 0
    assert "trusting key" in capsys.readouterr().out
    assert main(["inclusion", *common, *pinned, "--index", "7"]) == 0
    assert "entry 7 is included in tree size 43" in capsys.readouterr().out

    data = forged(7)
    superuser_rewrites(7, data=data, leaf_hash=None)
    assert main(["inclusion", *common, *pinned, "--index", "7"]) == 1
    assert "[FAIL] entry 7: SHA-256(0x00 || data)" in capsys.readouterr().out

    superuser_rewrites(7, data=None, leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest())
    assert main(["inclusion", *common, *pinned, "--index", "7"]) == 1
    assert "[FAIL] the inclusion proof of leaf 7" in capsys.readouterr().out
    assert main(["check", *common, *pinned, "--checkpoint", str(saved)]) == 1
    assert "[FAIL] the consistency proof" in capsys.readouterr().out
    append_events(1, seed=2)  # due for a checkpoint, which the platform refuses to sign
    assert main(["check", *common, *pinned, "--checkpoint", str(saved)]) == 1
    assert "[FAIL] the platform refuses to sign its log" in capsys.readouterr().out


def test_the_verifier_cli_fails_a_log_that_shrank(postgres, users, live_server, tmp_path, capsys):
    """A checkpoint saved at a size beyond the latest the platform serves: the log lost
    entries (or the server shows another, shorter log)."""
    token = token_for("auditor")
    key = Ed25519PrivateKey.from_private_bytes(TEST_SEED)
    timestamp = "2026-11-29T12:00:00Z"
    root = hashlib.sha256(b"a longer log").digest()
    saved = tmp_path / "saved.json"
    saved.write_text(
        json.dumps(
            {
                "tree_size": 1000,
                "root_hash": root.hex(),
                "timestamp": timestamp,
                "signature": base64.b64encode(
                    key.sign(checkpoint_body(1000, root, timestamp))
                ).decode(),
                "public_key": base64.b64encode(PUBLIC_KEY).decode(),
            }
        )
    )
    common = ["--url", live_server.url, "--token", token, "--checkpoint", str(saved)]
    assert main(["check", *common]) == 1
    assert "[FAIL] the latest checkpoint's tree size 1 is below the saved 1000" in (
        capsys.readouterr().out
    )


def test_the_verifier_cli_reports_a_refused_token(postgres, live_server, tmp_path, capsys):
    saved = tmp_path / "saved.json"
    call_command("audit_checkpoint", output=str(saved), stdout=StringIO())
    assert (
        main(["check", "--url", live_server.url, "--token", "no", "--checkpoint", str(saved)]) == 2
    )
    assert "HTTP 401" in capsys.readouterr().err
