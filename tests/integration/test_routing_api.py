"""POST /sourcing/plan and POST /sourcing/simulations: routing decisions without reserving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order

SPLIT_ORDER = [("CAP-RED", 2), ("TEE-M", 1)]


@pytest.fixture
def routing(client: Client) -> Client:
    assert client.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 5})[0] == 200
    return client


def plan(client: Client, body: dict[str, Any]) -> tuple[int, Any]:
    return client.call("POST", "/sourcing/plan", body)


def test_a_plan_for_an_order_as_a_channel_sends_it_reserves_nothing(routing: Client) -> None:
    status, body = plan(routing, {"order": canonical_order(SPLIT_ORDER), "channelId": CHANNEL_ID})

    assert status == 200, body
    assert [s["warehouseId"] for s in body["plan"]["shipments"]] == ["wh-east", "wh-west"]
    assert body["rules"] == {"maxShipments": 3, "allowedWarehouses": None}
    assert body["problems"] == []
    assert routing.stock("CAP-RED")["wh-east"]["reserved"] == 0


def test_a_plan_under_other_rules_says_why_none_fits(routing: Client) -> None:
    status, body = plan(routing, {"order": canonical_order(SPLIT_ORDER), "sourcing": {"maxShipments": 1}})

    assert status == 200, body
    assert body["plan"] is None
    assert [p["code"] for p in body["problems"]] == ["TOO_MANY_SHIPMENTS"]


def test_a_stored_order_is_planned_with_its_own_stock_counted_as_available(routing: Client) -> None:
    # TEE-M: wh-west has 3; this order holds all 3, yet its plan now is the same one.
    order_id = routing.place(canonical_order([("TEE-M", 3)]))
    routing.wait_for_status(order_id, "FULFILLING")
    assert routing.stock("TEE-M")["wh-west"]["available"] == 0

    status, body = plan(routing, {"orderId": order_id})

    assert status == 200, body
    assert [s["warehouseId"] for s in body["plan"]["shipments"]] == ["wh-west"]
    assert (body["orderId"], body["channelId"]) == (order_id, CHANNEL_ID)


def test_an_address_without_coordinates_is_geocoded_for_the_plan(routing: Client) -> None:
    reno = {"name": "G", "line1": "1 Virginia St", "city": "Reno", "postalCode": "89501", "country": "US"}

    status, body = plan(routing, {"order": canonical_order([("MUG-BLUE", 1)], shippingAddress=reno)})

    assert status == 200, body
    assert body["location"]["source"] == "postalCode"
    assert [s["warehouseId"] for s in body["plan"]["shipments"]] == ["wh-west"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "body"),
        ({"orderId": "x", "order": canonical_order()}, 400, "body"),
        ({"orderId": "ord_nope", "channelId": CHANNEL_ID}, 400, "body"),
        ({"order": canonical_order(lines=[]) | {"lines": []}}, 400, "order.lines"),
        ({"order": canonical_order(), "sourcing": {"maxShipments": 0}}, 400, "sourcing.maxShipments"),
        ({"order": canonical_order(), "channelId": "no-such-channel"}, 404, None),
        (
            {"order": canonical_order(), "channelId": "no-such-channel", "sourcing": {"maxShipments": 2}},
            404,
            None,
        ),
        ({"orderId": "ord_nope"}, 404, None),
    ],
)
def test_a_plan_request_a_client_can_fix_is_refused_with_what_is_wrong(
    routing: Client, body: dict[str, Any], status: int, field: str | None
) -> None:
    got, answer = plan(routing, body)

    assert got == status, answer
    if field is not None:
        assert field in {d["field"] for d in answer["error"]["details"]}


def simulate(client: Client, **body: Any) -> tuple[int, Any]:
    now = datetime.now(UTC)
    window = {
        "createdFrom": (now - timedelta(hours=1)).isoformat(),
        "createdBefore": (now + timedelta(minutes=1)).isoformat(),
    }
    return client.call("POST", "/sourcing/simulations", {"channelId": CHANNEL_ID, **window, **body})


def test_a_simulation_compares_the_current_rules_with_the_proposed_ones(routing: Client) -> None:
    split = [routing.place(canonical_order(SPLIT_ORDER)) for _ in range(2)]
    single = routing.place(canonical_order([("MUG-BLUE", 1)]))
    for order_id in [*split, single]:
        routing.wait_for_status(order_id, "FULFILLING")

    status, body = simulate(routing, proposed={"maxShipments": 1})

    assert status == 200, body
    assert (body["orders"], body["skipped"]) == (3, 0)
    current, proposed = body["current"], body["proposed"]
    assert (current["planned"], current["unplannable"]) == (3, 0)
    assert current["shipmentsPerOrder"] == pytest.approx(5 / 3, abs=0.01)
    assert current["splitRate"] == pytest.approx(2 / 3, abs=0.001)
    assert current["meanDistanceKm"] > 0 and current["p90DistanceKm"] >= current["meanDistanceKm"]
    assert (proposed["planned"], proposed["unplannable"]) == (1, 2)
    assert proposed["splitRate"] == 0
    assert sorted(o["orderId"] for o in proposed["unplannableOrders"]) == sorted(split)
    assert {code for o in proposed["unplannableOrders"] for code in o["codes"]} == {"TOO_MANY_SHIPMENTS"}
    assert proposed["rules"] == {"maxShipments": 1, "allowedWarehouses": None}
    assert body["assumptions"]


def test_a_simulation_of_an_empty_window_reports_nothing(routing: Client) -> None:
    status, body = simulate(routing, proposed={"allowedWarehouses": ["wh-west"]})

    assert status == 200, body
    assert body["orders"] == 0
    assert body["current"]["shipmentsPerOrder"] is None and body["current"]["p90DistanceKm"] is None


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"createdBefore": "2026-01-01T00:00:00Z", "createdFrom": "2026-02-01T00:00:00Z"}, "body"),
        ({"createdFrom": "2026-01-01T00:00:00Z", "createdBefore": "2026-06-01T00:00:00Z"}, "body"),
        ({"createdFrom": "2026-01-01T00:00:00"}, "createdFrom"),  # no time zone
        ({"createdFrom": "yesterday"}, "createdFrom"),
        ({"proposed": {"maxShipments": "three"}}, "proposed.maxShipments"),
        ({"channelId": "has space"}, "channelId"),
    ],
)
def test_a_simulation_request_a_client_can_fix_is_400(
    routing: Client, override: dict[str, Any], field: str
) -> None:
    status, body = simulate(routing, **({"proposed": {}} | override))

    assert status == 400, body
    assert field in {d["field"] for d in body["error"]["details"]}


def test_a_simulation_for_an_unknown_channel_is_404(routing: Client) -> None:
    status, body = simulate(routing, channelId="nope", proposed={})
    assert status == 404, body


def test_a_simulation_window_holding_too_many_orders_is_400_naming_the_window(
    routing: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.logic import routing as logic

    monkeypatch.setattr(logic, "MAX_SIMULATED_ORDERS", 1)
    for _ in range(2):
        routing.place(canonical_order([("MUG-BLUE", 1)]))

    status, body = simulate(routing, proposed={})

    assert status == 400, body
    assert body["error"]["details"]["field"] == "createdBefore"


def test_the_channel_rules_the_simulation_compares_with_are_its_current_ones(routing: Client) -> None:
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "sourcing": {"allowedWarehouses": ["wh-west"]}}
    assert routing.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200

    status, body = simulate(routing, proposed={})

    assert status == 200, body
    assert body["current"]["rules"]["allowedWarehouses"] == ["wh-west"]
