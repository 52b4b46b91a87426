"""A retailer's webhook receiver on this machine: it answers as scripted (fail, hang, succeed) and
keeps every request, which tests verify with the Standard Webhooks reference library."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

OK = 200
HANG = -1  # answer nothing until released (or the client gives up)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def verify(self, secret: str) -> dict[str, Any]:
        """The payload, if the signature verifies with `secret` (the reference library raises otherwise)."""
        verified: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return verified


class Receiver(ThreadingHTTPServer):
    """Answers the n-th request with `script[n]` (the last entry repeats); HANG holds the request open
    until `release()`."""

    daemon_threads = True

    def __init__(self, script: list[int] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script or [OK])
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()

    def release(self) -> None:
        self.released.set()

    def answer_for(self, index: int) -> int:
        return self.script[min(index, len(self.script) - 1)]

    def wait_for(self, wanted: Callable[[list[Received]], bool], timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = list(self.received)
            if wanted(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver got {[r.answered for r in seen]}")
            time.sleep(0.05)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            index = len(self.server.received)
            answer = self.server.answer_for(index)
            self.server.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body, answer)
            )
        if answer == HANG:
            self.server.released.wait(30)
            return
        self.send_response(answer)
        self.send_header("content-type", "application/json")
        reply = b'{"ok": true}' if answer < 300 else b'{"error": "receiver is down"}'
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_: Any) -> None:
        pass
