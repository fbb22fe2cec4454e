"""This area's part of ``manage.py demo``: a PACT data recipient, and the auditor's exports."""

from __future__ import annotations

from apps.accounts.models import User
from apps.accounts.services import api_token_create
from apps.estimates.models import Estimate
from apps.pact.services import pact_client_create

BASE = "http://127.0.0.1:8000"


def run(*, command, number: int) -> None:
    """Register a PACT client and print how to pull footprints and every trace."""
    command._heading(f"{number}. Auditors: PACT exchange, trace exports, recompute")
    client, secret = pact_client_create(name="Demo partner ministry")
    estimates = Estimate.objects.count()
    first = Estimate.objects.order_by("id").first()
    out = command.stdout
    out.write(
        f"PACT client (data recipient) '{client.name}': client_id {client.client_id}, "
        f"secret {secret}\n"
        f"  {estimates:,} estimates are published as PACT v3 ProductFootprints:\n"
        f"  PACT=$(curl -s -u '{client.client_id}:{secret}' -d grant_type=client_credentials "
        f"{BASE}/pact/auth/token | python3 -c 'import json,sys; "
        f'print(json.load(sys.stdin)["access_token"])\')\n'
        f'  curl -s -D - -H "Authorization: Bearer $PACT" '
        f"'{BASE}/pact/3/footprints?limit=2&geography=US'\n"
        f"  Asynchronous requests (POST /pact/3/events, CloudEvents) are answered at a "
        f"partner's own events endpoint:\n"
        f"  python manage.py pact_client_create NAME --events-url https://partner.example/3/events"
    )
    auditor = User.objects.filter(role=User.Role.AUDITOR).order_by("id").first()
    if auditor is None:
        return
    token, _ = api_token_create(user=auditor)
    out.write(
        f"Every trace of a filter as a zip with a SHA-256 manifest (auditor token {token}):\n"
        f"  curl -s -H 'Authorization: Token {token}' -o traces.zip "
        f"'{BASE}/api/v1/estimates/traces.zip?origin=US&cn_code=72'\n"
        f"  unzip -o traces.zip -d traces && (cd traces && sha256sum -c SHA256SUMS)\n"
        f"  for f in traces/traces/estimate-*.json; do .venv/bin/python -m methodologies "
        f'verify "$f" || break; done   # recompute each trace outside the platform\n'
        f"  python manage.py verify_estimates --origin US   # recompute in bulk, exit 1 on "
        f"any mismatch"
    )
    if first is not None:
        out.write(
            f"One trace flat: {BASE}/api/v1/estimates/{first.pk}/trace.csv and "
            f"{BASE}/api/v1/estimates/{first.pk}/trace.xlsx\n"
            f"  python -m verifier trace --url {BASE} --token {token} --estimate {first.pk} "
            f"--output trace.json --public-key {_log_public_key()}   # the trace is the one "
            f"the audit log recorded; the key is this log's own (python manage.py audit_keys)"
        )


def _log_public_key() -> str:
    """The log's public key (base64), as a member publishes it beside its witness key."""
    import base64

    from apps.audit.signing import public_key_bytes, signing_key

    return base64.b64encode(public_key_bytes(signing_key())).decode()
