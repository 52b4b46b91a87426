"""One outbound HTTP POST, with what became of it: an answer, a timeout or a failed connection.

Redirects are answered as the 3xx they are, never followed: urllib would follow one as a GET, carrying
the request's credentials or signed body to wherever it points.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Enough of an answer's body to say why it refused; the rest is not read.
BODY_KEPT_BYTES = 512


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class PostOutcome:
    status: int | None  # None: no answer (timeout or connection failure)
    timed_out: bool
    error: str | None  # why there was no answer, or the start of the body of an answer
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, headers: Mapping[str, str], body: bytes, timeout_seconds: float) -> PostOutcome:
    started = time.monotonic()

    def outcome(status: int | None, error: str | None, timed_out: bool = False) -> PostOutcome:
        return PostOutcome(status, timed_out, error, int((time.monotonic() - started) * 1000))

    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with OPENER.open(request, timeout=timeout_seconds) as reply:
            return outcome(reply.status, _text(reply.read(BODY_KEPT_BYTES)) or None)
    except urllib.error.HTTPError as refused:
        try:
            text = _text(refused.read(BODY_KEPT_BYTES)) if refused.fp is not None else ""
        finally:
            refused.close()
        return outcome(refused.code, text or refused.reason or None)
    except TimeoutError:
        return outcome(None, f"no answer within {timeout_seconds:g} s", timed_out=True)
    except urllib.error.URLError as failed:
        if isinstance(failed.reason, TimeoutError | socket.timeout):
            return outcome(None, f"no answer within {timeout_seconds:g} s", timed_out=True)
        return outcome(None, f"connection failed: {failed.reason}")
    except (http.client.HTTPException, OSError) as failed:
        return outcome(None, f"connection failed: {failed.__class__.__name__}: {failed}")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()[:BODY_KEPT_BYTES]
