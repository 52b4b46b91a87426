"""Split shipments, a plan and a simulation as a client reaches them over HTTP (the local runtime)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.support.orders import CHANNEL_ID, Client, canonical_order

SPLIT_ORDER = [("CAP-RED", 1), ("TEE-M", 1)]


def stock_cap_red(client: Client) -> None:
    # Other tests of the session share the runtime: top CAP-RED up, TEE-M too, at one warehouse each.
    assert client.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 50})[0] == 200
    assert client.call("PUT", "/inventory/TEE-M/locations/wh-west", {"onHand": 50})[0] == 200


def test_a_split_order_ships_in_two_parts_over_http(client: Client) -> None:
    stock_cap_red(client)
    started = datetime.now(UTC) - timedelta(seconds=1)
    order_id = client.place(canonical_order(SPLIT_ORDER))
    deadline = time.monotonic() + 20
    order = client.order(order_id)
    while not (order["fulfillments"] and all(f["status"] == "REQUESTED" for f in order["fulfillments"])):
        assert time.monotonic() < deadline, order
        time.sleep(0.1)
        order = client.order(order_id)
    assert sorted(f["warehouseId"] for f in order["fulfillments"]) == ["wh-east", "wh-west"]

    first, second = order["fulfillments"]
    assert client.fulfillment_event(first["fulfillmentId"], "SHIPPED")[0] == 200
    assert client.order(order_id)["status"] == "PARTIALLY_SHIPPED"
    assert client.fulfillment_event(second["fulfillmentId"], "SHIPPED")[0] == 200
    for fulfillment in (first, second):
        assert client.fulfillment_event(fulfillment["fulfillmentId"], "DELIVERED")[0] == 200
    assert client.wait_for_status(order_id, "DELIVERED")["sourcing"]["decidedBy"]

    status, simulation = client.call(
        "POST",
        "/sourcing/simulations",
        {
            "channelId": CHANNEL_ID,
            "createdFrom": started.isoformat(),
            "createdBefore": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            "proposed": {"maxShipments": 1},
        },
    )
    assert status == 200, simulation
    assert simulation["current"]["splitRate"] > 0
    assert order_id in {o["orderId"] for o in simulation["proposed"]["unplannableOrders"]}


def test_a_plan_over_http_reserves_nothing(client: Client) -> None:
    stock_cap_red(client)
    before = client.stock("CAP-RED")["wh-east"]["reserved"]

    status, body = client.call("POST", "/sourcing/plan", {"order": canonical_order(SPLIT_ORDER)})

    assert status == 200, body
    assert len(body["plan"]["shipments"]) == 2
    assert client.stock("CAP-RED")["wh-east"]["reserved"] == before
