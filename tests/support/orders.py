"""What a client of the OMS does, shared by integration (in-process gateway) and e2e (HTTP) tests."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from shared.signatures import standard_webhook_signature

CHANNEL_ID = "test-store"
CHANNEL_SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS1vbXMtdGVzdHM="

WAREHOUSES = {
    "wh-east": {"name": "Newark NJ", "latitude": 40.7357, "longitude": -74.1724, "country": "US"},
    "wh-west": {"name": "Reno NV", "latitude": 39.5296, "longitude": -119.8138, "country": "US"},
}
STOCK = {("MUG-BLUE", "wh-east"): 10, ("MUG-BLUE", "wh-west"): 10, ("TEE-M", "wh-west"): 3}
BOSTON = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Boston",
    "region": "MA",
    "postalCode": "02108",
    "country": "US",
    "latitude": 42.3601,
    "longitude": -71.0589,
}

_numbers = itertools.count(1000)

# (method, path, headers, body) -> (status, parsed JSON body)
Send = Callable[[str, str, dict[str, str], bytes | None], tuple[int, Any]]


def canonical_order(lines: list[tuple[str, int]] | None = None, **overrides: Any) -> dict[str, Any]:
    order = {
        "channelOrderId": f"#{next(_numbers)}-{uuid.uuid4().hex[:6]}",
        "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shippingAddress": dict(BOSTON),
        "lines": [
            {"sku": sku, "quantity": quantity, "unitPrice": "12.50"}
            for sku, quantity in (lines or [("MUG-BLUE", 2)])
        ],
        "shippingPrice": "5.00",
    }
    order.update(overrides)
    return order


def signed_headers(
    body: bytes, webhook_id: str | None = None, secret: str = CHANNEL_SECRET
) -> dict[str, str]:
    message_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(secret, message_id, timestamp, body),
    }


class Client:
    """The OMS as a retailer, a channel and a warehouse see it."""

    def __init__(self, send: Send) -> None:
        self.send = send

    def call(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else None
        return self.send(method, path, {"content-type": "application/json", **(headers or {})}, body)

    def seed(self) -> None:
        for warehouse_id, warehouse in WAREHOUSES.items():
            assert self.call("PUT", f"/warehouses/{warehouse_id}", warehouse)[0] in (200, 201)
        for (sku, warehouse_id), units in STOCK.items():
            assert self.call("PUT", f"/inventory/{sku}/locations/{warehouse_id}", {"onHand": units})[0] == 200
        channel = {"type": "api", "webhookSecret": CHANNEL_SECRET}
        assert self.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] in (200, 201)

    def deliver(self, order: dict[str, Any], webhook_id: str | None = None) -> tuple[int, Any]:
        body = json.dumps(order).encode()
        return self.send("POST", f"/webhooks/{CHANNEL_ID}", signed_headers(body, webhook_id), body)

    def place(self, order: dict[str, Any] | None = None) -> str:
        status, receipt = self.deliver(order or canonical_order())
        assert status == 202, receipt
        return str(receipt["orderId"])

    def order(self, order_id: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/orders/{order_id}")
        assert status == 200, body
        return dict(body)

    def wait_for_status(self, order_id: str, *statuses: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id)
            if order["status"] in statuses:
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} is {order['status']}, expected one of {statuses}")
            time.sleep(0.05)

    def fulfillment_event(self, fulfillment_id: str, event_type: str, **extra: str) -> tuple[int, Any]:
        return self.call("POST", f"/fulfillments/{fulfillment_id}/events", {"type": event_type, **extra})

    def stock(self, sku: str) -> dict[str, dict[str, int]]:
        status, body = self.call("GET", f"/inventory/{sku}")
        assert status == 200, body
        return {level["warehouseId"]: level for level in body["locations"]}

    def ledger(self, sku: str, warehouse_id: str | None = None) -> list[dict[str, Any]]:
        """The SKU's whole ledger, newest first, read page by page."""
        entries: list[dict[str, Any]] = []
        cursor: str | None = ""
        where = f"&warehouseId={warehouse_id}" if warehouse_id else ""
        while cursor is not None:
            after = f"&cursor={cursor}" if cursor else ""
            status, page = self.call("GET", f"/inventory/{sku}/ledger?limit=100{where}{after}")
            assert status == 200, page
            entries += page["entries"]
            cursor = page["nextCursor"]
        return entries

    def assert_ledger_explains_stock(self, *skus: str) -> None:
        """Summing each location's ledger gives its onHand, reserved and safety stock exactly."""
        for sku in skus:
            sums: dict[str, list[int]] = {}
            for entry in self.ledger(sku):
                figures = sums.setdefault(entry["warehouseId"], [0, 0, 0])
                figures[0] += entry["onHandDelta"]
                figures[1] += entry["reservedDelta"]
                figures[2] += entry["safetyStockDelta"]
            stocked = {
                wh: [level["onHand"], level["reserved"], level["safetyStock"]]
                for wh, level in self.stock(sku).items()
            }
            assert sums == stocked, (sku, sums, stocked)

    def ship_and_deliver(self, order_id: str) -> dict[str, Any]:
        order = self.wait_for_status(order_id, "FULFILLING")
        fulfillment_id = order["fulfillments"][0]["fulfillmentId"]
        for event in ("PICKED", "PACKED"):
            assert self.fulfillment_event(fulfillment_id, event)[0] == 200
        shipped = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
        assert self.fulfillment_event(fulfillment_id, "SHIPPED", **shipped)[0] == 200
        assert self.fulfillment_event(fulfillment_id, "DELIVERED")[0] == 200
        return self.wait_for_status(order_id, "DELIVERED")
