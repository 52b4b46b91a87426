"""The order workflow end to end on moto: the real ASL, the real handlers, the real conditions."""

from __future__ import annotations

from local.runtime import LocalOMS
from tests.support.backorders import wait_for_state, waiting_for
from tests.support.orders import Client, canonical_order


def statuses(order: dict) -> list[str]:
    return [entry["status"] for entry in order["timeline"]]


def test_an_order_goes_from_webhook_to_delivered(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 2)]))

    fulfilling = client.wait_for_status(order_id, "FULFILLING")
    [fulfillment] = fulfilling["fulfillments"]
    assert fulfillment["warehouseId"] == "wh-east"  # nearer to Boston than Reno
    assert fulfillment["lines"] == [{"sku": "MUG-BLUE", "quantity": 2}]
    assert client.stock("MUG-BLUE")["wh-east"] | {} == {
        "sku": "MUG-BLUE",
        "warehouseId": "wh-east",
        "onHand": 10,
        "reserved": 2,
        "safetyStock": 0,
        "available": 8,
        "buckets": 1,
    }

    delivered = client.ship_and_deliver(order_id)

    assert statuses(delivered) == [
        "RECEIVED",
        "RESERVED",
        "FULFILLING",
        "PICKED",
        "PACKED",
        "SHIPPED",
        "DELIVERED",
    ]
    assert all(entry["at"] for entry in delivered["timeline"])
    [shipped] = delivered["fulfillments"]
    assert (shipped["status"], shipped["carrier"], shipped["trackingNumber"]) == (
        "DELIVERED",
        "UPS",
        "1Z999AA10123456784",
    )
    level = client.stock("MUG-BLUE")["wh-east"]
    assert (level["onHand"], level["reserved"], level["available"]) == (8, 0, 8)
    execution = oms.wait_for_execution(order_id)
    assert execution["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "ConcludeOrder"


def test_an_order_for_an_unknown_sku_is_rejected_with_the_reason(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 1), ("NO-SUCH-SKU", 1)]))

    rejected = client.wait_for_status(order_id, "REJECTED")

    assert "NO-SUCH-SKU" in rejected["statusReason"]
    assert statuses(rejected) == ["RECEIVED", "REJECTED"]
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Rejected"
    assert client.stock("MUG-BLUE")["wh-east"]["reserved"] == 0


def test_an_order_no_warehouse_can_fill_is_backordered_and_holds_nothing(
    oms: LocalOMS, client: Client
) -> None:
    order_id = client.place(canonical_order([("TEE-M", 5)]))

    backordered = client.wait_for_status(order_id, "BACKORDERED")

    assert "TEE-M: 3 available of 5 requested" in backordered["statusReason"]
    (shortage,) = backordered["sourcingProblems"]
    assert (shortage["code"], shortage["details"]["sku"]) == ("SHORTAGE", "TEE-M")
    assert oms.execution_status(order_id) == "RUNNING"  # waiting for a restock
    assert wait_for_state(oms, order_id, "AwaitRestock")
    assert client.stock("TEE-M")["wh-west"]["available"] == 3
    assert backordered["backorder"]["skus"] == ["TEE-M"]


def test_the_farther_warehouse_ships_when_only_it_holds_every_line(client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 1), ("TEE-M", 1)]))

    fulfilling = client.wait_for_status(order_id, "FULFILLING")

    assert fulfilling["fulfillments"][0]["warehouseId"] == "wh-west"


def test_cancel_before_shipment_releases_the_stock_and_ends_cancelled(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 3)]))
    client.wait_for_status(order_id, "FULFILLING")
    assert client.stock("MUG-BLUE")["wh-east"]["available"] == 7

    status, cancelled = client.call("POST", f"/orders/{order_id}/cancel")

    assert status == 200
    assert cancelled["status"] == "CANCELLED"
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Cancelled"
    level = client.stock("MUG-BLUE")["wh-east"]
    assert (level["onHand"], level["reserved"], level["available"]) == (10, 0, 10)
    assert client.order(order_id)["fulfillments"][0]["status"] == "CANCELLED"
    assert client.call("POST", f"/orders/{order_id}/cancel")[0] == 200  # cancelling again is harmless


def test_cancel_after_shipment_is_refused_and_points_to_a_return(client: Client) -> None:
    order_id = client.place()
    fulfillment_id = client.wait_for_status(order_id, "FULFILLING")["fulfillments"][0]["fulfillmentId"]
    assert client.fulfillment_event(fulfillment_id, "SHIPPED", carrier="UPS", trackingNumber="1Z")[0] == 200
    client.wait_for_status(order_id, "SHIPPED")

    status, body = client.call("POST", f"/orders/{order_id}/cancel")

    assert status == 409
    assert body["error"]["code"] == "CONFLICT"
    assert "return" in body["error"]["message"]
    assert client.order(order_id)["status"] == "SHIPPED"


def test_a_backordered_order_can_be_cancelled(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("TEE-M", 50)]))
    client.wait_for_status(order_id, "BACKORDERED")
    assert wait_for_state(oms, order_id, "AwaitRestock")

    status, body = client.call("POST", f"/orders/{order_id}/cancel")

    assert (status, body["status"]) == (200, "CANCELLED")
    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Cancelled"
    assert waiting_for(oms, "TEE-M") == []  # a restock wakes nobody


def test_fulfillment_events_must_follow_the_warehouse_flow(client: Client) -> None:
    order_id = client.place()
    fulfillment_id = client.wait_for_status(order_id, "FULFILLING")["fulfillments"][0]["fulfillmentId"]

    status, body = client.fulfillment_event(fulfillment_id, "DELIVERED")
    assert status == 409
    assert body["error"]["code"] == "INVALID_TRANSITION"
    assert body["error"]["details"] == {
        "fulfillmentId": fulfillment_id,
        "status": "REQUESTED",
        "requested": "DELIVERED",
    }

    assert client.fulfillment_event(fulfillment_id, "PACKED")[0] == 200
    assert client.fulfillment_event(fulfillment_id, "PACKED")[0] == 200  # a warehouse retry
    assert client.fulfillment_event(fulfillment_id, "PICKED")[0] == 409  # going backwards
    assert client.fulfillment_event("ord_nope-F1", "PICKED")[0] == 404
    assert client.fulfillment_event(fulfillment_id, "LOST")[0] == 400


def test_delivered_reported_before_the_workflow_waits_for_it_is_not_lost(
    oms: LocalOMS, client: Client
) -> None:
    """The carrier can beat the workflow to AwaitDelivery; whichever comes first, the order completes."""
    from functions.await_event.handler import lambda_handler as real_await_event

    delivered_reported = __import__("threading").Event()

    def slow_to_park_for_delivery(event, context):
        if event["awaiting"] == "DELIVERED":
            delivered_reported.wait(timeout=10)
        return real_await_event(event, context)

    oms.override_handler("AwaitEvent", slow_to_park_for_delivery)
    order_id = client.place()
    fulfillment_id = client.wait_for_status(order_id, "FULFILLING")["fulfillments"][0]["fulfillmentId"]
    assert client.fulfillment_event(fulfillment_id, "SHIPPED")[0] == 200
    assert client.fulfillment_event(fulfillment_id, "DELIVERED")[0] == 200
    delivered_reported.set()

    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "ConcludeOrder"
    assert client.order(order_id)["status"] == "DELIVERED"


def test_a_sku_on_two_lines_is_reserved_and_shipped_as_one_quantity(client: Client) -> None:
    order = canonical_order([("MUG-BLUE", 1), ("TEE-M", 1), ("MUG-BLUE", 2)])
    order["lines"][2]["unitPrice"] = "11.00"
    order_id = client.place(order)

    fulfilling = client.wait_for_status(order_id, "FULFILLING")

    assert fulfilling["fulfillments"][0]["lines"] == [
        {"sku": "MUG-BLUE", "quantity": 3},
        {"sku": "TEE-M", "quantity": 1},
    ]
    assert client.stock("MUG-BLUE")["wh-west"]["reserved"] == 3
    delivered = client.ship_and_deliver(order_id)
    assert client.stock("MUG-BLUE")["wh-west"]["onHand"] == 7
    assert delivered["total"] == "52.00"  # MUG 12.50 + TEE 12.50 + MUG 2 x 11.00 + 5.00 shipping


def test_every_warehouse_step_is_on_the_timeline(client: Client) -> None:
    order = client.ship_and_deliver(client.place())

    steps = [entry["status"] for entry in order["timeline"]]
    assert steps == ["RECEIVED", "RESERVED", "FULFILLING", "PICKED", "PACKED", "SHIPPED", "DELIVERED"]
    picked = next(entry for entry in order["timeline"] if entry["status"] == "PICKED")
    assert picked["reason"] == f"fulfillment {order['fulfillments'][0]['fulfillmentId']} picked"


def test_a_tracking_number_sent_after_shipping_is_recorded_as_a_correction(client: Client) -> None:
    order = client.wait_for_status(client.place(), "FULFILLING")
    fulfillment_id = order["fulfillments"][0]["fulfillmentId"]
    assert client.fulfillment_event(fulfillment_id, "SHIPPED")[0] == 200

    status, corrected = client.fulfillment_event(
        fulfillment_id, "SHIPPED", carrier="FedEx", trackingNumber="123"
    )

    assert status == 200
    assert (corrected["carrier"], corrected["trackingNumber"]) == ("FedEx", "123")
    stored = client.order(order["orderId"])
    [fulfillment] = stored["fulfillments"]
    assert (fulfillment["carrier"], fulfillment["trackingNumber"]) == ("FedEx", "123")
    [correction] = [e for e in stored["timeline"] if e["status"] == "TRACKING_CORRECTED"]
    assert correction["reason"] == f"fulfillment {fulfillment_id} tracking corrected (FedEx 123)"
    assert stored["status"] == "SHIPPED"
    # The same again is a retry: nothing more on the timeline.
    assert (
        client.fulfillment_event(fulfillment_id, "SHIPPED", carrier="FedEx", trackingNumber="123")[0] == 200
    )
    assert len(client.order(order["orderId"])["timeline"]) == len(stored["timeline"])


def test_a_cancelled_fulfillment_says_when_it_changed(client: Client) -> None:
    order = client.wait_for_status(client.place(), "FULFILLING")
    before = order["fulfillments"][0]["updatedAt"]

    assert client.call("POST", f"/orders/{order['orderId']}/cancel")[0] == 200

    [fulfillment] = client.wait_for_status(order["orderId"], "CANCELLED")["fulfillments"]
    assert fulfillment["status"] == "CANCELLED"
    assert fulfillment["updatedAt"] > before
