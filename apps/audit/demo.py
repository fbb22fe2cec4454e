"""This area's part of ``manage.py demo``: the audit log as a member of a coalition.

Prints this instance's log and witness keys (what another member needs to witness it, or
to be witnessed by it), collects cosignatures when CM_WITNESSES names witnesses, shows
the checkpoint as a C2SP signed note, and the verifier command that trusts only the
keys it is given (docs/integrity.md §4)."""

from __future__ import annotations

from django.conf import settings

from apps.audit.cosigning import WitnessUnavailable, checkpoint_cosign, configured_witnesses
from apps.audit.selectors import checkpoint_note
from apps.audit.services import checkpoint_ensure
from apps.audit.signing import public_key_bytes, signing_key
from apps.audit.witness import witness_key, witnessed_logs
from verifier.note import ed25519_key

BASE = "http://127.0.0.1:8000"


def run(*, command, number: int) -> None:
    command._heading(f"{number}. A witnessed audit log (C2SP tlog-witness)")
    out = command.stdout
    checkpoint = checkpoint_ensure()
    log_vkey = ed25519_key(settings.AUDIT_LOG_ORIGIN, public_key_bytes(signing_key())).vkey
    out.write(
        f"This instance's log key (for the witnesses' CM_WITNESS_LOGS, and auditors):\n"
        f"  {log_vkey}\n"
        f"Its witness key (for other members' CM_WITNESSES, with {BASE}/witness):\n"
        f"  {witness_key().vkey}\n"
        f"It witnesses {len(witnessed_logs())} other log(s) (CM_WITNESS_LOGS)."
    )
    witnesses = configured_witnesses()
    if witnesses:
        try:
            outcomes = checkpoint_cosign(checkpoint=checkpoint)
        except WitnessUnavailable as exc:
            outcomes = {"unavailable": str(exc)}
        for name, outcome in outcomes.items():
            out.write(f"  witness {name}: {outcome}")
    else:
        out.write(
            "No witnesses configured (CM_WITNESSES): the checkpoint carries the log's "
            "signature only. `python manage.py audit_keys` prints the keys to exchange."
        )
    note = checkpoint_note(checkpoint).render()
    out.write("The latest checkpoint as a signed note (GET /api/v1/audit/checkpoint, 'note'):")
    out.write("".join(f"  {line}\n" for line in note.splitlines()), ending="")
    witness_args = "".join(f" --witness-key '{w.key.vkey}'" for w in witnesses)
    out.write(
        f"Check it with keys from your own configuration, never the server's:\n"
        f"  python -m verifier inclusion --url {BASE} --token TOKEN --index 0 "
        f"--log-key '{log_vkey}'{witness_args}"
        + (f" --cosignatures {len(witnesses)}" if witnesses else "")
    )
