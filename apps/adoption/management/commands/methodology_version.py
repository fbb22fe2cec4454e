"""``python manage.py methodology_version …``: propose, sign, adopt and retire methodology
versions (docs/adoption.md).

    keygen --name NAME --out FILE        a member's Ed25519 key: the private seed to FILE
                                         (mode 0600, base64), its verifier key on stdout
    propose LABEL [--parameters JSON] [--description TEXT]
                                         this engine + a parameter set; runs as a preview
    record LABEL [--text]                the adoption record (signed note), or its text only
    sign --key-file FILE --name NAME (LABEL | --statement-file FILE)
                                         a member's signature line, made offline from the
                                         record's text: paste or upload it
    add-signature LABEL LINE             store a member's line (checked against CM_COALITION_KEYS)
    retire LABEL --reason TEXT
    list [--json]                        versions, status, signers
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.adoption.models import MethodologyVersion
from apps.adoption.selectors import (
    coalition,
    version_current,
    version_list,
    version_record,
    version_signers,
    version_status,
)
from apps.adoption.services import (
    AdoptionError,
    methodology_version_propose,
    methodology_version_retire,
    methodology_version_sign,
)
from verifier.adoption import sign_adoption
from verifier.errors import FormatError
from verifier.note import ed25519_key, raw_public_key


def read_private_key(path: str) -> Ed25519PrivateKey:
    """A member's private key file: the base64 of the 32-byte Ed25519 seed (RFC 8032)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read the key file {path}: {exc}") from None
    try:
        seed = base64.b64decode(text, validate=True)
    except ValueError:
        raise CommandError(f"{path}: not base64") from None
    if len(seed) != 32:
        raise CommandError(f"{path}: the base64 of {len(seed)} bytes, not a 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def write_private_key(path: Path) -> Ed25519PrivateKey:
    seed = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(seed).decode("ascii") + "\n")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _version(label: str) -> MethodologyVersion:
    version = version_list().filter(label=label).first()
    if version is None:
        known = ", ".join(MethodologyVersion.objects.values_list("label", flat=True)) or "none"
        raise CommandError(f"no methodology version {label!r} (known: {known})")
    return version


class Command(BaseCommand):
    help = "Propose, sign, adopt and retire methodology versions (docs/adoption.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("keygen", help="make a member key")
        p.add_argument("--name", required=True, help="the member's key name, e.g. member-a.example")
        p.add_argument("--out", required=True, help="file for the private key (must not exist)")
        p = sub.add_parser("propose", help="propose this engine + a parameter set as a version")
        p.add_argument("label")
        p.add_argument("--parameters", default="{}", help='JSON, e.g. {"cbam.default": {…}}')
        p.add_argument("--description", default="")
        p = sub.add_parser("record", help="print a version's adoption record")
        p.add_argument("label")
        p.add_argument("--text", action="store_true", help="only the text members sign")
        p = sub.add_parser("sign", help="sign a record's text with a member key (offline)")
        p.add_argument("label", nargs="?")
        p.add_argument("--statement-file", help="the record's text, as `record --text` printed it")
        p.add_argument("--key-file", required=True)
        p.add_argument("--name", required=True, help="the member key's name")
        p = sub.add_parser("add-signature", help="store a member's signature line")
        p.add_argument("label")
        p.add_argument("line")
        p = sub.add_parser("retire", help="retire a version")
        p.add_argument("label")
        p.add_argument("--reason", required=True)
        p = sub.add_parser("list", help="versions, status and signers")
        p.add_argument("--json", action="store_true")

    def handle(self, *args, **options) -> None:
        getattr(self, "do_" + options["action"].replace("-", "_"))(options)

    def do_keygen(self, options: dict) -> None:
        try:
            key = write_private_key(Path(options["out"]))
        except FileExistsError:
            raise CommandError(f"{options['out']} exists: a key is never overwritten") from None
        try:
            vkey = ed25519_key(options["name"], raw_public_key(key)).vkey
        except FormatError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(vkey)

    def do_propose(self, options: dict) -> None:
        try:
            parameters = json.loads(options["parameters"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--parameters is not JSON: {exc}") from None
        try:
            version = methodology_version_propose(
                label=options["label"], parameters=parameters, description=options["description"]
            )
        except AdoptionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"proposed {version.label} {version.digest} (preview until adopted)")
        self.stdout.write(version.statement, ending="")

    def do_record(self, options: dict) -> None:
        version = _version(options["label"])
        text = version.statement if options["text"] else version_record(version)
        self.stdout.write(text, ending="")

    def do_sign(self, options: dict) -> None:
        if options["statement_file"]:
            try:
                text = Path(options["statement_file"]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {options['statement_file']}: {exc}") from None
        elif options["label"]:
            text = _version(options["label"]).statement
        else:
            raise CommandError("give the version's LABEL or --statement-file")
        key = read_private_key(options["key_file"])
        try:
            self.stdout.write(sign_adoption(key, options["name"], text))
        except FormatError as exc:
            raise CommandError(str(exc)) from None

    def do_add_signature(self, options: dict) -> None:
        version = _version(options["label"])
        try:
            signature = methodology_version_sign(version=version, line=options["line"])
        except AdoptionError as exc:
            raise CommandError(str(exc)) from None
        version.refresh_from_db()
        members = coalition()
        signers = version_signers(version, members)
        self.stdout.write(
            f"{signature.signer} signed {version.label}: {len(signers)} of {members.threshold} "
            f"required ({', '.join(signers)}); {version_status(version, members)}"
        )

    def do_retire(self, options: dict) -> None:
        try:
            version = methodology_version_retire(
                version=_version(options["label"]), reason=options["reason"]
            )
        except AdoptionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"retired {version.label}")

    def do_list(self, options: dict) -> None:
        members = coalition()
        current = version_current().version
        rows = [
            {
                "label": v.label,
                "digest": v.digest,
                "status": version_status(v, members),
                "current": current is not None and current.pk == v.pk,
                "signers": version_signers(v, members),
                "parameters": v.manifest.get("parameters", {}),
            }
            for v in version_list()
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for r in rows:
            mark = " (current)" if r["current"] else ""
            self.stdout.write(
                f"{r['label']}\t{r['status']}{mark}\t{r['digest'][:12]}\t"
                f"{', '.join(r['signers']) or '-'}"
            )
