"""What a retailer, a customer service agent and a returns warehouse do with returns, over the API."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.orders import Client, canonical_order


def delivered_order(
    client: Client,
    lines: list[tuple[str, int]] | None = None,
    delivered_at: datetime | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """An order placed, shipped and delivered (at `delivered_at`, as the carrier reports it)."""
    order_id = client.place(canonical_order(lines, **changes))
    return deliver_all(client, order_id, delivered_at)


def deliver_all(client: Client, order_id: str, delivered_at: datetime | None = None) -> dict[str, Any]:
    order = client.wait_for_status(order_id, "FULFILLING")
    for fulfillment in order["fulfillments"]:
        deliver(client, fulfillment["fulfillmentId"], delivered_at)
    return client.wait_for_status(order_id, "DELIVERED")


def deliver(client: Client, fulfillment_id: str, delivered_at: datetime | None = None) -> None:
    assert (
        client.fulfillment_event(fulfillment_id, "SHIPPED", carrier="UPS", trackingNumber="1Z999")[0] == 200
    )
    extra = {"occurredAt": delivered_at.isoformat()} if delivered_at else {}
    status, body = client.fulfillment_event(fulfillment_id, "DELIVERED", **extra)
    assert status == 200, body


def days_ago(days: int, at: str = "12:00:00") -> datetime:
    """A moment `days` UTC calendar days before today, at the given UTC time of day."""
    day = datetime.now(UTC).date() - timedelta(days=days)
    hours, minutes, seconds = (int(part) for part in at.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, seconds, tzinfo=UTC)


def ask_return(
    client: Client,
    order_id: str,
    lines: list[tuple[str, int]],
    *,
    resolution: str = "REFUND",
    exchange: list[dict[str, Any]] | None = None,
    key: str | None = None,
) -> tuple[int, Any]:
    body: dict[str, Any] = {
        "lines": [{"sku": sku, "quantity": quantity, "reason": "does not fit"} for sku, quantity in lines],
        "resolution": resolution,
    }
    if exchange is not None:
        body["exchangeLines"] = exchange
    headers = {"Idempotency-Key": key or f"ret-{uuid.uuid4().hex}"}
    return client.call("POST", f"/orders/{order_id}/returns", body, headers=headers)


def authorized(client: Client, order_id: str, lines: list[tuple[str, int]], **options: Any) -> dict[str, Any]:
    status, body = ask_return(client, order_id, lines, **options)
    assert status == 201, body
    return dict(body)


def receive(
    client: Client, return_id: str, lines: list[tuple[str, int, str]], warehouse_id: str = "wh-east"
) -> tuple[int, Any]:
    event = {
        "type": "RECEIVED",
        "warehouseId": warehouse_id,
        "lines": [
            {"sku": sku, "quantity": quantity, "condition": condition} for sku, quantity, condition in lines
        ],
    }
    return client.call("POST", f"/returns/{return_id}/events", event)


def get_return(client: Client, return_id: str) -> dict[str, Any]:
    status, body = client.call("GET", f"/returns/{return_id}")
    assert status == 200, body
    return dict(body)


def wait_for_return(client: Client, return_id: str, *statuses: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = get_return(client, return_id)
        if found["status"] in statuses:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"return {return_id} is {found['status']}, expected one of {statuses}: {found}"
            )
        time.sleep(0.05)


def set_return_policy(client: Client, channel_id: str, channel: dict[str, Any], **policy: Any) -> None:
    status, body = client.call("PUT", f"/channels/{channel_id}", {**channel, "returns": policy})
    assert status in (200, 201), body
