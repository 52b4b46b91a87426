"""A local stand-in for the channels' refund APIs, for tests of the refund ports (shared/channels/refunds).

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, a random port, a daemon thread) that answers in
the shapes the channels publish:
- Shopify REST Admin API, `X-Shopify-Access-Token` required (else 401 with Shopify's `errors` text):
  POST /admin/api/{version}/orders/{id}/refunds/calculate.json -> {"refund": {"shipping",
  "refund_line_items", "transactions": [one `suggested_refund` against the order's sale]}};
  POST /admin/api/{version}/orders/{id}/refunds.json -> 201 {"refund": {"id", "order_id", "note",
  "refund_line_items", "transactions": [{"kind": "refund", "status": "success", ...}], ...}}, or 422
  {"errors": {field: [messages]}} for a body Shopify would refuse (no transactions, an amount that is
  not a positive number, a parent_id that is not the order's sale, more than the sale has left).
  Any order id is accepted: each has one sale of `shopify_sale_amount` through the "bogus" gateway,
  whose transaction id is stable (`shopify_parent_id`). Line prices are what `price_shopify_line` set
  (0.00 otherwise); calculate answers with them.
- WooCommerce REST API v3, HTTP Basic auth with the consumer key and secret (else 401
  `woocommerce_rest_cannot_create`): POST /wp-json/wc/v3/orders/{id}/refunds -> 201 with the published
  refund shape, or 400 `woocommerce_rest_invalid_order_refund` when the amount is missing, not a number
  or not above 0. As WooCommerce does, it keys `line_items` by id: a second entry with an id replaces
  the first.
- A signed-URL receiver for `api` channels: POST /refunds/{anything}, verified with the Standard
  Webhooks reference library (`standardwebhooks`) and the secret the fake was created with: 401 when
  the signature does not hold, else 200 {"refundId"}; a repeated `webhook-id` gets the same refundId.

A repeated `Idempotency-Key` on a Shopify or WooCommerce create gets the first answer again and makes
nothing new (`refunds_created` lists each refund once; `requests` shows every call). Failures can be
injected (`fail_next`, even a 2xx with a body of your own, or a redirect; `stall_next` for a slow
channel), and are recorded like any request. Anything but POST is recorded and answered 405, except
one route that is the sandbox's own, not a channel's: GET /sandbox/refunds -> {"refunds": [...]}, each
refund made, once, in the order made (`refunds_seen`: where it was asked for, the request's
Idempotency-Key and body, the channel's refund id and the amount), so a person or a test running the local OMS
(`make run` starts this sandbox) can see what reached the channel. It is not recorded in `requests`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple, cast

from standardwebhooks.webhooks import Webhook

from local.http_fake import FakeServer, HttpFake
from shared.channels.refunds import ShopifyRefundApi, SignedRefundUrl, WooCommerceRefundApi
from shared.signatures import standard_webhook_key

SHOPIFY_ACCESS_TOKEN = "shpat_fake0123456789abcdef0123456789ab"
WOO_CONSUMER_KEY = "ck_fake0123456789abcdef0123456789abcdef01"
WOO_CONSUMER_SECRET = "cs_fake0123456789abcdef0123456789abcdef01"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"fake-refund-receiver-secret-0123").decode("ascii")
SIGNED_PATH = "/refunds/oms"
SEEN_PATH = "/sandbox/refunds"
SHOPIFY_GATEWAY = "bogus"

_SHOPIFY_REFUNDS = re.compile(r"^/admin/api/([^/]+)/orders/([^/]+)/refunds(/calculate)?\.json$")
_WOO_REFUNDS = re.compile(r"^/wp-json/wc/v3/orders/(\d+)/refunds$")
_SIGNED = re.compile(r"^/refunds/[^/]+$")

_SHOPIFY_UNAUTHORIZED = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
_WOO_UNAUTHORIZED = {
    "code": "woocommerce_rest_cannot_create",
    "message": "Sorry, you are not allowed to create resources.",
    "data": {"status": 401},
}
_WOO_INVALID_AMOUNT = {
    "code": "woocommerce_rest_invalid_order_refund",
    "message": "Refund amount must be greater than zero.",
    "data": {"status": 400},
}


class Recorded(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON, or None


@dataclass
class _Failure:
    path_contains: str
    status: int | None  # None: a stall, answered normally after `delay` seconds
    times: int
    retry_after: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Answer = tuple[int, dict[str, Any]]


class Seen(NamedTuple):
    """Where a refund was asked for and what it came to, for `refunds_seen`."""

    path: str
    idempotency_key: str | None
    channel_refund_id: str
    amount: Decimal
    request: Any  # the body the refund was asked for with, as parsed


class FakeChannelRefunds(HttpFake):
    """The fake refund APIs of Shopify, WooCommerce and a signed-URL receiver. Use as a context manager;
    `endpoint` is its base URL and `*_target()` the port settings pointing at it."""

    def __init__(
        self,
        *,
        shopify_token: str = SHOPIFY_ACCESS_TOKEN,
        woo_key: str = WOO_CONSUMER_KEY,
        woo_secret: str = WOO_CONSUMER_SECRET,
        signing_secret: str = SIGNING_SECRET,
        shopify_sale_amount: str = "1000.00",
        port: int = 0,
    ) -> None:
        """`port` 0 picks a free port."""
        self.shopify_token = shopify_token
        self.woo_key = woo_key
        self.woo_secret = woo_secret
        self.signing_secret = signing_secret
        self.shopify_sale_amount = Decimal(shopify_sale_amount)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._failures: list[_Failure] = []
        self._created: dict[str, list[dict[str, Any]]] = {"shopify": [], "woocommerce": [], "signed": []}
        self._replies: dict[tuple[str, str], Answer] = {}  # (kind, idempotency key or webhook-id) -> answer
        self._seen: list[dict[str, Any]] = []  # what GET /sandbox/refunds answers
        self._refunded: dict[str, Decimal] = {}  # Shopify order id -> refunded so far
        self._shopify_lines: dict[str, tuple[Decimal, Decimal]] = {}  # line_item_id -> unit price, unit tax
        self._counter = 0
        super().__init__(port)

    thread_name = "fake-refunds"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def shopify_target(self) -> ShopifyRefundApi:
        return ShopifyRefundApi(adminUrl=self.endpoint, accessToken=self.shopify_token)

    def woocommerce_target(self) -> WooCommerceRefundApi:
        return WooCommerceRefundApi(
            storeUrl=self.endpoint, consumerKey=self.woo_key, consumerSecret=self.woo_secret
        )

    def signed_target(self) -> SignedRefundUrl:
        return SignedRefundUrl(url=self.endpoint + SIGNED_PATH, secret=self.signing_secret)

    # --- data and behaviour -----------------------------------------------------------------------

    def price_shopify_line(self, line_item_id: str | int, price: str, tax: str = "0.00") -> None:
        """What one unit of the line costs, and its tax: calculate.json answers with them."""
        with self._lock:
            self._shopify_lines[str(line_item_id)] = (Decimal(price), Decimal(tax))

    @staticmethod
    def shopify_parent_id(order_id: str) -> int:
        """The id of the sale transaction the fake gives every Shopify order (stable per order id)."""
        return 800_000_000 + int(hashlib.sha256(order_id.encode()).hexdigest()[:8], 16) % 100_000_000

    def fail_next(
        self,
        path_contains: str,
        status: int,
        times: int = 1,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The next `times` requests whose path contains `path_contains` get `status`, with `Retry-After`
        when given, `headers` (e.g. a Location), and `body` (by default an error in the channel's shape)."""
        with self._lock:
            self._failures.append(
                _Failure(path_contains, status, times, retry_after, body, headers=dict(headers or {}))
            )

    def stall_next(self, path_contains: str, seconds: float, times: int = 1) -> None:
        """The next `times` matching requests are answered as usual, but only after `seconds`: a client
        that gave up meanwhile does not see the refund that was made."""
        with self._lock:
            self._failures.append(_Failure(path_contains, None, times, delay=seconds))

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def calls(self, path_contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if path_contains in r.path]

    def refunds_created(self, kind: str) -> list[dict[str, Any]]:
        """The refunds made, each once: kind "shopify" or "woocommerce" (the refund objects answered),
        or "signed" (the refundId, webhook-id and the payload received)."""
        with self._lock:
            return copy.deepcopy(self._created[kind])

    def refunds_seen(self) -> list[dict[str, Any]]:
        """Every refund made, once, in the order made, as GET /sandbox/refunds lists them: `channel`
        (shopify, woocommerce or signed), `path` (where it was asked for), `idempotencyKey` (the
        request's Idempotency-Key header; the OMS sends its refund id), `channelRefundId` (what the
        sandbox answered), `amount` (a decimal string), `at`, and `request` (the body received)."""
        with self._lock:
            return copy.deepcopy(self._seen)

    # --- serving (called from the handler threads) -----------------------------------------------

    def _record(self, request: Recorded) -> _Failure | None:
        with self._lock:
            self._requests.append(request)
            for failure in self._failures:
                if failure.path_contains in request.path and failure.times > 0:
                    failure.times -= 1
                    return failure
            return None

    def _next_id(self, start: int) -> int:
        self._counter += 1  # callers hold the lock
        return start + self._counter

    def _replayed(self, kind: str, key: str | None) -> Answer | None:
        return self._replies.get((kind, key)) if key else None

    def _remember(
        self, kind: str, key: str | None, answer: Answer, created: dict[str, Any], seen: Seen
    ) -> Answer:
        if key:
            self._replies[(kind, key)] = answer
        self._created[kind].append(copy.deepcopy(created))
        self._seen.append(
            {
                "channel": kind,
                "path": seen.path,
                "idempotencyKey": seen.idempotency_key,
                "channelRefundId": seen.channel_refund_id,
                "amount": _money(seen.amount),
                "at": _now(),
                "request": copy.deepcopy(seen.request),
            }
        )
        return answer

    # Shopify

    def _shopify(
        self, calculate: bool, order_id: str, headers: Mapping[str, str], body: Any, path: str = ""
    ) -> Answer:
        if headers.get("x-shopify-access-token") != self.shopify_token:
            return 401, _SHOPIFY_UNAUTHORIZED
        refund = body.get("refund") if isinstance(body, dict) else None
        if not isinstance(refund, dict):
            return 422, {"errors": {"refund": ["Required parameter missing or invalid"]}}
        lines = _shopify_lines(refund.get("refund_line_items", []))
        if lines is None:
            return 422, {"errors": {"refund_line_items": ["must be a list of line_item_id and quantity"]}}
        with self._lock:
            if calculate:
                return self._shopify_calculate(order_id, refund, lines)
            key = headers.get("idempotency-key")
            return self._replayed("shopify", key) or self._shopify_create(order_id, refund, lines, key, path)

    def _shopify_refundable(self, order_id: str) -> Decimal:
        return self.shopify_sale_amount - self._refunded.get(order_id, Decimal(0))

    def _shopify_line_amounts(self, line: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        price, tax = self._shopify_lines.get(str(line["line_item_id"]), (Decimal(0), Decimal(0)))
        return price * line["quantity"], tax * line["quantity"]

    def _shopify_calculate(
        self, order_id: str, refund: Mapping[str, Any], lines: list[dict[str, Any]]
    ) -> Answer:
        currency = str(refund.get("currency") or "USD")
        asked = refund.get("shipping")
        shipping = (_number(asked.get("amount", 0)) if isinstance(asked, dict) else None) or Decimal(0)
        refundable = self._shopify_refundable(order_id)
        priced, suggested = [], shipping
        for line in lines:
            subtotal, tax = self._shopify_line_amounts(line)
            suggested += subtotal + tax
            priced.append(
                {
                    **line,
                    "location_id": None,
                    "restock_type": line.get("restock_type", "no_restock"),
                    "subtotal": _money(subtotal),
                    "total_tax": _money(tax),
                }
            )
        suggested = min(suggested, refundable)
        return 200, {
            "refund": {
                "currency": currency,
                "shipping": {
                    "amount": _money(shipping),
                    "tax": "0.00",
                    "maximum_refundable": _money(shipping),
                },
                "duties": [],
                "additional_fees": [],
                "refund_line_items": priced,
                "transactions": [
                    {
                        "order_id": _shopify_int(order_id),
                        "kind": "suggested_refund",
                        "gateway": SHOPIFY_GATEWAY,
                        "parent_id": self.shopify_parent_id(order_id),
                        "amount": _money(suggested),
                        "maximum_refundable": _money(refundable),
                        "currency": currency,
                    }
                ],
            }
        }

    def _shopify_create(
        self,
        order_id: str,
        refund: Mapping[str, Any],
        lines: list[dict[str, Any]],
        key: str | None,
        path: str = "",
    ) -> Answer:
        transactions = refund.get("transactions")
        problem = self._shopify_transactions_problem(order_id, transactions)
        if problem:
            return 422, {"errors": {"transactions": [problem]}}
        transactions = cast(list[dict[str, Any]], transactions)  # checked just above
        total = sum((_number(t["amount"]) or Decimal(0) for t in transactions), Decimal(0))
        self._refunded[order_id] = self._refunded.get(order_id, Decimal(0)) + total
        refund_id = self._next_id(929_361_000)
        now = _now()
        created = {
            "id": refund_id,
            "order_id": _shopify_int(order_id),
            "created_at": now,
            "note": refund.get("note"),
            "user_id": None,
            "processed_at": now,
            "duties": [],
            "restock": False,
            "refund_shipping_lines": [],
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "order_adjustments": [],
            "refund_line_items": [self._shopify_refunded_line(line) for line in lines],
            "transactions": [
                self._shopify_refund_transaction(order_id, t, str(refund.get("currency") or "USD"), now)
                for t in transactions
            ],
        }
        seen = Seen(path, key, str(refund_id), total, {"refund": dict(refund)})
        return self._remember("shopify", key, (201, {"refund": created}), created, seen)

    def _shopify_transactions_problem(self, order_id: str, transactions: Any) -> str | None:
        if not isinstance(transactions, list) or not transactions:
            return "can't be blank"
        amounts = []
        for transaction in transactions:
            amount = _number(transaction.get("amount")) if isinstance(transaction, dict) else None
            if amount is None or amount <= 0:
                return "amount must be a number greater than 0"
            if transaction.get("kind") != "refund":
                return "kind must be refund"
            if transaction.get("parent_id") != self.shopify_parent_id(order_id):
                return f"parent_id {transaction.get('parent_id')} is not a transaction of order {order_id}"
            amounts.append(amount)
        refundable = self._shopify_refundable(order_id)
        if sum(amounts, Decimal(0)) > refundable:
            return f"amount cannot be greater than the refundable amount of {_money(refundable)}"
        return None

    def _shopify_refunded_line(self, line: Mapping[str, Any]) -> dict[str, Any]:
        subtotal, tax = self._shopify_line_amounts(line)
        return {
            "location_id": None,
            "restock_type": line.get("restock_type", "no_restock"),
            "quantity": line["quantity"],
            "id": self._next_id(1_058_498_000),
            "line_item_id": line["line_item_id"],
            # Numbers here, as Shopify sends them; the *_set amounts are strings.
            "subtotal": float(subtotal),
            "total_tax": float(tax),
            "subtotal_set": _shopify_money_set(subtotal),
            "total_tax_set": _shopify_money_set(tax),
        }

    def _shopify_refund_transaction(
        self, order_id: str, transaction: Mapping[str, Any], currency: str, now: str
    ) -> dict[str, Any]:
        transaction_id = self._next_id(1_068_278_000)
        return {
            "id": transaction_id,
            "order_id": _shopify_int(order_id),
            "kind": "refund",
            "gateway": transaction.get("gateway", SHOPIFY_GATEWAY),
            "status": "success",
            "message": "Bogus Gateway: Forced success",
            "created_at": now,
            "test": True,
            "authorization": None,
            "parent_id": transaction["parent_id"],
            "processed_at": now,
            "amount": _money(_number(transaction["amount"]) or Decimal(0)),
            "currency": currency,
            "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
        }

    # WooCommerce

    def _woocommerce(self, order_id: str, headers: Mapping[str, str], body: Any, path: str = "") -> Answer:
        if _basic_credentials(headers.get("authorization")) != (self.woo_key, self.woo_secret):
            return 401, _WOO_UNAUTHORIZED
        fields = body if isinstance(body, dict) else {}
        amount = _number(fields.get("amount"))
        if amount is None or amount <= 0:
            return 400, _WOO_INVALID_AMOUNT
        lines = fields.get("line_items", [])
        if not isinstance(lines, list) or not all(_woocommerce_line_valid(line) for line in lines):
            return 400, {
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): line_items",
                "data": {"status": 400, "params": {"line_items": "line_items is not a list of items."}},
            }
        key = headers.get("idempotency-key")
        with self._lock:
            return self._replayed("woocommerce", key) or self._woocommerce_create(
                order_id, fields, amount, key, headers.get("host", "127.0.0.1"), path=path
            )

    def _woocommerce_create(
        self,
        order_id: str,
        fields: Mapping[str, Any],
        amount: Decimal,
        key: str | None,
        host: str,
        *,
        path: str = "",
    ) -> Answer:
        refund_id = self._next_id(726)
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        orders = f"http://{host}/wp-json/wc/v3/orders/{order_id}"
        created = {
            "id": refund_id,
            "date_created": now.isoformat(),
            "date_created_gmt": now.isoformat(),
            "amount": _money(amount),
            "reason": str(fields.get("reason") or ""),
            "refunded_by": 1,
            "refunded_payment": fields.get("api_refund", True) is True,
            "meta_data": [],
            "line_items": [
                self._woocommerce_refunded_line(line) for line in _by_item(fields.get("line_items", []))
            ],
            "_links": {
                "self": [{"href": f"{orders}/refunds/{refund_id}"}],
                "collection": [{"href": f"{orders}/refunds"}],
                "up": [{"href": orders}],
            },
        }
        seen = Seen(path, key, str(refund_id), amount, dict(fields))
        return self._remember("woocommerce", key, (201, created), created, seen)

    def _woocommerce_refunded_line(self, line: Mapping[str, Any]) -> dict[str, Any]:
        total = _number(line.get("refund_total")) or Decimal(0)
        taxes = [t for t in line.get("refund_tax", []) if isinstance(t, dict)]
        tax = sum((_number(t.get("refund_total")) or Decimal(0) for t in taxes), Decimal(0))
        quantity = int(line.get("quantity") or 0)
        return {
            "id": self._next_id(100),
            "name": "",
            "product_id": 0,
            "variation_id": 0,
            "quantity": -quantity,
            "tax_class": "",
            "subtotal": _money(-total),
            "subtotal_tax": _money(-tax),
            "total": _money(-total),
            "total_tax": _money(-tax),
            "taxes": [_woocommerce_refunded_tax(t) for t in taxes],
            "meta_data": [{"id": self._next_id(200), "key": "_refunded_item_id", "value": str(line["id"])}],
            "sku": "",
            "price": float(-total / quantity) if quantity else 0.0,
        }

    # Signed receiver

    def _signed(self, headers: Mapping[str, str], raw: bytes, path: str = SIGNED_PATH) -> Answer:
        try:
            payload = Webhook(standard_webhook_key(self.signing_secret)).verify(raw, dict(headers))
        except Exception as refused:  # the reference library raises several kinds for a bad delivery
            return 401, {"message": f"invalid signature: {refused}"}
        webhook_id = headers["webhook-id"]
        with self._lock:
            replayed = self._replayed("signed", webhook_id)
            if replayed:
                return replayed
            refund_id = f"rcv_{self._next_id(0):06d}"
            answer: Answer = (200, {"refundId": refund_id})
            data = payload.get("data") if isinstance(payload, dict) else None
            total = _number(data.get("total")) if isinstance(data, dict) else None
            seen = Seen(path, headers.get("idempotency-key"), refund_id, total or Decimal(0), payload)
            return self._remember(
                "signed",
                webhook_id,
                answer,
                {"refundId": refund_id, "webhookId": webhook_id, "payload": payload},
                seen,
            )


def _shopify_lines(lines: Any) -> list[dict[str, Any]] | None:
    if not isinstance(lines, list):
        return None
    valid = [
        line
        for line in lines
        if isinstance(line, dict)
        and line.get("line_item_id") is not None
        and isinstance(line.get("quantity"), int)
        and not isinstance(line.get("quantity"), bool)
        and line["quantity"] >= 0
    ]
    return [dict(line) for line in valid] if len(valid) == len(lines) else None


def _woocommerce_line_valid(line: Any) -> bool:
    quantity = line.get("quantity", 0) if isinstance(line, dict) else None
    return (
        isinstance(line, dict)
        and "id" in line
        and isinstance(quantity, int)
        and not isinstance(quantity, bool)
    )


def _by_item(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As WooCommerce reads a refund's line_items (RestApiUtil): keyed by item id, an entry with an id
    seen before replacing the earlier one where it stood."""
    items: dict[str, dict[str, Any]] = {}
    for line in lines:
        items[str(line["id"])] = line
    return list(items.values())


def _woocommerce_refunded_tax(tax: Mapping[str, Any]) -> dict[str, Any]:
    refunded = _money(-(_number(tax.get("refund_total")) or 0))
    return {"id": tax.get("id"), "total": refunded, "subtotal": refunded}


def _shopify_int(value: str) -> int | str:
    return int(value) if value.isascii() and value.isdigit() else value


def _shopify_money_set(amount: Decimal) -> dict[str, Any]:
    money = {"amount": _money(amount), "currency_code": "USD"}
    return {"shop_money": money, "presentment_money": dict(money)}


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, colon, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if colon else None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _money(amount: Decimal | int) -> str:
    return f"{Decimal(amount):.2f}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _failure_body(path: str, status: int) -> dict[str, Any]:
    text = f"injected failure: HTTP {status}"
    if _SHOPIFY_REFUNDS.match(path):
        return {"errors": text}
    if _WOO_REFUNDS.match(path):
        return {"code": "fake_injected_failure", "message": text, "data": {"status": status}}
    return {"message": text}


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.do_POST()  # recorded, and refused by _route: a client following a redirect shows

    def do_POST(self) -> None:
        fake: FakeChannelRefunds = self.server.fake
        path = self.path.partition("?")[0]
        if self.command == "GET" and path == SEEN_PATH:
            self._reply(200, {"refunds": fake.refunds_seen()}, {})
            return
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        failure = fake._record(Recorded(self.command, path, headers, _json(raw)))
        if failure is not None and failure.status is not None:
            retry_after = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            extra = {**retry_after, **failure.headers}
            self._reply(failure.status, failure.body or _failure_body(path, failure.status), extra)
            return
        if failure is not None:
            time.sleep(failure.delay)
        status, answer = self._route(fake, path, headers, raw)
        self._reply(status, answer, {})

    def _route(self, fake: FakeChannelRefunds, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        if self.command != "POST":
            return 405, {"errors": "Method Not Allowed", "message": f"No route for {self.command} {path}"}
        body = _json(raw)
        shopify = _SHOPIFY_REFUNDS.match(path)
        if shopify:
            return fake._shopify(shopify.group(3) is not None, shopify.group(2), headers, body, path)
        woocommerce = _WOO_REFUNDS.match(path)
        if woocommerce:
            return fake._woocommerce(woocommerce.group(1), headers, body, path)
        if _SIGNED.match(path):
            return fake._signed(headers, raw, path)
        return 404, {"errors": "Not Found", "code": "rest_no_route", "message": f"No route for POST {path}"}

    def _reply(self, status: int, answer: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a stall)
            self.close_connection = True
