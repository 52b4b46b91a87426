"""Orders no single warehouse can ship: one fulfillment per warehouse, each moving on its own, on the
real ASL (a Map state waiting on every fulfillment) and the real handlers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.runtime import LocalOMS
from tests.support.backorders import wait_for_state
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order

# Seeded: wh-east (Newark) holds MUG-BLUE; wh-west (Reno) holds MUG-BLUE and TEE-M. CAP-RED is
# added at wh-east only, so CAP-RED + TEE-M needs both warehouses.
SPLIT_ORDER = [("CAP-RED", 2), ("TEE-M", 1)]


@pytest.fixture
def split_client(client: Client) -> Client:
    assert client.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 5})[0] == 200
    return client


def wait_for_fulfillments(
    client: Client, order_id: str, *statuses: str, timeout: float = 15.0
) -> dict[str, Any]:
    """The order once every fulfillment is in one of `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        order = client.order(order_id)
        if order["fulfillments"] and all(f["status"] in statuses for f in order["fulfillments"]):
            return order
        if time.monotonic() > deadline:
            found = [f["status"] for f in order["fulfillments"]]
            raise AssertionError(f"fulfillments of {order_id} are {found}, expected {statuses}")
        time.sleep(0.05)


def by_warehouse(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["warehouseId"]: f for f in order["fulfillments"]}


def event(client: Client, fulfillment: dict[str, Any], kind: str, **extra: str) -> dict[str, Any]:
    status, body = client.fulfillment_event(fulfillment["fulfillmentId"], kind, **extra)
    assert status == 200, body
    return dict(body)


def test_a_split_order_ships_in_two_parts_each_callback_moving_only_its_fulfillment(
    oms: LocalOMS, split_client: Client
) -> None:
    client = split_client
    order_id = client.place(canonical_order(SPLIT_ORDER))

    order = wait_for_fulfillments(client, order_id, "REQUESTED")
    assert order["status"] == "FULFILLING"
    east, west = by_warehouse(order)["wh-east"], by_warehouse(order)["wh-west"]
    assert [(line["sku"], line["quantity"]) for line in east["lines"]] == [("CAP-RED", 2)]
    assert [(line["sku"], line["quantity"]) for line in west["lines"]] == [("TEE-M", 1)]
    plan = order["sourcing"]
    assert [s["warehouseId"] for s in plan["shipments"]] == ["wh-east", "wh-west"]
    assert plan["shipments"][0]["distanceKm"] == pytest.approx(320, abs=10)  # Newark to Boston
    assert client.stock("CAP-RED")["wh-east"]["reserved"] == 2
    assert client.stock("TEE-M")["wh-west"]["reserved"] == 1

    event(client, east, "SHIPPED", carrier="UPS", trackingNumber="1ZEAST")
    order = client.order(order_id)
    assert order["status"] == "PARTIALLY_SHIPPED"
    assert [by_warehouse(order)[w]["status"] for w in ("wh-east", "wh-west")] == ["SHIPPED", "REQUESTED"]
    # Only the shipped part's stock left the building.
    assert (client.stock("CAP-RED")["wh-east"]["onHand"], client.stock("CAP-RED")["wh-east"]["reserved"]) == (
        3,
        0,
    )
    assert (client.stock("TEE-M")["wh-west"]["onHand"], client.stock("TEE-M")["wh-west"]["reserved"]) == (
        3,
        1,
    )

    event(client, west, "SHIPPED", carrier="FedEx", trackingNumber="FXWEST")
    assert client.order(order_id)["status"] == "SHIPPED"
    event(client, east, "DELIVERED")
    assert client.order(order_id)["status"] == "PARTIALLY_DELIVERED"
    event(client, west, "DELIVERED")

    delivered = client.wait_for_status(order_id, "DELIVERED")
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "ConcludeOrder"
    statuses = [entry["status"] for entry in delivered["timeline"]]
    assert statuses[:3] == ["RECEIVED", "RESERVED", "FULFILLING"]
    assert statuses[-4:] == ["PARTIALLY_SHIPPED", "SHIPPED", "PARTIALLY_DELIVERED", "DELIVERED"]
    assert (client.stock("TEE-M")["wh-west"]["onHand"], client.stock("TEE-M")["wh-west"]["reserved"]) == (
        2,
        0,
    )


def test_two_parts_shipping_at_the_same_moment_leave_the_order_shipped(split_client: Client) -> None:
    client = split_client
    order_id = client.place(canonical_order(SPLIT_ORDER))
    order = wait_for_fulfillments(client, order_id, "REQUESTED")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda f: client.fulfillment_event(f["fulfillmentId"], "SHIPPED"), order["fulfillments"])
        )

    assert [status for status, _ in results] == [200, 200]
    assert client.order(order_id)["status"] == "SHIPPED"


def test_cancelling_after_a_partial_shipment_cancels_only_the_rest(
    oms: LocalOMS, split_client: Client
) -> None:
    client = split_client
    order_id = client.place(canonical_order(SPLIT_ORDER))
    order = wait_for_fulfillments(client, order_id, "REQUESTED")
    east, west = by_warehouse(order)["wh-east"], by_warehouse(order)["wh-west"]
    event(client, east, "SHIPPED")

    status, cancelled = client.call("POST", f"/orders/{order_id}/cancel")

    assert status == 200
    assert cancelled["status"] == "SHIPPED"  # the order goes on for what shipped
    assert [by_warehouse(cancelled)[w]["status"] for w in ("wh-east", "wh-west")] == ["SHIPPED", "CANCELLED"]
    last = cancelled["timeline"][-1]
    assert last["status"] == "SHIPPED"
    assert f"fulfillment {west['fulfillmentId']} from wh-west cancelled (TEE-M x1)" in last["reason"]
    deadline = time.monotonic() + 10
    while client.stock("TEE-M")["wh-west"]["reserved"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the workflow's branch for that fulfillment releases it
    assert (client.stock("TEE-M")["wh-west"]["onHand"], client.stock("TEE-M")["wh-west"]["reserved"]) == (
        3,
        0,
    )
    assert oms.describe_execution(order_id)["status"] == "RUNNING"
    client.assert_ledger_explains_stock("CAP-RED", "TEE-M")
    west_ledger = client.ledger("TEE-M", "wh-west")
    assert [e["kind"] for e in west_ledger[:2]] == ["RELEASE", "RESERVE"]
    assert west_ledger[0]["fulfillmentId"] == west["fulfillmentId"]
    assert [e["kind"] for e in client.ledger("CAP-RED")[:2]] == ["COMMIT", "RESERVE"]

    refused, body = client.call("POST", f"/orders/{order_id}/cancel")
    assert refused == 409
    assert body["error"]["details"]["next"] == "return"

    event(client, east, "DELIVERED")
    assert client.wait_for_status(order_id, "DELIVERED")["fulfillments"]
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "ConcludeOrder"


def test_one_part_timing_out_while_the_other_shipped_releases_only_its_stock(
    oms: LocalOMS, split_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = split_client
    # Long enough for the east part's SHIPPED to arrive first on a loaded machine (3 s was not, in CI).
    monkeypatch.setenv("FULFILLMENT_TIMEOUT_SECONDS", "8")
    order_id = client.place(canonical_order(SPLIT_ORDER))
    order = wait_for_fulfillments(client, order_id, "REQUESTED")
    east, west = by_warehouse(order)["wh-east"], by_warehouse(order)["wh-west"]
    event(client, east, "SHIPPED")

    order = wait_for_fulfillments(client, order_id, "SHIPPED", "FAILED", timeout=30)

    assert by_warehouse(order)["wh-west"]["status"] == "FAILED"
    assert order["status"] == "SHIPPED"  # the shipped part is still on its way
    assert (client.stock("TEE-M")["wh-west"]["onHand"], client.stock("TEE-M")["wh-west"]["reserved"]) == (
        3,
        0,
    )
    assert client.stock("CAP-RED")["wh-east"]["onHand"] == 3  # shipped, not released

    event(client, east, "DELIVERED")
    failed = client.wait_for_status(order_id, "FAILED")
    assert failed["statusReason"].startswith(
        f"fulfillment {west['fulfillmentId']} from wh-west failed: States.Timeout"
    )
    execution = oms.wait_for_execution(order_id)
    assert (execution["status"], execution["error"]) == ("FAILED", "FulfillmentFailed")
    assert by_warehouse(failed)["wh-east"]["status"] == "DELIVERED"


def channel_with(client: Client, **sourcing: Any) -> None:
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "sourcing": sourcing}
    status, body = client.call("PUT", f"/channels/{CHANNEL_ID}", channel)
    assert status == 200, body
    assert body["sourcing"] == {"maxShipments": 3, "allowedWarehouses": None} | sourcing


def test_a_channel_allowing_one_shipment_backorders_what_would_need_two(
    oms: LocalOMS, split_client: Client
) -> None:
    channel_with(split_client, maxShipments=1)
    order_id = split_client.place(canonical_order(SPLIT_ORDER))

    backordered = split_client.wait_for_status(order_id, "BACKORDERED")

    assert [p["code"] for p in backordered["sourcingProblems"]] == ["TOO_MANY_SHIPMENTS"]
    assert "the channel allows 1" in backordered["statusReason"]
    assert split_client.stock("CAP-RED")["wh-east"]["reserved"] == 0
    # No single SKU is short: any of them restocked wakes it; meanwhile it waits, sourced once.
    assert backordered["backorder"]["skus"] == ["CAP-RED", "TEE-M"]
    assert wait_for_state(oms, order_id, "AwaitRestock")
    time.sleep(0.5)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in oms.execution_history(order_id)
        if "stateEnteredEventDetails" in e
    ]
    assert entered.count("AcceptOrder") == 1 and entered[-1] == "AwaitRestock"
    assert "ReserveInventory" not in entered


def test_a_channel_ships_only_from_its_allowed_warehouses(split_client: Client) -> None:
    channel_with(split_client, allowedWarehouses=["wh-west"])
    order_id = split_client.place(canonical_order([("MUG-BLUE", 1)]))  # wh-east is nearer Boston

    order = split_client.wait_for_status(order_id, "FULFILLING")

    assert [f["warehouseId"] for f in order["fulfillments"]] == ["wh-west"]
    rejected = {r["warehouseId"]: r["reason"] for r in order["sourcing"]["rejected"]}
    assert rejected["wh-east"] == "NOT_ALLOWED"


def test_a_warehouse_at_its_daily_capacity_is_used_only_when_no_other_can_ship(split_client: Client) -> None:
    client = split_client
    newark = {"name": "Newark NJ", "latitude": 40.7357, "longitude": -74.1724, "country": "US"}
    assert client.call("PUT", "/warehouses/wh-east", newark | {"dailyOrderCapacity": 1})[0] == 200

    first = client.wait_for_status(client.place(canonical_order([("MUG-BLUE", 1)])), "FULFILLING")
    second = client.wait_for_status(client.place(canonical_order([("MUG-BLUE", 1)])), "FULFILLING")
    only_east = client.wait_for_status(client.place(canonical_order([("CAP-RED", 1)])), "FULFILLING")

    assert [f["warehouseId"] for f in first["fulfillments"]] == ["wh-east"]
    assert [f["warehouseId"] for f in second["fulfillments"]] == ["wh-west"]
    assert second["sourcing"]["decidedBy"] == "CAPACITY"
    assert [f["warehouseId"] for f in only_east["fulfillments"]] == ["wh-east"]  # nothing else has CAP-RED
