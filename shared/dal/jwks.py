"""The staff user pool's signing keys (its JWKS), fetched over HTTPS and kept per process: fetched
again for a key id not seen yet (Cognito rotating its keys), at most once per `REFETCH_SECONDS`, so
tokens with made-up key ids cannot make every request a fetch."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

from shared.logic.staff_auth import RsaKey, keys_from_jwks

TIMEOUT_SECONDS = 3
REFETCH_SECONDS = 60
MAX_BYTES = 64 * 1024


class JwksCache:
    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, RsaKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> RsaKey | None:
        with self._lock:
            stale = self._fetched_at is None or time.monotonic() - self._fetched_at >= REFETCH_SECONDS
            if kid not in self._keys and stale:
                self._fetched_at = time.monotonic()
                self._keys = keys_from_jwks(self._fetch())
            return self._keys.get(kid)

    def _fetch(self) -> dict[str, object]:
        if not self.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"refusing to fetch signing keys over {self.url!r}")
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            document = json.loads(response.read(MAX_BYTES))
        return document if isinstance(document, dict) else {}


_caches: dict[str, JwksCache] = {}


def cache_for(url: str) -> JwksCache:
    """One cache per JWKS URL, for the life of the process."""
    if url not in _caches:
        _caches[url] = JwksCache(url)
    return _caches[url]
