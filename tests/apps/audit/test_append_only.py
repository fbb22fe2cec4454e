"""The audit tables are append-only in PostgreSQL, and a superuser who bypasses the
triggers to rewrite history is caught by ``verify_audit_log`` against a saved checkpoint,
and by the signer, which signs nothing more over it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.services import checkpoint_ensure
from tests.apps.audit.helpers import append_events
from tests.conftest import ROOT, database_url_of

pytestmark = pytest.mark.services


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'rewritten' WHERE index = 1",
        "UPDATE audit_auditevent SET data = '\\x00'::bytea",
        "DELETE FROM audit_auditevent WHERE index = 2",
        "TRUNCATE audit_auditevent CASCADE",
        "TRUNCATE accounts_user CASCADE",  # cascades to the log through the actor key
        "UPDATE audit_checkpoint SET tree_size = 0",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE audit_checkpoint CASCADE",  # would reach the cosignatures too
        "TRUNCATE audit_cosignature",
    ],
)
def test_sql_cannot_change_or_remove_audit_rows(postgres, sql):
    append_events(3)
    checkpoint_ensure()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            # Test databases may be reset between tests (apps.audit.apps); not this one.
            cursor.execute("SET LOCAL carbon_manifest.audit_reset = 'off'")
            cursor.execute(sql)
    assert AuditEvent.objects.count() == 3
    assert Checkpoint.objects.get().tree_size == 3


def superuser_rewrites(index: int, *, data: bytes | None, leaf_hash: str | None) -> None:
    """Rewrite an event as a superuser would: with triggers off for the transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        if data is not None:
            cursor.execute("UPDATE audit_auditevent SET data = %s WHERE index = %s", [data, index])
        if leaf_hash is not None:
            cursor.execute(
                "UPDATE audit_auditevent SET leaf_hash = %s WHERE index = %s", [leaf_hash, index]
            )


def forged(index: int) -> bytes:
    event = AuditEvent.objects.get(index=index)
    return bytes(event.data).replace(b'"action":"', b'"action":"forged-')


def verify(path) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit_log", checkpoint=str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def saved_checkpoint(postgres, tmp_path):
    """20 events, a checkpoint saved to a file, 10 more events and a newer checkpoint."""
    append_events(20)
    path = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", output=str(path), stdout=StringIO())
    append_events(10, seed=1)
    call_command("audit_checkpoint", stdout=StringIO())
    assert json.loads(path.read_text())["tree_size"] == 20
    return path


def test_an_untouched_log_verifies_against_a_saved_checkpoint(saved_checkpoint):
    status, report = verify(saved_checkpoint)
    assert status == 0, report
    assert "[FAIL]" not in report
    assert "consistency 20 → 30" in report


@pytest.mark.parametrize(
    ("index", "change"),
    [
        (5, "data and leaf hash"),  # consistent forgery before the checkpoint: root differs
        (5, "data"),
        (5, "leaf hash"),
        (25, "data and leaf hash"),  # after the checkpoint: consistency to the latest fails
    ],
)
def test_a_superuser_rewrite_is_caught(saved_checkpoint, index, change):
    data = forged(index)
    superuser_rewrites(
        index,
        data=data if "data" in change else None,
        leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest() if "leaf" in change else None,
    )
    status, report = verify(saved_checkpoint)
    assert status == 1, report
    assert "[FAIL]" in report
    if change == "data and leaf hash" and index < 20:
        assert "[FAIL] root at tree size 20" in report
    if change == "data and leaf hash":
        assert "[FAIL] consistency 20" in report


def test_a_modified_saved_checkpoint_fails_its_signature(saved_checkpoint):
    document = json.loads(saved_checkpoint.read_text())
    document["tree_size"] = 19  # the signed body changes: the signature no longer verifies
    saved_checkpoint.write_text(json.dumps(document))
    status, report = verify(saved_checkpoint)
    assert status == 1
    assert "[FAIL] signature" in report


def test_the_command_exits_1_on_a_mismatch_and_0_when_all_is_well(saved_checkpoint):
    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                "manage.py",
                "verify_audit_log",
                "--checkpoint",
                str(saved_checkpoint),
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url_of(connection)},
            capture_output=True,
            text=True,
            timeout=120,
        )

    good = run()
    assert good.returncode == 0, good.stdout + good.stderr
    superuser_rewrites(3, data=forged(3), leaf_hash=None)
    bad = run()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "leaf hashes differ from their data at index 3" in bad.stdout


@pytest.mark.parametrize("damage", ["rewritten", "truncated"])
def test_nothing_is_signed_over_a_damaged_log(saved_checkpoint, users, damage):
    """The signer checks that the log still extends its last checkpoint: a history changed
    behind the triggers never gets a fresh signature, from the command or the API."""
    if damage == "rewritten":
        data = forged(5)
        superuser_rewrites(5, data=data, leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest())
        append_events(1, seed=2)  # the log grew: a new checkpoint would be due
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM audit_auditevent WHERE index >= 25")
    signed = Checkpoint.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("audit_checkpoint", stdout=StringIO())
    assert refused.value.returncode == 1
    assert "does not extend the checkpoint signed at tree size 30" in str(refused.value)
    auditor = APIClient()
    auditor.force_authenticate(users["auditor"])
    response = auditor.get("/api/v1/audit/checkpoint")
    assert response.status_code == 409 and "refusing to sign" in response.json()["detail"]
    assert Checkpoint.objects.count() == signed
    assert verify(saved_checkpoint)[0] == 1
