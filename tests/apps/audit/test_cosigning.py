"""The log's side of witnessing against local witnesses that speak tlog-witness: a 409
with the witness's size is resent from it, an unreachable or failing witness leaves the
task to retry, and a cosignature that does not verify with the configured key is not
stored (apps/audit/cosigning.py)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from apps.audit.cosigning import WitnessUnavailable, checkpoint_cosign
from apps.audit.models import Cosignature
from apps.audit.services import checkpoint_ensure
from apps.audit.tasks import audit_witness_task
from tests.apps.audit.helpers import append_events
from verifier.note import (
    NoteSignature,
    cosign,
    cosignature_key,
    parse_add_checkpoint,
    parse_checkpoint_text,
    parse_note,
    raw_public_key,
)

pytestmark = pytest.mark.services

SEED = hashlib.sha256(b"local witness").digest()
PRIVATE = Ed25519PrivateKey.from_private_bytes(SEED)
KEY = cosignature_key("local.test/witness", raw_public_key(PRIVATE))
VKEY = KEY.vkey


class Witness(BaseHTTPRequestHandler):
    """Holds ``held`` as the size it last cosigned; answers what ``mode`` says."""

    held = 0
    mode = "ok"
    seen: list[tuple[int, int, int]] = []  # (old, proof length, checkpoint size)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = parse_add_checkpoint(body)
        note = parse_note(request.note)
        size = parse_checkpoint_text(note.text).tree_size
        Witness.seen.append((request.old_size, len(request.proof), size))
        if Witness.mode == "fail":
            return self._answer(503, "text/plain", "busy\n")
        if request.old_size != Witness.held:
            return self._answer(409, "text/x.tlog.size", f"{Witness.held}\n")
        signer = PRIVATE if Witness.mode == "ok" else Ed25519PrivateKey.generate()
        sig = cosign(signer, "local.test/witness", note.text, int(time.time()))
        if Witness.mode == "bad-signature":  # the configured key's ID on another's signature
            sig = NoteSignature(sig.name, KEY.key_id, sig.signature)
        line = sig.line
        Witness.held = size
        return self._answer(200, "text/plain; charset=utf-8", line)

    def _answer(self, status: int, content_type: str, text: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def witness(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Witness)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Witness.held, Witness.mode, Witness.seen = 0, "ok", []
    settings.WITNESSES = f"{VKEY} http://127.0.0.1:{server.server_port}/witness"
    yield Witness
    server.shutdown()
    server.server_close()


def test_a_409_is_resent_from_the_witness_size_with_a_proof(postgres, witness):
    append_events(5)
    first = checkpoint_ensure()
    witness.held = 5  # it saw size 5 elsewhere; this log never asked it
    append_events(3, seed=1)
    second = checkpoint_ensure()
    assert checkpoint_cosign(checkpoint=second) == {"local.test/witness": "cosigned"}
    # Tried from 0, told 5, resent from 5 with PROOF(5, D[8]) (RFC 6962 §2.1.2, by hand:
    # SUBPROOF(1, D[4:8], false) + MTH(D[0:4]) = [D4, D5, MTH(D[6:8]), MTH(D[0:4])]).
    assert [(old, n) for old, n, _ in witness.seen] == [(0, 0), (5, 4)]
    assert Cosignature.objects.get().checkpoint == second
    # Safe twice: nothing asked, nothing stored.
    assert checkpoint_cosign(checkpoint=second) == {"local.test/witness": "already"}
    assert checkpoint_cosign(checkpoint=first) == {"local.test/witness": "superseded"}
    assert len(witness.seen) == 2 and Cosignature.objects.count() == 1


def test_an_unavailable_witness_leaves_the_task_to_retry(postgres, witness, settings):
    append_events(2)
    checkpoint = checkpoint_ensure()
    witness.mode = "fail"
    with pytest.raises(WitnessUnavailable, match="503"):
        checkpoint_cosign(checkpoint=checkpoint)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings.WITNESSES = f"{VKEY} http://127.0.0.1:{closed}/witness"
    with pytest.raises(WitnessUnavailable, match="Connection refused"):
        checkpoint_cosign(checkpoint=checkpoint)
    assert audit_witness_task.autoretry_for == (WitnessUnavailable,)
    assert not Cosignature.objects.exists()


def test_a_cosignature_by_another_key_is_not_stored(postgres, witness):
    append_events(2)
    checkpoint = checkpoint_ensure()
    witness.mode = "wrong-key"
    outcome = checkpoint_cosign(checkpoint=checkpoint)["local.test/witness"]
    assert outcome == "refused: local.test/witness answered no cosignature by its key"
    witness.mode, witness.held = "bad-signature", 0
    outcome = checkpoint_cosign(checkpoint=checkpoint)["local.test/witness"]
    assert outcome == (
        "refused: local.test/witness: the cosignature by local.test/witness does not verify"
    )
    assert not Cosignature.objects.exists()
