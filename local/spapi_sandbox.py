"""A local stand-in for the Selling Partner API and Login with Amazon, for tests of the SP-API client.

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, a random port, a daemon thread) that answers in
the shapes of the SP-API's published responses:
- POST /auth/o2/token (LWA): `grant_type=refresh_token` with the client id, client secret and refresh
  token the fake was created with -> {access_token, token_type, expires_in, refresh_token}; otherwise
  400 `invalid_grant` or 401 `invalid_client` as LWA answers.
- POST /tokens/2021-03-01/restrictedDataToken -> {restrictedDataToken, expiresIn}, valid for the
  paths asked for; or 403 when `refuse_restricted_data` is set.
- GET /orders/v0/orders/{orderId} and /orders/v0/orders/{orderId}/orderItems[?NextToken=] from the
  orders given to `add_order`. As on Amazon, getOrder returns `BuyerInfo.BuyerEmail`/`BuyerName` and
  the full `ShippingAddress` only to a restricted data token; an access token gets the address's
  city, region, postal code and country only. 404 with an SP-API `errors` list for unknown orders,
  403 for a missing or unknown token.
Failures can be injected (`fail_next`, `drop_next`), and every request is recorded (`requests`).
One route is the sandbox's own, not the SP-API's: PUT /sandbox/orders/{orderId} with
{"order": <getOrder payload>, "orderItems": [...]} adds an order over HTTP, as `add_order` does (the
demo's `python -m local.send_order --channel demo-amazon` places its order there before notifying).

The default data: the sandbox's TEST_CASE_200 pair (order 902-1845936-5435065, USD, no address:
the sandbox has none) and FULL_ORDER, a complete seller-fulfilled US order with an address, a
promotion and free shipping. Both are fixtures written here in the shape of the published examples.
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local.http_fake import FakeServer, HttpFake
from shared.channels.spapi import RDT_PATH, SpApiCredentials

TOKEN_PATH = "/auth/o2/token"
ORDERS_PREFIX = "/orders/v0/orders/"
SANDBOX_ORDERS_PREFIX = "/sandbox/orders/"
_PLACE_BODY = 'the body must be {"order": {...}, "orderItems": [...]}'

CLIENT_ID = "amzn1.application-oa2-client.fake0123456789"
CLIENT_SECRET = "amzn1.oa2-cs.v1.fake-client-secret-0123456789abcdef"
REFRESH_TOKEN = "Atzr|fake-refresh-token-0123456789abcdef"

_MONEY_USD = "USD"


def _usd(amount: str) -> dict[str, str]:
    return {"CurrencyCode": _MONEY_USD, "Amount": amount}


_SHIP_FROM = {
    "Name": "MFNIntegrationTestMerchant",
    "AddressLine1": "2201 WESTLAKE AVE",
    "City": "SEATTLE",
    "StateOrRegion": "WA",
    "PostalCode": "98121-2778",
    "CountryCode": "US",
    "Phone": "+1 480-386-0930 ext. 73824",
    "AddressType": "Commercial",
}

# The sandbox's getOrder TEST_CASE_200 response: an Unshipped MFN order without ShippingAddress or
# BuyerInfo (restricted data), OrderTotal 11.01.
SANDBOX_ORDER_ID = "TEST_CASE_200"
SANDBOX_ORDER: dict[str, Any] = {
    "AmazonOrderId": "902-1845936-5435065",
    "PurchaseDate": "1970-01-19T03:58:30Z",
    "LastUpdateDate": "1970-01-19T03:58:32Z",
    "OrderStatus": "Unshipped",
    "FulfillmentChannel": "MFN",
    "SalesChannel": "Amazon.com",
    "ShipServiceLevel": "Std US D2D Dom",
    "OrderTotal": _usd("11.01"),
    "NumberOfItemsShipped": 0,
    "NumberOfItemsUnshipped": 1,
    "PaymentMethod": "Other",
    "PaymentMethodDetails": ["Standard"],
    "IsReplacementOrder": False,
    "MarketplaceId": "ATVPDKIKX0DER",
    "ShipmentServiceLevelCategory": "Standard",
    "OrderType": "StandardOrder",
    "EarliestShipDate": "1970-01-19T03:59:27Z",
    "LatestShipDate": "1970-01-19T04:05:13Z",
    "EarliestDeliveryDate": "1970-01-19T04:06:39Z",
    "LatestDeliveryDate": "1970-01-19T04:15:17Z",
    "IsBusinessOrder": False,
    "IsPrime": False,
    "IsGlobalExpressEnabled": False,
    "IsPremiumOrder": False,
    "IsSoldByAB": False,
    "IsIBA": False,
    "DefaultShipFromLocationAddress": _SHIP_FROM,
    "FulfillmentInstruction": {"FulfillmentSupplySourceId": "sampleSupplySourceId"},
    "IsISPU": False,
    "IsAccessPointOrder": False,
    "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
    "EasyShipShipmentStatus": "PendingPickUp",
    "ElectronicInvoiceStatus": "NotRequired",
}
# Its getOrderItems response: one item, ItemPrice 10.00 + ItemTax 1.01 = OrderTotal.
SANDBOX_ITEMS: list[dict[str, Any]] = [
    {
        "ASIN": "B00551Q3CS",
        "OrderItemId": "05015851154158",
        "SellerSKU": "NABetaASINB00551Q3CS",
        "Title": "B00551Q3CS [Card Book]",
        "QuantityOrdered": 1,
        "QuantityShipped": 0,
        "ProductInfo": {"NumberOfItems": "1"},
        "ItemPrice": _usd("10.00"),
        "ItemTax": _usd("1.01"),
        "PromotionDiscount": _usd("0.00"),
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
        "IossNumber": "",
        "DeemedResellerCategory": "IOSS",
        "StoreChainStoreId": "ISPU_StoreId",
        "BuyerRequestedCancel": {
            "IsBuyerRequestedCancel": "true",
            "BuyerCancelReason": "Found cheaper somewhere else.",
        },
    }
]

# A complete order, as getOrder returns it with a restricted data token. Its total:
#   MUG-BLUE: 3 x 10.00 = 30.00 - promotion 3.00 + tax (2.40 - 0.24) = 29.16
#   TEE-M:    1 x 9.99 + tax 0.80                                     = 10.79
#   shipping 4.99 + tax 0.40, free-shipping promotion -4.99 and -0.40 =  0.00
#                                                               total = 39.95
FULL_ORDER_ID = "113-4567890-1234567"
FULL_ORDER: dict[str, Any] = {
    "AmazonOrderId": FULL_ORDER_ID,
    "PurchaseDate": "2026-08-03T14:02:11Z",
    "LastUpdateDate": "2026-08-03T14:32:40Z",
    "OrderStatus": "Unshipped",
    "FulfillmentChannel": "MFN",
    "SalesChannel": "Amazon.com",
    "ShipServiceLevel": "Std US D2D Dom",
    "OrderTotal": _usd("39.95"),
    "NumberOfItemsShipped": 0,
    "NumberOfItemsUnshipped": 4,
    "PaymentMethod": "Other",
    "PaymentMethodDetails": ["Standard"],
    "MarketplaceId": "ATVPDKIKX0DER",
    "ShipmentServiceLevelCategory": "Standard",
    "OrderType": "StandardOrder",
    "EarliestShipDate": "2026-08-04T07:00:00Z",
    "LatestShipDate": "2026-08-05T06:59:59Z",
    "IsBusinessOrder": False,
    "IsPrime": False,
    "IsPremiumOrder": False,
    "IsGlobalExpressEnabled": False,
    "IsSoldByAB": False,
    "IsIBA": False,
    "IsISPU": False,
    "IsAccessPointOrder": False,
    "DefaultShipFromLocationAddress": _SHIP_FROM,
    "ShippingAddress": {
        "Name": "Ada Lovelace",
        "AddressLine1": "1 Main St",
        "AddressLine2": "Apt 4",
        "City": "Boston",
        "StateOrRegion": "MA",
        "PostalCode": "02108-1234",
        "CountryCode": "US",
        "AddressType": "Residential",
    },
    "BuyerInfo": {
        "BuyerEmail": "q8xv2m3lz0k4bd7@marketplace.amazon.com",
        "BuyerName": "Ada Lovelace",
    },
    "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
}
FULL_ITEMS: list[dict[str, Any]] = [
    {
        "ASIN": "B0FAKE0001",
        "OrderItemId": "51234567890123",
        "SellerSKU": "MUG-BLUE",
        "Title": "Blue Mug &amp; Coaster Set",
        "QuantityOrdered": 3,
        "QuantityShipped": 0,
        "ItemPrice": _usd("30.00"),
        "ItemTax": _usd("2.40"),
        "PromotionDiscount": _usd("3.00"),
        "PromotionDiscountTax": _usd("0.24"),
        "PromotionIds": ["MUG10"],
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
    },
    {
        "ASIN": "B0FAKE0002",
        "OrderItemId": "51234567890124",
        "SellerSKU": "TEE-M",
        "Title": "T-shirt, size M",
        "QuantityOrdered": 1,
        "QuantityShipped": 0,
        "ItemPrice": _usd("9.99"),
        "ItemTax": _usd("0.80"),
        "ShippingPrice": _usd("4.99"),
        "ShippingTax": _usd("0.40"),
        "ShippingDiscount": _usd("4.99"),
        "ShippingDiscountTax": _usd("0.40"),
        "PromotionDiscount": _usd("0.00"),
        "PromotionIds": ["FREESHIP"],
        "IsGift": "true",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
    },
]

# What an access token (without RDT) sees of a ShippingAddress.
_UNRESTRICTED_ADDRESS_FIELDS = ("City", "StateOrRegion", "PostalCode", "CountryCode", "AddressType")

_DENIED = {"code": "Unauthorized", "message": "Access to requested resource is denied."}
_FAILURE_ERRORS = {
    400: {"code": "InvalidInput", "message": "Invalid Input"},
    429: {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."},
    500: {"code": "InternalFailure", "message": "We encountered an internal error. Please try again."},
    503: {"code": "ServiceUnavailable", "message": "Service temporarily unavailable. Please try again."},
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class _Failure:
    path_substring: str
    status: int | None  # None: the connection is closed without an answer
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    error: dict[str, str] | None = None


@dataclass
class _Order:
    order: dict[str, Any]
    pages: list[list[dict[str, Any]]]


class FakeSpApi(HttpFake):
    """The fake SP-API and LWA. Use as a context manager; `.endpoint` and `.token_endpoint` are its URLs."""

    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        refresh_token: str = REFRESH_TOKEN,
        token_lifetime: int = 3600,
        defaults: bool = True,
        refuse_restricted_data: bool = False,
        rate_limit: str = "0.5",
        port: int = 0,
    ) -> None:
        """`port` 0 picks a free port."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.token_lifetime = token_lifetime
        self.refuse_restricted_data = refuse_restricted_data
        self.rate_limit = rate_limit  # x-amzn-RateLimit-Limit on order responses
        self._lock = threading.Lock()
        self._orders: dict[str, _Order] = {}
        self._access_tokens: set[str] = set()
        self._restricted_tokens: dict[str, frozenset[str]] = {}  # token -> paths it opens
        self._next_tokens: dict[str, tuple[str, int]] = {}  # NextToken -> (order id, page index)
        self._failures: list[_Failure] = []
        self._requests: list[Recorded] = []
        self._counter = 0
        super().__init__(port)
        if defaults:
            self.add_order(SANDBOX_ORDER, SANDBOX_ITEMS, order_id=SANDBOX_ORDER_ID)
            self.add_order(FULL_ORDER, FULL_ITEMS)

    thread_name = "fake-spapi"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def token_endpoint(self) -> str:
        return self.endpoint + TOKEN_PATH

    def credentials(self, **overrides: str) -> SpApiCredentials:
        values = {
            "endpoint": self.endpoint,
            "token_endpoint": self.token_endpoint,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        return SpApiCredentials(**{**values, **overrides})

    # --- data and behaviour ---------------------------------------------------------------------

    def add_order(
        self,
        order: Mapping[str, Any],
        items: Sequence[Mapping[str, Any]],
        pages: int = 1,
        *,
        order_id: str | None = None,
    ) -> str:
        """Serves `order` (a getOrder payload) and its items over `pages` getOrderItems pages, under
        `order_id` (default: its AmazonOrderId). Returns the id."""
        key = order_id or str(order["AmazonOrderId"])
        rows = [copy.deepcopy(dict(item)) for item in items]
        size = max(1, -(-len(rows) // max(1, pages)))
        chunks = [rows[start : start + size] for start in range(0, len(rows), size)] or [[]]
        with self._lock:
            self._orders[key] = _Order(copy.deepcopy(dict(order)), chunks)
        return key

    def fail_next(
        self,
        path_substring: str,
        status: int,
        times: int = 1,
        *,
        headers: Mapping[str, str] | None = None,
        error: Mapping[str, str] | None = None,
    ) -> None:
        """The next `times` requests whose path contains `path_substring` get `status` (e.g. 429 or 503)
        with `headers` (e.g. Retry-After) and an SP-API errors body: `error` ({code, message, details}),
        by default what the SP-API says for that status."""
        failure = _Failure(path_substring, status, times, dict(headers or {}), dict(error) if error else None)
        with self._lock:
            self._failures.append(failure)

    def drop_next(self, path_substring: str, times: int = 1) -> None:
        """The next `times` matching requests get no answer: the connection is closed."""
        with self._lock:
            self._failures.append(_Failure(path_substring, None, times))

    def revoke_tokens(self) -> None:
        """Every access and restricted data token issued so far stops working (403)."""
        with self._lock:
            self._access_tokens.clear()
            self._restricted_tokens.clear()

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def calls(self, path_substring: str = "", method: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if path_substring in r.path and (method is None or r.method == method.upper())
        ]

    # --- serving (called from the handler threads) -----------------------------------------------

    def _record(self, request: Recorded) -> _Failure | None:
        with self._lock:
            self._requests.append(request)
            for failure in self._failures:
                if failure.path_substring in request.path and failure.times > 0:
                    failure.times -= 1
                    return failure
            return None

    def _issue(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}fake-{self._counter:06d}"

    def _token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {
                "error": "invalid_grant",
                "error_description": "The request has an invalid grant parameter : refresh_token",
            }
        token = self._issue("Atza|")
        with self._lock:
            self._access_tokens.add(token)
        return 200, {
            "access_token": token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
        }

    def _restricted_data_token(self, token: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        if not self._is_access_token(token):
            return 403, _errors(_DENIED, "The access token you provided is revoked, malformed or invalid.")
        if self.refuse_restricted_data:
            return 403, _errors(
                _DENIED, "The application is not authorized for the requested restricted data."
            )
        resources = body.get("restrictedResources") if isinstance(body, Mapping) else None
        if not isinstance(resources, list) or not resources:
            return 400, _errors({"code": "InvalidInput", "message": "restrictedResources is required"})
        paths = frozenset(str(r.get("path")) for r in resources if isinstance(r, Mapping))
        rdt = self._issue("Atz.sprdt|")
        with self._lock:
            self._restricted_tokens[rdt] = paths
        return 200, {"restrictedDataToken": rdt, "expiresIn": 3600}

    def _known(self, order_id: str) -> _Order | None:
        with self._lock:
            return self._orders.get(order_id)

    def _place(self, order_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """PUT /sandbox/orders/{orderId}: serve the order and the items in the body from now on."""
        try:
            placed = json.loads(body)
        except ValueError:
            placed = None
        if not (
            isinstance(placed, dict)
            and isinstance(placed.get("order"), dict)
            and isinstance(placed.get("orderItems"), list)
        ):
            return 400, _errors({"code": "InvalidInput", "message": _PLACE_BODY})
        self.add_order(placed["order"], placed["orderItems"], order_id=order_id)
        return 201, {"orderId": order_id}

    def _get_order(self, path: str, order_id: str, token: str | None) -> tuple[int, dict[str, Any]]:
        known = self._known(order_id)
        with self._lock:
            restricted = path in self._restricted_tokens.get(token or "", frozenset())
        if not restricted and not self._is_access_token(token):
            return 403, _errors(_DENIED, "The access token you provided is revoked, malformed or invalid.")
        if known is None:
            return 404, _errors({"code": "NotFound", "message": f"Order {order_id} not found"})
        order = copy.deepcopy(known.order)
        if not restricted:
            _hide_restricted(order)
        return 200, {"payload": order}

    def _get_items(
        self, order_id: str, token: str | None, next_token: str | None
    ) -> tuple[int, dict[str, Any]]:
        if not self._is_access_token(token):
            return 403, _errors(_DENIED, "The access token you provided is revoked, malformed or invalid.")
        known = self._known(order_id)
        with self._lock:
            page_of = self._next_tokens.get(next_token) if next_token else (order_id, 0)
        if known is None:
            return 404, _errors({"code": "NotFound", "message": f"Order {order_id} not found"})
        if page_of is None or page_of[0] != order_id:
            return 400, _errors({"code": "InvalidInput", "message": "Invalid NextToken"})
        index = page_of[1]
        payload: dict[str, Any] = {
            "AmazonOrderId": known.order.get("AmazonOrderId", order_id),
            "OrderItems": copy.deepcopy(known.pages[index]),
        }
        if index + 1 < len(known.pages):
            following = self._issue("page-")
            with self._lock:
                self._next_tokens[following] = (order_id, index + 1)
            payload["NextToken"] = following
        return 200, {"payload": payload}

    def _is_access_token(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._access_tokens


def _errors(error: Mapping[str, str], details: str = "") -> dict[str, Any]:
    return {"errors": [{**error, "details": details}]}


def _hide_restricted(order: dict[str, Any]) -> None:
    address = order.get("ShippingAddress")
    if isinstance(address, dict):
        order["ShippingAddress"] = {k: v for k, v in address.items() if k in _UNRESTRICTED_ADDRESS_FIELDS}
    buyer = order.get("BuyerInfo")
    if isinstance(buyer, dict):
        kept = {k: v for k, v in buyer.items() if k not in ("BuyerEmail", "BuyerName")}
        if kept:
            order["BuyerInfo"] = kept
        else:
            del order["BuyerInfo"]


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake: FakeSpApi = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        query = dict(urllib.parse.parse_qsl(url.query))
        headers = {name.lower(): value for name, value in self.headers.items()}
        failure = fake._record(Recorded(self.command, url.path, query, headers, body))
        if failure is not None:
            self._fail(failure)
            return
        status, answer = self._route(fake, url.path, query, headers.get("x-amz-access-token"), body)
        extra = {"x-amzn-RateLimit-Limit": fake.rate_limit} if url.path.startswith(ORDERS_PREFIX) else {}
        self._reply(status, answer, extra)

    def _route(
        self, fake: FakeSpApi, path: str, query: dict[str, str], token: str | None, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if self.command == "POST" and path == TOKEN_PATH:
            return fake._token(dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))))
        if self.command == "POST" and path == RDT_PATH:
            try:
                parsed = json.loads(body or b"null")
            except ValueError:
                parsed = None
            return fake._restricted_data_token(token, parsed)
        if self.command == "PUT" and path.startswith(SANDBOX_ORDERS_PREFIX):
            return fake._place(urllib.parse.unquote(path[len(SANDBOX_ORDERS_PREFIX) :]), body)
        if self.command == "GET" and path.startswith(ORDERS_PREFIX):
            rest = path[len(ORDERS_PREFIX) :]
            order_id, _, tail = rest.partition("/")
            order_id = urllib.parse.unquote(order_id)
            if tail == "":
                return fake._get_order(path, order_id, token)
            if tail == "orderItems":
                return fake._get_items(order_id, token, query.get("NextToken"))
        return 404, _errors({"code": "NotFound", "message": f"No such resource: {self.command} {path}"})

    def _fail(self, failure: _Failure) -> None:
        if failure.status is None:
            self.close_connection = True
            return
        error = failure.error or _FAILURE_ERRORS.get(
            failure.status, {"code": "Failure", "message": "Injected"}
        )
        self._reply(failure.status, {"errors": [error]}, failure.headers)

    def _reply(self, status: int, answer: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-amzn-RequestId", f"fake-{id(answer):x}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
