"""``python manage.py pact_client_create NAME [--json]``: register a PACT data recipient.

Prints its ``client_id`` and secret (shown this once; only a SHA-256 is stored), for
``POST /pact/auth/token`` with HTTP Basic ``client_id:secret``.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from apps.pact.services import pact_client_create


class Command(BaseCommand):
    help = "Create a PACT OAuth2 client (data recipient) and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the client is, e.g. 'Ministry of Trade, IN'")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, name: str, as_json: bool = False, **options):
        client, secret = pact_client_create(name=name)
        if as_json:
            document = {"name": client.name, "client_id": client.client_id, "secret": secret}
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(f"client_id: {client.client_id}\nsecret:    {secret}")
        self.stdout.write("(the secret is not stored in clear: keep it now)")
