"""A small Selling Partner API client: getOrder (with a restricted data token) and getOrderItems.

Standard library only (urllib.request). Authentication is Login with Amazon (LWA): the refresh token
buys an access token (`grant_type=refresh_token`), sent as `x-amz-access-token` and cached until
shortly before it expires. `ShippingAddress` and `BuyerInfo` are restricted data: getOrder returns
them only when called with a restricted data token (RDT) from the Tokens API, asked for that order's
path and the `buyerInfo` and `shippingAddress` data elements. When the application lacks the role and
the Tokens API refuses (403), getOrder is called with the plain access token (and the order lacks its
address, which `shared.channels.amazon.to_canonical` reports).

Failures:
- 429 (rate limited), 5xx and connection errors are retried with backoff, `max_attempts` in all; the
  delay honours `Retry-After`, and after a 429 the operation's `x-amzn-RateLimit-Limit` (requests per
  second); then TransientError (the SQS message is redelivered later).
- 404: NotFound. Any other refusal (400, 401, 403...): SpApiError with the SP-API `errors[]` messages.
- Messages and logs never contain the client secret, the refresh token or any access token: tokens
  travel only in headers and bodies, never in URLs, and every message is scrubbed of them anyway.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from shared.errors import NotFound, TransientError
from shared.observability import logger

LWA_TOKEN_ENDPOINT: Final = "https://api.amazon.com/auth/o2/token"
ENDPOINTS: Final = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
RDT_PATH: Final = "/tokens/2021-03-01/restrictedDataToken"
ORDER_DATA_ELEMENTS: Final = ("buyerInfo", "shippingAddress")

# An access token is renewed this long before it expires, so it never expires in flight.
TOKEN_RENEWAL_MARGIN_SECONDS = 60.0
FIRST_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 10.0
# getOrderItems returns 100 items a page or so; a canonical order holds at most 40 lines.
MAX_ITEM_PAGES = 50
USER_AGENT = "oms/0.1 (Language=Python)"


@dataclass(frozen=True)
class SpApiCredentials:
    """Where the SP-API is and the LWA application credentials (the secrets never show in repr)."""

    endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


class SpApiError(Exception):
    """The SP-API (or LWA) refused a request; sending it again will not help."""

    def __init__(self, message: str, status: int | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors or []


@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # the parsed JSON, or None


@dataclass
class _Token:
    value: str
    renew_at: float


class SpApiClient:
    def __init__(
        self,
        credentials: SpApiCredentials,
        timeout: float = 5.0,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._credentials = credentials
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._issued: set[str] = set()  # every token seen, scrubbed from messages
        self._rates: dict[str, float] = {}  # operation -> x-amzn-RateLimit-Limit last seen

    def __repr__(self) -> str:
        return f"SpApiClient(endpoint={self._credentials.endpoint!r})"

    # --- operations -------------------------------------------------------------------------------

    def get_order(self, order_id: str) -> dict[str, Any]:
        """GET /orders/v0/orders/{orderId}: the `payload` object, with ShippingAddress and BuyerInfo
        when the restricted data token is granted."""
        path = f"/orders/v0/orders/{_quote(order_id)}"
        token = self._restricted_data_token(path, order_id) or self._access_token()
        response = self._api("GET", path, token, operation="getOrder")
        return _payload(self._checked(response, "getOrder", order_id))

    def get_order_items(self, order_id: str) -> list[dict[str, Any]]:
        """GET /orders/v0/orders/{orderId}/orderItems, every page (NextToken): all the OrderItems."""
        path = f"/orders/v0/orders/{_quote(order_id)}/orderItems"
        items: list[dict[str, Any]] = []
        next_token: str | None = None
        for _ in range(MAX_ITEM_PAGES):
            query = {"NextToken": next_token} if next_token else None
            response = self._api("GET", path, self._access_token(), operation="getOrderItems", query=query)
            payload = _payload(self._checked(response, "getOrderItems", order_id))
            page = payload.get("OrderItems")
            if not isinstance(page, list):
                raise SpApiError("getOrderItems: the response has no OrderItems list", response.status)
            items += page
            next_token = payload.get("NextToken") or None
            if next_token is None:
                return items
        raise SpApiError(f"getOrderItems: order {order_id} has more than {MAX_ITEM_PAGES} pages of items")

    # --- tokens -----------------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._token_lock:
            now = self._clock()
            if self._token is not None and now < self._token.renew_at:
                return self._token.value
            credentials = self._credentials
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credentials.refresh_token,
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            }
            response = self._send(
                "POST",
                credentials.token_endpoint,
                {"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
                urllib.parse.urlencode(form).encode(),
                operation="LWA token",
            )
            body = response.body if isinstance(response.body, Mapping) else {}
            token, lifetime = body.get("access_token"), body.get("expires_in", 3600)
            if response.status != 200 or not isinstance(token, str) or not token:
                reason = ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
                raise SpApiError(
                    self._scrub(
                        f"LWA refused the token request ({response.status}): {reason or 'no reason'}"
                    ),
                    response.status,
                )
            self._issued.add(token)
            seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
            self._token = _Token(token, now + seconds - TOKEN_RENEWAL_MARGIN_SECONDS)
            return token

    def _forget_access_token(self) -> None:
        with self._token_lock:
            self._token = None

    def _restricted_data_token(self, path: str, order_id: str) -> str | None:
        """A restricted data token for GET `path` (buyerInfo, shippingAddress), or None when refused."""
        body = {
            "restrictedResources": [
                {"method": "GET", "path": path, "dataElements": list(ORDER_DATA_ELEMENTS)}
            ]
        }
        response = self._api(
            "POST", RDT_PATH, self._access_token(), operation="createRestrictedDataToken", body=body
        )
        if response.status == 403:
            logger.warning(
                "SP-API refused a restricted data token; getOrder falls back to the access token and "
                "returns no ShippingAddress or BuyerInfo",
                extra={"amazon_order_id": order_id, "error": self._errors_text(response)},
            )
            return None
        token = self._checked(response, "createRestrictedDataToken", order_id).get("restrictedDataToken")
        if not isinstance(token, str) or not token:
            raise SpApiError(
                "createRestrictedDataToken: the response has no restrictedDataToken", response.status
            )
        self._issued.add(token)
        return token

    # --- HTTP -------------------------------------------------------------------------------------

    def _api(
        self,
        method: str,
        path: str,
        token: str,
        *,
        operation: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> _Response:
        url = self._credentials.endpoint.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"x-amz-access-token": token, "accept": "application/json"}
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        return self._send(method, url, headers, data, operation=operation)

    def _send(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, *, operation: str
    ) -> _Response:
        """One request, retried on 429, 5xx and connection errors; any other response is returned."""
        problem = ""
        for attempt in range(1, self._max_attempts + 1):
            hint: float | None = None
            try:
                response = self._exchange(method, url, headers, data)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as failed:
                problem = f"connection failed ({type(failed).__name__})"
            else:
                self._remember_rate(operation, response.headers)
                if response.status != 429 and response.status < 500:
                    return response
                problem = f"HTTP {response.status}: {self._errors_text(response)}"
                hint = self._retry_hint(operation, response)
            if attempt < self._max_attempts:
                delay = min(
                    MAX_RETRY_DELAY_SECONDS, max(FIRST_RETRY_DELAY_SECONDS * 2 ** (attempt - 1), hint or 0)
                )
                logger.info(
                    "SP-API request retried",
                    extra={"operation": operation, "attempt": attempt, "delay": delay, "problem": problem},
                )
                self._sleep(delay)
        raise TransientError(self._scrub(f"{operation}: {problem} (after {self._max_attempts} attempts)"))

    def _exchange(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> _Response:
        request = urllib.request.Request(
            url, data=data, method=method, headers={"user-agent": USER_AGENT, **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as reply:
                return _Response(reply.status, _lower(reply.headers), _json(reply.read()))
        except urllib.error.HTTPError as refused:
            try:
                raw = refused.read() if refused.fp is not None else b""
            finally:
                refused.close()
            return _Response(refused.code, _lower(refused.headers), _json(raw))

    def _checked(self, response: _Response, operation: str, order_id: str) -> dict[str, Any]:
        """The JSON body of a 2xx response; NotFound for a 404, SpApiError for any other refusal."""
        if 200 <= response.status < 300 and isinstance(response.body, dict):
            return response.body
        errors = self._errors_text(response)
        if response.status == 404:
            raise NotFound(
                self._scrub(f"{operation}: order {order_id} not found: {errors}"), {"orderId": order_id}
            )
        if response.status == 403:
            self._forget_access_token()  # it may have been revoked; the next call fetches a new one
        if 200 <= response.status < 300:
            raise SpApiError(f"{operation}: the response is not a JSON object", response.status)
        raw = response.body.get("errors") if isinstance(response.body, dict) else None
        raise SpApiError(
            self._scrub(f"{operation} refused ({response.status}): {errors}"),
            response.status,
            [self._scrubbed(e) for e in raw if isinstance(e, dict)] if isinstance(raw, list) else [],
        )

    # --- rate limits ------------------------------------------------------------------------------

    def _remember_rate(self, operation: str, headers: Mapping[str, str]) -> None:
        rate = _positive_float(headers.get("x-amzn-ratelimit-limit"))
        if rate is not None:
            self._rates[operation] = rate

    def _retry_hint(self, operation: str, response: _Response) -> float | None:
        """Seconds to wait before retrying: Retry-After, else (after a 429) one request's worth of
        the operation's rate limit."""
        after = _retry_after(response.headers.get("retry-after"))
        if after is not None:
            return after
        rate = self._rates.get(operation)
        return 1.0 / rate if response.status == 429 and rate else None

    # --- messages ---------------------------------------------------------------------------------

    def _errors_text(self, response: _Response) -> str:
        body = response.body
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not errors:
            return "no error details"
        parts = []
        for error in errors:
            if isinstance(error, dict):
                text = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
                details = error.get("details")
                parts.append(f"{text} ({details})" if details else text)
        return self._scrub("; ".join(parts) or "no error details")

    def _scrub(self, text: str) -> str:
        secrets = [self._credentials.client_secret, self._credentials.refresh_token, *self._issued]
        for secret in sorted((s for s in secrets if s), key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        return text

    def _scrubbed(self, error: dict[str, Any]) -> dict[str, Any]:
        return {key: self._scrub(value) if isinstance(value, str) else value for key, value in error.items()}


def _quote(order_id: str) -> str:
    return urllib.parse.quote(order_id, safe="")


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise SpApiError("the response has no payload object")
    return payload


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()} if headers is not None else {}


def _positive_float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number > 0 else None


def _retry_after(value: str | None) -> float | None:
    """Retry-After: delay-seconds or an HTTP date."""
    if value is None:
        return None
    seconds = _positive_float(value)
    if seconds is not None or value.strip() == "0":
        return seconds or 0.0
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
