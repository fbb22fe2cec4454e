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
from django.utils.timezone import now

from apps.audit.models import Cosignature
from apps.audit.selectors import checkpoint_note
from apps.audit.services import checkpoint_ensure
from apps.audit.tasks import audit_checkpoint_task
from tests.apps.audit.helpers import PUBLIC_KEY, TEST_SEED, append_events, token_for
from tests.apps.audit.test_append_only import forged, superuser_rewrites
from verifier.__main__ import main
from verifier.checkpoint import checkpoint_body
from verifier.note import cosign, cosignature_key, ed25519_key, raw_public_key

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
    # The key comes from the auditor, never from what it checks, unless it opts in.
    assert main(["check", *common, "--checkpoint", str(saved)]) == 2
    assert "no log key" in capsys.readouterr().err
    assert main(["check", *common, "--trust-server-key", "--checkpoint", str(saved)]) == 0
    assert "--trust-server-key: trusting key" in capsys.readouterr().out
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
    assert main(["check", *common, "--public-key", base64.b64encode(PUBLIC_KEY).decode()]) == 1
    assert "[FAIL] the latest checkpoint's tree size 1 is below the saved 1000" in (
        capsys.readouterr().out
    )


def test_the_verifier_cli_reports_a_refused_token(postgres, live_server, tmp_path, capsys):
    saved = tmp_path / "saved.json"
    call_command("audit_checkpoint", output=str(saved), stdout=StringIO())
    key = ["--public-key", base64.b64encode(PUBLIC_KEY).decode()]
    args = ["--url", live_server.url, "--token", "no", "--checkpoint", str(saved), *key]
    assert main(["check", *args]) == 2
    assert "HTTP 401" in capsys.readouterr().err


def test_the_verifier_cli_requires_k_cosignatures_from_its_own_witness_keys(
    postgres, users, live_server, capsys
):
    """One of two configured witnesses cosigned the latest checkpoint: k = 1 passes,
    k = 2 (the default with two keys) fails, naming how many cosigned."""
    token = token_for("auditor")
    append_events(4)
    checkpoint = checkpoint_ensure()
    seeds = {name: hashlib.sha256(name.encode()).digest() for name in ("w1.test", "w2.test")}
    vkeys = {}
    for name, seed in seeds.items():
        private = Ed25519PrivateKey.from_private_bytes(seed)
        vkeys[name] = cosignature_key(name, raw_public_key(private)).vkey
    text = checkpoint_note(checkpoint).text
    line = cosign(Ed25519PrivateKey.from_private_bytes(seeds["w1.test"]), "w1.test", text, 1)
    Cosignature.objects.create(
        checkpoint=checkpoint, witness="w1.test", line=line.line.rstrip("\n"), timestamp=now()
    )
    log_key = ed25519_key("carbon-manifest/audit-log", PUBLIC_KEY).vkey
    common = ["--url", live_server.url, "--token", token, "--log-key", log_key]
    witnesses = ["--witness-key", vkeys["w1.test"], "--witness-key", vkeys["w2.test"]]
    assert main(["inclusion", *common, *witnesses, "--cosignatures", "1", "--index", "2"]) == 0
    assert "1 of 2 configured witnesses cosigned tree size 5 (w1.test); 1 required" in (
        capsys.readouterr().out
    )
    assert main(["inclusion", *common, *witnesses, "--index", "2"]) == 1
    assert "[FAIL] 1 of 2 configured witnesses" in capsys.readouterr().out
    other_log = ed25519_key("another/log", PUBLIC_KEY).vkey
    args = ["--url", live_server.url, "--token", token, "--log-key", other_log, "--index", "2"]
    assert main(["inclusion", *args]) == 1
    assert "not 'another/log'" in capsys.readouterr().out
