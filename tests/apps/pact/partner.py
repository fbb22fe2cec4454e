"""A partner's PACT host, served locally: its ``/auth/token`` and ``/3/events`` as the v3
specification describes them, recording every event it is sent.

It stands in for a data recipient's host system under ``/partner`` (its subpath), so the
platform must find the token endpoint the spec's way (``<subpath>/auth/token``).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID, CLIENT_SECRET, TOKEN = "carbon-manifest", "s3cret:with/odd+chars", "partner-token"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Partner:
    host: str = ""
    port: int = 0
    received: list[Received] = field(default_factory=list)
    #: Statuses to answer the next events with (then 200): a partner that is down.
    failures: list[int] = field(default_factory=list)
    tokens_issued: int = 0

    @property
    def events_url(self) -> str:
        return f"http://{self.host}:{self.port}/partner/3/events"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


def _handler(partner: Partner, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, document: dict | None = None) -> None:
            body = json.dumps(document).encode() if document is not None else b""
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/partner/auth/token":
                # RFC 6749 §2.3.1: the id and secret are form-urlencoded before Base64.
                expected = "carbon-manifest:s3cret%3Awith%2Fodd%2Bchars"
                given = self.headers.get("Authorization", "")
                if given != "Basic " + base64.b64encode(expected.encode()).decode():
                    self._reply(401, {"error": "invalid_client"})
                    return
                if body != b"grant_type=client_credentials":
                    self._reply(400, {"error": "invalid_request"})
                    return
                with lock:
                    partner.tokens_issued += 1
                self._reply(200, {"access_token": TOKEN, "token_type": "Bearer"})
            elif self.path == "/partner/3/events":
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._reply(400, {"code": "BadRequest", "message": "Invalid token provided"})
                    return
                with lock:
                    partner.received.append(Received(self.path, dict(self.headers), body))
                    status = partner.failures.pop(0) if partner.failures else 200
                self._reply(status)
            else:
                self._reply(404, {"code": "NotFound", "message": self.path})

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


class PartnerServer:
    def __init__(self) -> None:
        self.partner = Partner()
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", 0), _handler(self.partner, threading.Lock())
        )
        self.partner.host, self.partner.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Partner:
        self.thread.start()
        return self.partner

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
