"""API Gateway (REST API, Lambda proxy integration) emulated from `blueprint.ROUTES`.

moto cannot run an API Gateway -> Lambda proxy integration, so this module does what API
Gateway does: match the route, authorize it as the stack's authorizer and usage plan do (an API key,
or an access token of the local runtime's staff pool on moto's Cognito), check the payload size, apply a
route's own throttle (per client address: see `ClientThrottle`), build the proxy event, invoke the
route's function in-process (through `local.invoker.REGISTRY`, like Step Functions tasks) and turn
the proxy response into the HTTP response.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from blueprint import ROUTES, Route, Throttle
from local import console
from local.invoker import REGISTRY
from shared.logic import staff_auth

logger = logging.getLogger(__name__)

API_KEY_ENV = "OMS_API_KEY"
DEV_API_KEY = "oms-dev-key"  # the documented local default; never used outside this machine
STAGE = "local"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST API's request payload limit

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class GatewayResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    pattern: re.Pattern[str]


def _compile(route: Route) -> CompiledRoute:
    parts = re.split(r"(\{\w+\})", route.path)
    regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return CompiledRoute(route, re.compile(f"^{regex}$"))


COMPILED_ROUTES = tuple(_compile(route) for route in ROUTES)


def served_routes() -> set[tuple[str, str, str, bool]]:
    """(method, path, function, api_key_required) for every route this gateway serves."""
    return {
        (c.route.method, c.route.path, c.route.function, c.route.api_key_required) for c in COMPILED_ROUTES
    }


def authorizers() -> dict[tuple[str, str], str | None]:
    """(method, path) -> the authorizer whose logic this gateway applies to the route, or None (public)."""
    return {(c.route.method, c.route.path): c.route.authorizer for c in COMPILED_ROUTES}


def api_key() -> str:
    return os.environ.get(API_KEY_ENV) or DEV_API_KEY


def gateway_error(
    status: int, code: str, message: str, extra_headers: Iterable[tuple[str, str]] = ()
) -> GatewayResponse:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    return GatewayResponse(status, [("Content-Type", "application/json"), *extra_headers], body)


class ClientThrottle:
    """Token buckets per (route, client address) for routes with a `throttle` in the blueprint: a client
    may send `burst` requests at once, then `rate_per_second`. API Gateway counts all callers of a route
    together (it cannot tell the clients of a public route apart); here each address has its own
    bucket, which is what protects a public lookup from one client guessing."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def admit(self, route: Route, throttle: Throttle, client: str, now: float | None = None) -> float:
        """0 if the request may go on, else the seconds until it could."""
        moment = time.monotonic() if now is None else now
        key = (route.method, route.path, client)
        with self._lock:
            tokens, last = self._buckets.get(key, (float(throttle.burst), moment))
            tokens = min(float(throttle.burst), tokens + (moment - last) * throttle.rate_per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, moment)
                return 0.0
            self._buckets[key] = (tokens, moment)
            return (1 - tokens) / throttle.rate_per_second

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


THROTTLE = ClientThrottle()


def _throttled(route: Route, client: str) -> GatewayResponse | None:
    if route.throttle is None:
        return None
    wait = THROTTLE.admit(route, route.throttle, client)
    if not wait:
        return None
    retry_after = str(max(1, int(wait + 0.999)))
    # API Gateway's THROTTLED answer in the OMS error format (infra/constructs/api.py), with Retry-After.
    return gateway_error(429, "THROTTLED", "Too Many Requests", [("Retry-After", retry_after)])


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str
    query: str
    header_pairs: list[tuple[str, str]]
    body: bytes
    source_ip: str


def handle(
    method: str,
    raw_path_with_query: str,
    headers: Headers,
    body: bytes | None,
    source_ip: str = "127.0.0.1",
) -> GatewayResponse:
    """One HTTP request through API Gateway and the route's function."""
    raw_path, _, query = raw_path_with_query.partition("?")
    if console.serves(raw_path):  # static hosting beside the API (S3 + CloudFront in the stack)
        return GatewayResponse(*console.handle(method.upper(), unquote(raw_path)))
    header_pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    request = Request(method.upper(), raw_path, query, header_pairs, body or b"", source_ip)
    if len(request.body) > MAX_PAYLOAD_BYTES:
        return gateway_error(413, "PAYLOAD_TOO_LARGE", f"request body exceeds {MAX_PAYLOAD_BYTES} bytes")
    matched = _match(request.method, request.raw_path)
    if isinstance(matched, GatewayResponse):
        return matched
    compiled, path_parameters = matched
    decision = _authorize(header_pairs) if compiled.route.authorizer else None
    if isinstance(decision, GatewayResponse):
        return decision
    throttled = _throttled(compiled.route, request.source_ip)
    if throttled is not None:
        return throttled
    return _invoke(compiled.route, proxy_event(compiled.route, request, path_parameters, decision))


def _match(method: str, raw_path: str) -> tuple[CompiledRoute, dict[str, str]] | GatewayResponse:
    path = raw_path.rstrip("/") or "/"
    candidates = [(c, m) for c in COMPILED_ROUTES if (m := c.pattern.match(path))]
    for compiled, match in candidates:
        if compiled.route.method == method:
            return compiled, {name: unquote(value) for name, value in match.groupdict().items()}
    if not candidates:
        return gateway_error(404, "NOT_FOUND", f"no route for {path}")
    allowed = ", ".join(sorted({compiled.route.method for compiled, _ in candidates}))
    return gateway_error(
        405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}", [("Allow", allowed)]
    )


StaffPool = tuple[staff_auth.UserPool, Callable[[str], staff_auth.RsaKey | None]]
# The one entry: the pool in use, if any.
_STAFF_POOL: list[StaffPool] = []


def use_staff_pool(pool: StaffPool | None) -> None:
    """The user pool whose access tokens the gateway takes beside the API key (the local runtime's, on
    moto's Cognito, with its signing keys), or None: then every token is refused."""
    _STAFF_POOL[:] = [pool] if pool is not None else []


def _no_keys(kid: str) -> staff_auth.RsaKey | None:
    return None


def _authorize(header_pairs: list[tuple[str, str]]) -> GatewayResponse | staff_auth.Decision:
    """What the stack's authorizer and usage plan do (`shared.logic.staff_auth`): a valid token of the
    staff pool counts as the local API key; no credential or a bad token is 401 (API Gateway's
    UNAUTHORIZED), a key other than the local one 403."""
    pool, keys = _STAFF_POOL[0] if _STAFF_POOL else (None, _no_keys)
    try:
        decision = staff_auth.decide(header_pairs, pool=pool, keys=keys, console_key=api_key, now=time.time())
    except staff_auth.Unauthorized as refused:
        return gateway_error(401, "UNAUTHORIZED", f"Unauthorized: {refused}")
    if not hmac.compare_digest(decision.usage_key.encode(), api_key().encode()):
        return gateway_error(403, "FORBIDDEN", "invalid x-api-key header")
    return decision


def _last_value(header_pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in header_pairs if key.lower() == name]
    return values[-1] if values else None


def proxy_event(
    route: Route,
    request: Request,
    path_parameters: dict[str, str],
    decision: staff_auth.Decision | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends to a Lambda proxy integration (REST API, payload format 1.0);
    `decision`: what the authorizer allowed the request as (None on a public route)."""
    multi_headers = _multi_value(request.header_pairs)
    multi_query = _multi_value(parse_qsl(request.query, keep_blank_values=True))
    text_body, is_base64 = _event_body(request.body)
    return {
        "resource": route.path,
        "path": request.raw_path,
        "httpMethod": route.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": _request_context(route, request, decision),
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def _multi_value(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _event_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _request_context(route: Route, request: Request, decision: staff_auth.Decision | None) -> dict[str, Any]:
    now = time.time()
    context: dict[str, Any] = {
        "resourcePath": route.path,
        "httpMethod": route.method,
        # The path as the client requested it (API Gateway's holds the stage, which is in its URL; this
        # gateway serves the API at the root), so a handler can build links beside the route called.
        "path": request.raw_path,
        "stage": STAGE,
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(now * 1000),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "protocol": "HTTP/1.1",
        "accountId": "123456789012",
        "apiId": "local",
        "identity": {
            "sourceIp": request.source_ip,
            "userAgent": _last_value(request.header_pairs, "user-agent"),
            # The usage plan's key the authorizer named: the caller's x-api-key, or for a staff token the
            # console's (locally the one API key).
            "apiKey": decision.usage_key if decision else None,
        },
    }
    if decision is not None:
        # What a Lambda authorizer's answer gives the function: its principal and context.
        allowed = staff_auth.authorizer_response(decision, f"{route.method} {route.path}")
        context["authorizer"] = {"principalId": allowed["principalId"], **allowed["context"]}
    return context


def _invoke(route: Route, event: dict[str, Any]) -> GatewayResponse:
    invocation = REGISTRY.invoke_payload(route.function, json.dumps(event))
    if invocation.unhandled_error:
        # API Gateway answers 502 when the integration fails; the error body stays in the logs.
        return gateway_error(502, "INTERNAL_ERROR", "Internal server error")
    try:
        return http_response(json.loads(invocation.payload))
    except (TypeError, ValueError, KeyError, binascii.Error) as exc:
        logger.warning("%s returned a malformed proxy response: %s", route.function, exc)
        return gateway_error(502, "INTERNAL_ERROR", "Malformed Lambda proxy response")


def http_response(proxy: dict[str, Any]) -> GatewayResponse:
    """A Lambda proxy integration response -> the HTTP response API Gateway sends."""
    status = int(proxy["statusCode"])
    body = proxy.get("body") or ""
    if not isinstance(body, str):
        raise TypeError("body must be a string")
    payload = base64.b64decode(body, validate=True) if proxy.get("isBase64Encoded") else body.encode()
    headers = [(str(name), str(value)) for name, value in (proxy.get("headers") or {}).items()]
    for name, values in (proxy.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(value)) for value in values]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return GatewayResponse(status, headers, payload)


# Codes and messages for what http.server refuses before a request reaches the gateway.
HTTP_REFUSALS = {
    400: ("BAD_REQUEST", "the request could not be read"),
    414: ("URI_TOO_LONG", "the request line is too long"),
    431: ("HEADERS_TOO_LARGE", "the request headers are too large"),
}


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oms-local-gateway"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            # Do not read what would be refused anyway; the connection cannot be reused then.
            self.close_connection = True
            response = gateway_error(
                413, "PAYLOAD_TOO_LARGE", f"request body exceeds {MAX_PAYLOAD_BYTES} bytes"
            )
        else:
            body = self.rfile.read(length) if length else b""
            response = handle(self.command, self.path, self.headers.items(), body, self.client_address[0])
        self._write(response)

    def _write(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line over 64 KiB, headers it cannot parse) in the
        API's JSON error envelope, as every other error; API Gateway refuses such requests too."""
        del explain
        self.close_connection = True
        text = message or HTTP_REFUSALS.get(code, ("", "the request could not be read"))[1]
        self._write(gateway_error(code, HTTP_REFUSALS.get(code, ("BAD_REQUEST", ""))[0], text))

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY...) gets the gateway's JSON 404/405, not http.server's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


class GatewayServer:
    """The gateway on a real socket (stdlib ThreadingHTTPServer, one thread per connection)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self._server = ThreadingHTTPServer((host, port), _RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oms-gateway", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> GatewayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if it started: the socket is bound from construction) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
