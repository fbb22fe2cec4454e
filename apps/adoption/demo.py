"""This area's part of ``manage.py demo``: a coalition of three members that adopted the
current methodology version 2 of 3, and a newer version in preview (docs/adoption.md).

``setup`` runs before any figure is computed: without CM_COALITION_KEYS it makes three
member keys in ``<VAR_DIR>/demo/coalition/`` (each member would keep its own; the demo
plays all three), configures them for this process with a threshold of 2, proposes the
engine installed here as version 2026.1 and signs it with members A and B. ``run`` (a
demo step, after the pipeline) proposes 2026.2, a parameter set that leaves out the
default values' mark-up, as a preview, and prints what an auditor runs to check."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from apps.adoption.management.commands.methodology_version import (
    read_private_key,
    write_private_key,
)
from apps.adoption.models import MethodologyVersion
from apps.adoption.selectors import coalition, version_list, version_signers, version_status
from apps.adoption.services import methodology_version_propose, methodology_version_sign
from methodologies.versions import version_digest, version_manifest
from verifier.adoption import sign_adoption
from verifier.note import ed25519_key, raw_public_key

MEMBERS = ("member-a.demo", "member-b.demo", "member-c.demo")
THRESHOLD = 2
NEWER = {"cbam.default": {"without_markup": True}}


def _dir() -> Path:
    path = Path(settings.VAR_DIR) / "demo" / "coalition"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key_file(name: str) -> Path:
    path = _dir() / f"{name}.key"
    if not path.exists():
        write_private_key(path)
    return path


def _propose(label: str, parameters: dict, description: str) -> MethodologyVersion:
    digest = version_digest(version_manifest(parameters))
    existing = MethodologyVersion.objects.filter(digest=digest).first()
    if existing is not None:
        return existing
    if MethodologyVersion.objects.filter(label=label).exists():  # the engine changed since
        label = f"{label}-{digest[:8]}"
    return methodology_version_propose(label=label, parameters=parameters, description=description)


def setup(*, command) -> None:
    out = command.stdout
    if not settings.COALITION_KEYS:
        vkeys = [
            ed25519_key(n, raw_public_key(read_private_key(str(_key_file(n))))).vkey
            for n in MEMBERS
        ]
        settings.COALITION_KEYS = ",".join(vkeys)
        settings.ADOPTION_THRESHOLD = THRESHOLD
        (_dir() / "coalition.json").write_text(
            json.dumps({"member_keys": vkeys, "threshold": THRESHOLD}, indent=2) + "\n"
        )
        out.write(
            f"Coalition: {len(MEMBERS)} member keys made in {_dir()} (CM_COALITION_KEYS "
            f"unset), {THRESHOLD} of {len(MEMBERS)} required to adopt a version."
        )
    current = _propose(
        "2026.1", {}, "The engine as installed; Annex I of IR 2025/2621 as published."
    )
    members = coalition()
    for name in MEMBERS[:THRESHOLD]:
        key_file = _dir() / f"{name}.key"
        if key_file.exists() and name not in version_signers(current, members):
            line = sign_adoption(read_private_key(str(key_file)), name, current.statement)
            methodology_version_sign(version=current, line=line)
    current.refresh_from_db()
    out.write(
        f"Methodology version {current.label} ({current.digest[:12]}…): "
        f"{version_status(current, members)}, signed by "
        f"{', '.join(version_signers(current, members)) or 'nobody yet'}"
    )


def run(*, command, number: int) -> None:
    command._heading(f"{number}. Methodology versions adopted together")
    out = command.stdout
    _propose(
        "2026.2",
        NEWER,
        "Proposal: official default values without the year's mark-up (a penalty, not "
        "evidence). In preview until two members sign.",
    )
    members = coalition()
    for v in version_list():
        out.write(
            f"  {v.label}\t{version_status(v, members)}\t{v.digest[:12]}…\t"
            f"signed by {', '.join(version_signers(v, members)) or 'nobody'}"
        )
    config = _dir() / "coalition.json"
    out.write(
        "Officials: http://127.0.0.1:8000/methodology-versions/ (who signed what and when; "
        "compare 2026.1 with 2026.2 on a sample of shipments).\n"
        "A member signs offline and hands over the line:\n"
        f"  python manage.py methodology_version sign 2026.2 --key-file {_dir()}/"
        f"{MEMBERS[2]}.key --name {MEMBERS[2]}\n"
        "An auditor checks a record, or a downloaded trace, with its own copy of the keys:\n"
        f"  curl -s http://127.0.0.1:8000/api/v1/methodology-versions/2026.1/record "
        f"-H 'Authorization: Token TOKEN' > record.note\n"
        f"  python -m verifier adoption record.note --coalition {config}\n"
        f"  python -m methodologies verify trace.json --coalition {config} --require-adopted"
    )
