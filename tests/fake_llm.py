"""A local HTTP server that speaks the OpenAI chat-completions protocol, with scripted
answers, for the LLM extractor's tests (no network: docs/testing.md).

    with FakeLLM([ok({"values": [...]}), status(429, retry_after="2")]) as llm:
        config = LLMConfig(base_url=llm.base_url, model="fake-model", api_key="k")

Each request to ``POST /v1/chat/completions`` takes the next scripted :class:`Reply`
(the last one repeats); ``llm.requests`` records what the client sent (JSON body and
headers). A reply can sleep first (to provoke a client timeout) or send a body cut short.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "fake-model-2025-01"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion(content: str, *, model: str = MODEL, finish_reason: str = "stop") -> dict:
    """A chat completion whose single choice says ``content``."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def ok(answer: dict | str, **kwargs) -> Reply:
    """HTTP 200 with a completion whose content is ``answer`` (JSON-encoded if a dict)."""
    content = answer if isinstance(answer, str) else json.dumps(answer)
    return Reply(200, json.dumps(completion(content, **kwargs)).encode())


def status(code: int, *, retry_after: str | None = None, message: str = "") -> Reply:
    """An error reply in the OpenAI error shape."""
    body = json.dumps({"error": {"message": message or f"error {code}", "type": "fake"}})
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(code, body.encode(), headers)


def slow(seconds: float, answer: dict | str) -> Reply:
    """A good answer that comes only after ``seconds``."""
    reply = ok(answer)
    reply.delay = seconds
    return reply


class FakeLLM:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": json.loads(raw or b"null"),
                        }
                    )
                    index = min(len(fake.requests), len(fake.replies)) - 1
                    reply = fake.replies[index]
                if self.path != "/v1/chat/completions":
                    reply = status(404, message=f"no route {self.path}")
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): fine

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
