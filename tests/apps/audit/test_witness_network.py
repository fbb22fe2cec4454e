"""Three instances witness each other's audit logs over HTTP (C2SP tlog-witness).

Each member runs ``manage.py runserver --noreload`` on its own port with its own
PostgreSQL database (migrated once, then copied as a template) and var dir. Member A's
and B's logs are witnessed by the two others. Normal growth is cosigned; a split view
(two checkpoints of one size signed by A's key) and a rewritten log are refused by every
witness, and each refusal is an event in that witness's own audit log, carrying the
refused note. The cosignatures are checked here with ``cryptography`` directly, from the
byte layout of C2SP tlog-cosignature (not with the platform's ``verifier.note``).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import ROOT, database_from_template, service_missing

MEMBERS = ("a", "b", "c")
EM_DASH = "\u2014"


def _pub(seed: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_id(name: str, alg: int, pub: bytes) -> bytes:
    # C2SP signed-note: SHA-256(name || "\n" || algorithm byte || public key)[:4]
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + pub).digest()[:4]


def _vkey(name: str, alg: int, pub: bytes) -> str:
    raw = base64.b64encode(bytes([alg]) + pub).decode()
    return f"{name}+{_key_id(name, alg, pub).hex()}+{raw}"


class LogOnly:
    """A member known only by its log key (it runs no instance here)."""

    def __init__(self, letter: str) -> None:
        self.log_seed = hashlib.sha256(f"log {letter}".encode()).digest()
        self.origin = f"member-{letter}.test/audit-log"
        self.log_vkey = _vkey(self.origin, 0x01, _pub(self.log_seed))


LOG_D = LogOnly("d")


class Member:
    def __init__(self, letter: str, tmp: Path, database_url: str) -> None:
        self.letter = letter
        self.log_seed = hashlib.sha256(f"log {letter}".encode()).digest()
        self.witness_seed = hashlib.sha256(f"witness {letter}".encode()).digest()
        self.origin = f"member-{letter}.test/audit-log"
        self.witness_name = f"member-{letter}.test/witness"
        self.log_vkey = _vkey(self.origin, 0x01, _pub(self.log_seed))
        self.witness_vkey = _vkey(self.witness_name, 0x04, _pub(self.witness_seed))
        self.database_url = database_url
        self.var = tmp / letter
        self.var.mkdir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def env(self, others: list[Member]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CM_", "CELERY"))}
        env.update(
            DATABASE_URL=self.database_url,
            CM_VAR_DIR=str(self.var),
            SECRET_KEY="witness-test-" + self.letter,
            CM_AUDIT_SIGNING_KEY=base64.b64encode(self.log_seed).decode(),
            CM_WITNESS_SIGNING_KEY=base64.b64encode(self.witness_seed).decode(),
            CM_AUDIT_LOG_ORIGIN=self.origin,
            CM_WITNESS_NAME=self.witness_name,
            CM_WITNESS_LOGS=",".join([*(o.log_vkey for o in others), LOG_D.log_vkey]),
            CM_WITNESSES=",".join(f"{o.witness_vkey} {o.url}/witness" for o in others),
        )
        return env

    def manage(self, others: list[Member], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(others),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, others: list[Member]) -> None:
        log = (self.var / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env(others),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError((self.var / "server.log").read_text()[-3000:])
            try:
                status, _, _ = post(self, b"")
                if status == 400:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"member {self.letter} not ready in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def post(member: Member, body: bytes) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", member.port, timeout=30)
    try:
        connection.request("POST", "/witness/add-checkpoint", body=body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def _admin_connect(database_url: str, dbname: str):
    import psycopg

    parsed = urlparse(database_url)
    return psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname=dbname,
        autocommit=True,
    )


#: The three members are built once for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("witness_network")


@pytest.fixture(scope="module")
def network(tmp_path_factory, django_db_setup):
    base = os.environ.get("DATABASE_URL", "")
    if urlparse(base).scheme not in ("postgres", "postgresql"):
        service_missing("needs PostgreSQL (DATABASE_URL) for three member databases")
    # Databases of their own per xdist worker (the module's tests run on one worker, its
    # group, but another run may share the server).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    prefix = urlparse(base).path.strip("/") + (f"_{worker}" if worker else "") + "_member_"
    tmp = tmp_path_factory.mktemp("witness-network")
    members = []
    with _admin_connect(base, "postgres") as admin:
        for letter in MEMBERS:
            admin.execute(f'DROP DATABASE IF EXISTS "{prefix}{letter}"')
        first_url = base.rsplit("/", 1)[0] + f"/{prefix}a"
        members.append(Member("a", tmp, first_url))
        # A copy of the migrated template the test databases are copied from (the same
        # migrations), else migrated here (tests/conftest.py, docs/testing.md).
        if not database_from_template(f"{prefix}a"):
            admin.execute(f'CREATE DATABASE "{prefix}a"')
            done = members[0].manage([], "migrate", "--no-input", "-v0")
            assert done.returncode == 0, done.stderr[-3000:]
        for letter in MEMBERS[1:]:
            admin.execute(f'CREATE DATABASE "{prefix}{letter}" TEMPLATE "{prefix}a"')
            members.append(Member(letter, tmp, base.rsplit("/", 1)[0] + f"/{prefix}{letter}"))
    for member in members:
        member.start([o for o in members if o is not member])
    try:
        for member in members:
            member.wait_ready()
        yield {m.letter: m for m in members}
    finally:
        for member in members:
            member.stop()
        with _admin_connect(base, "postgres") as admin:
            for letter in MEMBERS:
                admin.execute(f'DROP DATABASE IF EXISTS "{prefix}{letter}" WITH (FORCE)')


def others(network, member: Member) -> list[Member]:
    return [m for m in network.values() if m is not member]


APPEND = (
    "from django.db import transaction\n"
    "from apps.audit.services import audit_append\n"
    "with transaction.atomic():\n"
    "    for n in range({n}):\n"
    "        audit_append(actor=None, action='test', object_type='test', object_id=str(n))\n"
)


CHECKPOINT = "from django.core.management import call_command\ncall_command({args})\n"


def checkpoint(
    network, member: Member, *, witness: bool = True, append: int = 0
) -> tuple[dict, str, int]:
    """``manage.py audit_checkpoint [--witness]`` on ``member``; with ``append``, that many
    events are appended first, in the same process (one Django start instead of two: each
    costs seconds on a loaded machine, docs/testing.md)."""
    args = ("audit_checkpoint", "--witness") if witness else ("audit_checkpoint",)
    if append:
        code = APPEND.format(n=append) + CHECKPOINT.format(args=", ".join(map(repr, args)))
        done = member.manage(others(network, member), "shell", "--no-imports", "-c", code)
    else:
        done = member.manage(others(network, member), *args)
    assert done.stdout.strip(), done.stderr[-3000:]
    return json.loads(done.stdout), done.stderr, done.returncode


def cosigned_by(note: str, witness: Member) -> int:
    """Check ``witness``'s cosignature/v1 line on ``note`` from the spec's byte layout
    (tlog-cosignature.md): key ID SHA-256(name || "\\n" || 0x04 || key)[:4], then the
    8-byte big-endian time, then Ed25519 over "cosignature/v1\\ntime <t>\\n" || body.
    Returns the time."""
    text, _, signatures = note.partition("\n\n")
    text += "\n"
    for line in signatures.splitlines():
        dash, name, blob = line.split(" ")
        if dash != EM_DASH or name != witness.witness_name:
            continue
        raw = base64.b64decode(blob)
        assert raw[:4] == _key_id(witness.witness_name, 0x04, _pub(witness.witness_seed))
        assert len(raw) == 4 + 8 + 64
        timestamp = int.from_bytes(raw[4:12], "big")
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
        Ed25519PrivateKey.from_private_bytes(witness.witness_seed).public_key().verify(
            raw[12:], message
        )
        return timestamp
    raise AssertionError(f"no cosignature by {witness.witness_name} in {note!r}")


def forged_note(member: Member | LogOnly, size: int, root: bytes) -> str:
    """A checkpoint note of ``member``'s log signed with its real key: what a member that
    forks its log would show to one witness."""
    stamp = "2026-12-07T00:00:00Z"
    text = f"{member.origin}\n{size}\n{base64.b64encode(root).decode()}\n{stamp}\n"
    key = Ed25519PrivateKey.from_private_bytes(member.log_seed)
    key_id = _key_id(member.origin, 0x01, _pub(member.log_seed))
    signature = base64.b64encode(key_id + key.sign(text.encode())).decode()
    return f"{text}\n{EM_DASH} {member.origin} {signature}\n"


def refusals(member: Member) -> list[dict]:
    with _admin_connect(member.database_url, urlparse(member.database_url).path[1:]) as db:
        rows = db.execute(
            "SELECT data FROM audit_auditevent WHERE action = 'witness.refuse' ORDER BY index"
        ).fetchall()
    return [json.loads(bytes(row[0]))["payload"] for row in rows]


def witnessed_size(witness: Member, origin: str) -> int:
    with _admin_connect(witness.database_url, urlparse(witness.database_url).path[1:]) as db:
        row = db.execute(
            "SELECT tree_size FROM audit_witnessedlog WHERE origin = %s", [origin]
        ).fetchone()
    return row[0] if row else 0


def test_members_cosign_growth_and_refuse_a_split_view(network):
    a, b, c = network["a"], network["b"], network["c"]

    # C sees A's first checkpoint before A asks it (old 0): A's own request then meets
    # 409 text/x.tlog.size "3" and is resent with the proof from 3.
    first, _, status = checkpoint(network, a, witness=False, append=3)
    assert status == 0 and first["tree_size"] == 3
    body = f"old 0\n\n{first['note']}".encode()
    assert post(c, body)[0] == 200

    doc, stderr, status = checkpoint(network, a, append=4)
    assert status == 0, stderr
    assert doc["tree_size"] == 7
    assert f"{b.witness_name}: cosigned" in stderr and f"{c.witness_name}: cosigned" in stderr
    assert cosigned_by(doc["note"], b) > 1_700_000_000
    cosigned_by(doc["note"], c)
    assert witnessed_size(b, a.origin) == witnessed_size(c, a.origin) == 7
    # Asking again stores nothing new (one cosignature per checkpoint and witness).
    again, stderr, status = checkpoint(network, a)
    assert status == 0 and again["note"] == doc["note"] and stderr.count(": already") == 2

    # Normal growth: 7 → 12, cosigned with a real consistency proof.
    grown, stderr, status = checkpoint(network, a, append=5)
    assert status == 0, stderr
    assert grown["tree_size"] == 12
    cosigned_by(grown["note"], b)
    cosigned_by(grown["note"], c)
    # B's log is witnessed too, by A and C.
    b_doc, stderr, status = checkpoint(network, b, append=2)
    assert status == 0, stderr
    cosigned_by(b_doc["note"], a)
    cosigned_by(b_doc["note"], c)

    # A split view: another checkpoint of A's log at the cosigned size 12, signed by A.
    fork = forged_note(a, 12, hashlib.sha256(b"another history").digest())
    # A rewritten log: a larger tree whose "proof" does not lead from the cosigned root.
    rewrite = forged_note(a, 15, hashlib.sha256(b"rewritten").digest())
    bogus_proof = "".join(
        base64.b64encode(hashlib.sha256(bytes([i])).digest()).decode() + "\n" for i in range(3)
    )
    for witness in (b, c):
        status, _, text = post(witness, f"old 12\n\n{fork}".encode())
        assert status == 409 and "forked" in text
        assert post(witness, f"old 12\n{bogus_proof}\n{rewrite}".encode())[0] == 422
        assert witnessed_size(witness, a.origin) == 12
        refused = refusals(witness)
        assert [(r["status"], r["tree_size"]) for r in refused[-2:]] == [(409, 12), (422, 15)]
        assert refused[-2]["note"] == fork and refused[-2]["cosigned_size"] == 12
        assert refused[-2]["cosigned_root_hash"] == grown["root_hash"]

    # The auditor's verifier, with keys from its own configuration only.
    saved = Path(a.var) / "grown.note"
    saved.write_text(grown["note"], encoding="utf-8")
    keys = ["--log-key", a.log_vkey, "--witness-key", b.witness_vkey]
    keys += ["--witness-key", c.witness_vkey]
    assert verify("note", str(saved), *keys, "--cosignatures", "2").returncode == 0
    unknown = _vkey("elsewhere.test/witness", 0x04, _pub(bytes(32)))
    done = verify("note", str(saved), *keys, "--witness-key", unknown, "--cosignatures", "3")
    assert done.returncode == 1 and "2 of 3 configured witnesses" in done.stdout
    assert verify("note", str(saved)).returncode == 2  # no log key, no trust by default
    done = verify("note", str(saved), "--log-key", b.log_vkey)
    assert done.returncode == 1 and "member-a.test/audit-log" in done.stdout


def verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "verifier", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_the_witness_answers_as_the_spec_says(network):
    a, b = network["a"], network["b"]
    # A's log grew since (its witness cosigned B's checkpoint: an event in A's log).
    held = witnessed_size(b, a.origin)
    doc, stderr, _ = checkpoint(network, a)
    size, note = doc["tree_size"], doc["note"]  # with its cosignatures: they are ignored
    assert size > held and f"{b.witness_name}: cosigned" in stderr

    # Stale old size: 409, text/x.tlog.size, the size the witness holds.
    status, content_type, text = post(b, f"old {held}\n\n{note}".encode())
    assert (status, content_type.split(";")[0], text) == (409, "text/x.tlog.size", f"{size}\n")
    # The same checkpoint again: cosigned again (200, one cosignature line).
    status, _, text = post(b, f"old {size}\n\n{note}".encode())
    assert status == 200 and text.startswith(f"{EM_DASH} {b.witness_name} ")
    assert text.count("\n") == 1
    # Unknown origin 404; a body the log's key did not sign 403; malformed 400.
    stranger = forged_note(LOG_D, 1, hashlib.sha256(b"x").digest())
    unknown = stranger.replace(LOG_D.origin, "nobody.test/log")
    assert post(b, f"old 0\n\n{unknown}".encode())[0] == 404
    tampered = note.replace(f"\n{size}\n", f"\n{size + 1}\n", 1)
    assert post(b, f"old {size}\n\n{tampered}".encode())[0] == 403
    assert post(b, b"new 3\n\nnot a note")[0] == 400
    assert post(b, f"old {size}\nnot-base64!\n\n{note}".encode())[0] == 400
    # A smaller checkpoint than the old size the client claims (which is the witness's).
    smaller = forged_note(a, size - 1, hashlib.sha256(b"y").digest())
    assert post(b, f"old {size}\n\n{smaller}".encode())[0] == 400


def test_two_concurrent_first_checkpoints_cannot_both_be_cosigned(network):
    """Eight different checkpoints of a new member's log (D), all of size 5 from old 0,
    at once: the row lock and the compare-and-swap let exactly one through."""
    c = network["c"]
    notes = [forged_note(LOG_D, 5, hashlib.sha256(bytes([i])).digest()) for i in range(8)]
    results: list[int] = []

    def send(note: str) -> None:
        results.append(post(c, f"old 0\n\n{note}".encode())[0])

    threads = [threading.Thread(target=send, args=(n,)) for n in notes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 7
    assert witnessed_size(c, LOG_D.origin) == 5
