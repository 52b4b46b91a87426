"""Domain events on the real bus (moto's EventBridge), from the tables' streams through the real
publisher: each type published once for a committed change, none for a refused one, none lost or
doubled when the publisher fails, and the bus archived."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared import aws
from tests.support.backorders import wait_for_state
from tests.support.events import has, of, settle, wait_for_events
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order
from tests.support.returns import authorized, delivered_order, receive, wait_for_return
from tests.support.tracking import easypost_event, register_providers, send_easypost, shipped_order

# Stream records are in commit order per item: an order's own events keep their order, and a
# fulfillment's theirs, but the two items of one transaction may come out either way round.
LIFECYCLE = [
    "order.created",
    "order.status_changed",  # RESERVED
    "fulfillment.planned",
    "order.status_changed",  # FULFILLING
    "order.status_changed",  # SHIPPED
    "fulfillment.shipped",
    "order.status_changed",  # DELIVERED
    "fulfillment.delivered",
]


def assert_lifecycle(published: list[str]) -> None:
    assert sorted(published) == sorted(LIFECYCLE)
    fulfillment = [t for t in published if t.startswith("fulfillment.")]
    assert fulfillment == ["fulfillment.planned", "fulfillment.shipped", "fulfillment.delivered"]
    assert published[0] == "order.created"


def assert_each_once(events: list[dict[str, Any]]) -> None:
    ids = Counter(event["id"] for event in events)
    assert [i for i, n in ids.items() if n > 1] == []


def test_an_order_shipped_and_delivered_publishes_its_lifecycle_once_in_order(
    oms: LocalOMS, client: Client
) -> None:
    order_id = client.place()
    client.ship_and_deliver(order_id)
    events = wait_for_events(oms, has(order_id, "fulfillment.delivered"))
    events = settle(oms)
    assert_lifecycle(of(events, order_id))
    assert_each_once(events)
    statuses = [
        e["data"]["status"]
        for e in events
        if e["subject"] == order_id and e["type"] == "order.status_changed"
    ]
    assert statuses == ["RESERVED", "FULFILLING", "SHIPPED", "DELIVERED"]
    created = next(e for e in events if e["type"] == "order.created" and e["subject"] == order_id)
    assert created["version"] == 1 and created["data"]["channelId"] == CHANNEL_ID
    assert created["data"]["lines"] == [{"sku": "MUG-BLUE", "quantity": 2}]


def test_a_cancellation_is_published_once_and_a_refused_change_not_at_all(
    oms: LocalOMS, client: Client
) -> None:
    order_id = client.place()
    client.wait_for_status(order_id, "FULFILLING")
    fulfillment_id = client.order(order_id)["fulfillments"][0]["fulfillmentId"]
    assert client.fulfillment_event(fulfillment_id, "DELIVERED")[0] == 409  # refused: nothing written
    assert client.call("POST", f"/orders/{order_id}/cancel", {"reason": "customer asked"})[0] == 200
    assert client.call("POST", f"/orders/{order_id}/cancel", {"reason": "again"})[0] in (200, 409)
    wait_for_events(oms, has(order_id, "order.cancelled"))
    events = settle(oms)
    published = of(events, order_id)
    assert published.count("order.cancelled") == 1
    assert "fulfillment.delivered" not in published
    cancelled = next(e for e in events if e["type"] == "order.cancelled")
    assert cancelled["data"]["previousStatus"] == "FULFILLING"


def test_backorders_and_stock_levels(oms: LocalOMS, client: Client) -> None:
    settings = {"buckets": 1, "lowStockThreshold": 2}
    assert client.call("PUT", "/inventory/TEE-M/settings", settings)[0] == 200
    first = client.place(canonical_order([("TEE-M", 2)]))  # 3 on hand: 1 left, at the threshold
    wait_for_events(oms, lambda events: "inventory.low" in of(events, "TEE-M"))
    waiting = client.place(canonical_order([("TEE-M", 2)]))
    client.wait_for_status(waiting, "BACKORDERED")
    assert wait_for_state(oms, waiting, "AwaitRestock")
    client.place(canonical_order([("TEE-M", 1)]))  # the last unit: out of stock
    wait_for_events(oms, lambda events: "inventory.out_of_stock" in of(events, "TEE-M"))

    adjustment = {"delta": 10, "reason": "RECEIPT"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert client.call("POST", "/inventory/TEE-M/locations/wh-west/adjustments", adjustment, key)[0] == 201
    client.wait_for_status(waiting, "FULFILLING")
    events = wait_for_events(oms, has(waiting, "backorder.filled"))
    events = wait_for_events(oms, lambda events: "inventory.back_in_stock" in of(events, "TEE-M"))
    levels = [e for e in settle(oms) if e["subject"] == "TEE-M"]
    assert [e["type"] for e in levels] == [
        "inventory.low",
        "inventory.out_of_stock",
        "inventory.back_in_stock",
    ]
    assert levels[0]["data"] == {
        "sku": "TEE-M",
        "available": 1,
        "lowStockThreshold": 2,
        "locations": {"wh-west": 1},
    }
    assert levels[1]["data"]["available"] == 0
    assert of(events, waiting)[:4] == [
        "order.created",
        "order.status_changed",
        "backorder.created",
        "order.status_changed",
    ]
    backorder = next(e for e in events if e["type"] == "backorder.created")
    assert backorder["data"]["skus"] == ["TEE-M"]
    assert "backorder.created" not in of(events, first)
    assert_each_once(events)


def test_a_backorder_that_expires_is_published_expired_and_cancelled(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKORDER_DAY_SECONDS", "1")
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "backorders": {"maxWaitDays": 1}}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    order_id = client.place(canonical_order([("TEE-M", 5)]))
    client.wait_for_status(order_id, "CANCELLED", timeout=15)
    events = wait_for_events(oms, has(order_id, "order.cancelled"))
    assert of(events, order_id)[-3:] == ["order.status_changed", "backorder.expired", "order.cancelled"]


def test_tracking_updates_and_a_carrier_exception(oms: LocalOMS, client: Client) -> None:
    register_providers(client)
    order_id, fulfillment_id = shipped_order(client, "1ZEVENTS")
    send_easypost(client, easypost_event("1ZEVENTS", "in_transit", updated_at="2026-11-20T10:00:00Z"))
    send_easypost(client, easypost_event("1ZEVENTS", "return_to_sender", updated_at="2026-11-21T10:00:00Z"))
    send_easypost(
        client, easypost_event("1ZEVENTS", "in_transit", updated_at="2026-11-19T10:00:00Z")
    )  # stale
    events = wait_for_events(oms, has(order_id, "fulfillment.exception"))
    events = settle(oms)
    tracked = [
        e
        for e in events
        if e["subject"] == order_id and e["type"] in ("tracking.updated", "fulfillment.exception")
    ]
    assert [(e["type"], e["data"].get("status") or e["data"]["kind"]) for e in tracked] == [
        ("tracking.updated", "in_transit"),
        ("tracking.updated", "return_to_sender"),
        ("fulfillment.exception", "CARRIER_EXCEPTION"),
    ]
    assert tracked[1]["data"]["previousStatus"] == "in_transit"
    assert tracked[2]["data"]["fulfillmentId"] == fulfillment_id


def test_a_return_is_published_authorized_received_and_refunded(oms: LocalOMS, client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 1)])
    returned = authorized(client, order["orderId"], [("MUG-BLUE", 1)])
    return_id = returned["returnId"]
    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    wait_for_return(client, return_id, "CLOSED")
    events = wait_for_events(oms, has(return_id, "return.refunded"))
    assert of(settle(oms), return_id) == ["return.authorized", "return.received", "return.refunded"]
    refunded = next(e for e in events if e["type"] == "return.refunded")
    assert refunded["data"]["orderId"] == order["orderId"] and refunded["data"]["status"] in (
        "SUCCEEDED",
        "MANUAL",
    )


class _FailingOnce:
    """The real EventBridge client, but the first PutEvents raises and the second refuses one entry."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls = 0

    def put_events(self, **arguments: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("injected: EventBridge unreachable")
        if self.calls == 2 and len(arguments["Entries"]) > 1:
            answer = self._real.put_events(Entries=arguments["Entries"][1:])
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}, *answer["Entries"]]}
        return dict(self._real.put_events(**arguments))


def test_a_publisher_that_fails_once_loses_and_doubles_nothing(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle(oms)  # the seed's events are out
    failing = _FailingOnce(aws.events())
    monkeypatch.setattr(aws, "events", lambda: failing)
    order_id = client.place()
    client.ship_and_deliver(order_id)
    events = wait_for_events(oms, has(order_id, "fulfillment.delivered"), timeout=30)
    events = settle(oms)
    assert failing.calls > 2  # it did fail, and was retried
    assert_lifecycle(of(events, order_id))
    assert_each_once(events)


def test_the_bus_is_archived_and_anyone_can_subscribe_with_boto3(oms: LocalOMS, client: Client) -> None:
    events_client, sqs = oms.client("events"), oms.client("sqs")
    bus = oms.deployment.bus_names["OmsEvents"]
    queue_url = sqs.create_queue(QueueName="my-erp")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": ["oms"], "detail-type": ["order.created"]}
    events_client.put_rule(Name="erp-orders", EventBusName=bus, EventPattern=json.dumps(pattern))
    events_client.put_targets(Rule="erp-orders", EventBusName=bus, Targets=[{"Id": "erp", "Arn": queue_arn}])
    order_id = client.place()
    wait_for_events(oms, has(order_id, "order.created"))
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)["Messages"]
    detail = json.loads(received[0]["Body"])
    assert detail["detail-type"] == "order.created" and detail["detail"]["subject"] == order_id
    [archive] = events_client.list_archives()["Archives"]
    assert archive["EventSourceArn"].endswith(f"event-bus/{bus}") and archive["EventCount"] >= 1
