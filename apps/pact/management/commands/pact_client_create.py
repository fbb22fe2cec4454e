"""``python manage.py pact_client_create NAME [--events-url URL …] [--json]``: register a PACT
data recipient.

Prints its ``client_id`` and secret (shown this once; only a SHA-256 is stored), for
``POST /pact/auth/token`` with HTTP Basic ``client_id:secret``. ``--events-url`` is the
partner's Action Events endpoint (``https://partner.example/3/events``), where answers to
its requests and PublishedEvents are posted; ``--events-client-id`` and
``--events-client-secret`` (or the environment variable ``CM_PACT_EVENTS_CLIENT_SECRET``,
which keeps it out of the shell history) are the credentials its host issued us.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.pact.services import pact_client_create


class Command(BaseCommand):
    help = "Create a PACT OAuth2 client (data recipient) and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the client is, e.g. 'Ministry of Trade, IN'")
        parser.add_argument("--events-url", default="", help="the partner's /3/events URL")
        parser.add_argument("--events-token-url", default="", help="default: <subpath>/auth/token")
        parser.add_argument("--events-client-id", default="", help="our id at the partner")
        parser.add_argument("--events-client-secret", default="", help="our secret there")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, name: str, as_json: bool = False, **options):
        events_secret = options["events_client_secret"] or settings.PACT_EVENTS_CLIENT_SECRET
        try:
            client, secret = pact_client_create(
                name=name,
                events_url=options["events_url"],
                events_token_url=options["events_token_url"],
                events_client_id=options["events_client_id"],
                events_client_secret=events_secret,
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if as_json:
            document = {"name": client.name, "client_id": client.client_id, "secret": secret}
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(f"client_id: {client.client_id}\nsecret:    {secret}")
        self.stdout.write("(the secret is not stored in clear: keep it now)")
