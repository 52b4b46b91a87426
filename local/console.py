"""The console's static files (`blueprint.CONSOLE`), served by the local gateway on the API's origin.

What S3 + CloudFront will do in the stack: files by path with their content types, `index.html` for
the console's own paths (client routing), and a JSON 404 for a missing built asset. No API key is
needed for the files; the console sends it with its API calls.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from blueprint import CONSOLE, StaticSite

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Built assets have content-hashed names: a browser may keep them; the index must be asked for again.
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

Response = tuple[int, list[tuple[str, str]], bytes]

# The console's `config.json` here: the API on this same origin, sign-in with the API key. In the stack
# the deployment writes its own (infra/stack.py: the API under /api on CloudFront, and Cognito).
LOCAL_CONFIG: dict[str, object] = {"apiBase": "", "signIn": {"apiKey": True, "cognito": None}}


def serves(raw_path: str, site: StaticSite = CONSOLE) -> bool:
    return raw_path == site.path or raw_path.startswith(site.path + "/")


def _error(status: int, code: str, message: str, extra: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    return status, [("Content-Type", "application/json"), *(extra or [])], body


def _file(path: Path, cache: str) -> Response:
    content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    headers = [
        ("Content-Type", content_type or "application/octet-stream"),
        ("Cache-Control", cache),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return 200, headers, path.read_bytes()


def handle(method: str, raw_path: str, site: StaticSite = CONSOLE) -> Response:
    """The answer for a request under `site.path` (see `serves`)."""
    if method not in {"GET", "HEAD"}:
        return _error(
            405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {raw_path}", [("Allow", "GET, HEAD")]
        )
    relative = raw_path[len(site.path) :].lstrip("/")
    if relative == site.config:
        headers = [("Content-Type", "application/json"), ("Cache-Control", NO_CACHE)]
        return 200, headers, json.dumps(LOCAL_CONFIG).encode()
    folder = site.folder.resolve()
    index = folder / site.index
    if not index.is_file():
        return _error(503, "CONSOLE_NOT_BUILT", f"the console is not built: run `make console` ({folder})")
    wanted = (folder / relative).resolve()
    if relative and wanted.is_relative_to(folder) and wanted.is_file():
        assets = site.assets_path.strip("/") + "/"
        return _file(wanted, IMMUTABLE if relative.startswith(assets) else NO_CACHE)
    if ("/" + relative).startswith(site.assets_path + "/") or not wanted.is_relative_to(folder):
        return _error(404, "NOT_FOUND", f"no console asset {raw_path}")
    return _file(index, NO_CACHE)
