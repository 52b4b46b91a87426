"""Backorders that wake on restock, on the real ASL: woken by an adjustment, a count and a cancelled
order's release, oldest first among those the stock fills; expired past the channel's limit; or
rejected by a channel that does not wait."""

from __future__ import annotations

import time
import uuid

import pytest

from local.runtime import LocalOMS
from tests.support.backorders import wait_for_state, waiting_for
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order


def backordered(oms: LocalOMS, client: Client, lines: list[tuple[str, int]]) -> str:
    order_id = client.place(canonical_order(lines))
    client.wait_for_status(order_id, "BACKORDERED")
    assert wait_for_state(oms, order_id, "AwaitRestock"), oms.last_state(order_id)
    return order_id


def receive(client: Client, sku: str, wh: str, units: int) -> None:
    path = f"/inventory/{sku}/locations/{wh}/adjustments"
    body = {"delta": units, "reason": "RECEIPT"}
    status, answer = client.call("POST", path, body, {"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, answer


def test_a_receipt_wakes_a_backorder_which_is_then_reserved(oms: LocalOMS, client: Client) -> None:
    order_id = backordered(oms, client, [("TEE-M", 4)])  # 3 on hand
    assert [w["orderId"] for w in waiting_for(oms, "TEE-M")] == [order_id]

    receive(client, "TEE-M", "wh-west", 1)

    order = client.wait_for_status(order_id, "FULFILLING")
    assert [f["warehouseId"] for f in order["fulfillments"]] == ["wh-west"]
    assert [e["status"] for e in order["timeline"]][:4] == [
        "RECEIVED",
        "BACKORDERED",
        "RESERVED",
        "FULFILLING",
    ]
    assert waiting_for(oms, "TEE-M") == []
    assert client.stock("TEE-M")["wh-west"]["available"] == 0
    client.assert_ledger_explains_stock("TEE-M")
    client.ship_and_deliver(order_id)
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"


def test_a_count_wakes_backorders_oldest_first_among_those_the_stock_fills(
    oms: LocalOMS, client: Client
) -> None:
    assert client.call("PUT", "/inventory/TEE-M/locations/wh-west", {"onHand": 0})[0] == 200
    oldest = backordered(oms, client, [("TEE-M", 2)])
    middle = backordered(oms, client, [("TEE-M", 2)])
    youngest = backordered(oms, client, [("TEE-M", 1)])

    assert client.call("PUT", "/inventory/TEE-M/locations/wh-west", {"onHand": 3})[0] == 200

    client.wait_for_status(oldest, "FULFILLING")
    client.wait_for_status(youngest, "FULFILLING")  # 1 left after the oldest: the middle needs 2
    assert client.order(middle)["status"] == "BACKORDERED"
    assert [w["orderId"] for w in waiting_for(oms, "TEE-M")] == [middle]
    client.assert_ledger_explains_stock("TEE-M")


def test_a_cancelled_orders_release_wakes_a_backorder(oms: LocalOMS, client: Client) -> None:
    holder = client.place(canonical_order([("TEE-M", 3)]))
    client.wait_for_status(holder, "FULFILLING")
    waiting = backordered(oms, client, [("TEE-M", 2)])

    assert client.call("POST", f"/orders/{holder}/cancel")[0] == 200

    client.wait_for_status(waiting, "FULFILLING")
    assert client.stock("TEE-M")["wh-west"]["reserved"] == 2
    client.assert_ledger_explains_stock("TEE-M")


def test_a_backorder_past_its_channels_limit_is_cancelled_holding_nothing(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKORDER_DAY_SECONDS", "1")
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "backorders": {"maxWaitDays": 2}}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    order_id = backordered(oms, client, [("TEE-M", 5)])

    expired = client.wait_for_status(order_id, "CANCELLED", timeout=15)

    assert expired["statusReason"].startswith("BACKORDER_EXPIRED")
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Cancelled"
    assert waiting_for(oms, "TEE-M") == []
    receive(client, "TEE-M", "wh-west", 5)  # too late: nothing wakes, nothing is reserved
    time.sleep(0.3)
    assert client.order(order_id)["status"] == "CANCELLED"
    assert client.stock("TEE-M")["wh-west"]["reserved"] == 0


def test_a_channel_that_does_not_wait_rejects_what_cannot_ship_now(oms: LocalOMS, client: Client) -> None:
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "backorders": {"mode": "REJECT"}}
    status, stored = client.call("PUT", f"/channels/{CHANNEL_ID}", channel)
    assert (status, stored["backorders"]) == (200, {"mode": "REJECT", "maxWaitDays": 14})
    order_id = client.place(canonical_order([("TEE-M", 5)]))

    rejected = client.wait_for_status(order_id, "REJECTED")

    assert "TEE-M: 3 available of 5 requested" in rejected["statusReason"]
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Rejected"
    assert waiting_for(oms, "TEE-M") == []


def test_a_backorder_policy_a_client_can_fix_is_a_400(client: Client) -> None:
    for policy in ({"mode": "LATER"}, {"maxWaitDays": 0}, {"maxWaitDays": 365}, {"maxWaitDays": True}):
        channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "backorders": policy}
        status, body = client.call("PUT", f"/channels/{CHANNEL_ID}", channel)
        assert status == 400, (policy, body)
        assert "backorders" in str(body["error"]), body
