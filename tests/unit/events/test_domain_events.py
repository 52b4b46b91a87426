"""Which events a committed change means, from one stream record's images: each type once, ids stable,
nothing for writes that change nothing a subscriber cares about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.logic.domain_events import Change, events_of
from shared.models.events import DATA_MODELS, DomainEvent, EventType, markdown, schema_document

AT = "2026-11-20T10:00:00.000Z"
ORDER = {
    "pk": "ORDER#ord_1",
    "sk": "ORDER",
    "orderId": "ord_1",
    "channelId": "demo-store",
    "channelOrderId": "1001",
    "orderNumber": "#1001",
    "status": "RECEIVED",
    "currency": "USD",
    "total": 30.5,
    "lines": [{"sku": "MUG", "quantity": 2, "unitPrice": 12.5}],
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "createdAt": AT,
    "updatedAt": AT,
}
FULFILLMENT = {
    "pk": "ORDER#ord_1",
    "sk": "FULFILLMENT#ord_1-F1",
    "orderId": "ord_1",
    "fulfillmentId": "ord_1-F1",
    "warehouseId": "wh-east",
    "lines": [{"sku": "MUG", "quantity": 2}],
    "status": "PENDING",
    "updatedAt": AT,
}
RETURN = {
    "pk": "ORDER#ord_1",
    "sk": "RETURN#ord_1-R1",
    "returnId": "ord_1-R1",
    "orderId": "ord_1",
    "channelId": "demo-store",
    "status": "AUTHORIZED",
    "resolution": "REFUND",
    "lines": [{"sku": "MUG", "quantity": 1}],
    "expectedRefund": 12.5,
    "currency": "USD",
    "deadline": "2026-12-20T23:59:59.999Z",
    "updatedAt": AT,
}


def change(
    table: str, old: dict[str, Any] | None, new: dict[str, Any] | None, record: str = "rec1"
) -> Change:
    return Change(table=table, record_id=record, old=old, new=new, approximate_time=AT)


def types(events: list[DomainEvent]) -> list[str]:
    return [event.type.value for event in events]


def test_a_new_order_is_order_created_with_what_a_crm_needs() -> None:
    [event] = events_of(change("Orders", None, ORDER))
    assert event.type is EventType.ORDER_CREATED and event.id == "rec1-0" and event.subject == "ord_1"
    assert event.time == AT and event.version == 1
    assert event.data == {
        "orderId": "ord_1",
        "channelId": "demo-store",
        "channelOrderId": "1001",
        "orderNumber": "#1001",
        "status": "RECEIVED",
        "currency": "USD",
        "total": "30.5",
        "lines": [{"sku": "MUG", "quantity": 2}],
        "customerEmail": "ada@example.com",
        "createdAt": AT,
    }


def test_the_same_record_gives_the_same_ids() -> None:
    assert events_of(change("Orders", None, ORDER)) == events_of(change("Orders", None, ORDER))
    assert events_of(change("Orders", None, ORDER, "rec2"))[0].id == "rec2-0"


def test_a_status_change_is_published_and_a_write_without_one_is_not() -> None:
    reserved = {**ORDER, "status": "RESERVED", "updatedAt": "2026-11-20T10:00:01.000Z"}
    [event] = events_of(change("Orders", ORDER, reserved))
    assert event.type is EventType.ORDER_STATUS_CHANGED
    assert event.data["previousStatus"] == "RECEIVED" and event.data["status"] == "RESERVED"
    assert event.time == "2026-11-20T10:00:01.000Z"
    assert events_of(change("Orders", reserved, {**reserved, "revision": 3})) == []


def test_a_cancellation_is_a_status_change_and_order_cancelled() -> None:
    cancelled = {**ORDER, "status": "CANCELLED", "statusReason": "customer asked"}
    assert types(events_of(change("Orders", {**ORDER, "status": "RESERVED"}, cancelled))) == [
        "order.status_changed",
        "order.cancelled",
    ]


def test_backorders_are_created_filled_and_expired() -> None:
    waiting = {
        **ORDER,
        "status": "BACKORDERED",
        "backorder": {"skus": ["MUG"], "until": "2026-12-01T00:00:00.000Z"},
    }
    created = events_of(change("Orders", ORDER, waiting))
    assert types(created) == ["order.status_changed", "backorder.created"]
    assert created[1].data == {
        "orderId": "ord_1",
        "channelId": "demo-store",
        "skus": ["MUG"],
        "until": "2026-12-01T00:00:00.000Z",
    }
    filled = events_of(change("Orders", waiting, {**waiting, "status": "RESERVED"}))
    assert types(filled) == ["order.status_changed", "backorder.filled"]
    expired = {
        **waiting,
        "status": "CANCELLED",
        "statusReason": "BACKORDER_EXPIRED: no stock of MUG since ...",
    }
    assert types(events_of(change("Orders", waiting, expired))) == [
        "order.status_changed",
        "backorder.expired",
        "order.cancelled",
    ]
    cancelled = {**waiting, "status": "CANCELLED", "statusReason": "customer asked"}
    assert types(events_of(change("Orders", waiting, cancelled))) == [
        "order.status_changed",
        "order.cancelled",
    ]


def test_fulfillments_are_planned_shipped_delivered_and_failed() -> None:
    assert types(events_of(change("Orders", None, FULFILLMENT))) == ["fulfillment.planned"]
    requested = {**FULFILLMENT, "status": "REQUESTED"}
    assert events_of(change("Orders", FULFILLMENT, requested)) == []
    shipped = {**requested, "status": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z9"}
    [event] = events_of(change("Orders", requested, shipped))
    assert event.type is EventType.FULFILLMENT_SHIPPED and event.data["trackingNumber"] == "1Z9"
    delivered = {**shipped, "status": "DELIVERED", "deliveredAt": AT}
    assert types(events_of(change("Orders", shipped, delivered))) == ["fulfillment.delivered"]
    failed = {**requested, "status": "FAILED", "statusReason": "warehouse silent"}
    [event] = events_of(change("Orders", requested, failed))
    assert event.type is EventType.FULFILLMENT_EXCEPTION and event.data["kind"] == "FAILED"


def test_tracking_updates_and_carrier_exceptions() -> None:
    shipped = {**FULFILLMENT, "status": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z9"}
    tracking = {
        "status": "in_transit",
        "checkpoints": [{"at": AT, "status": "in_transit", "message": "Departed"}],
    }
    moving = {**shipped, "tracking": tracking, "trackingUpdatedAt": AT}
    [event] = events_of(change("Orders", shipped, moving))
    assert event.type is EventType.TRACKING_UPDATED
    assert event.data["status"] == "in_transit" and event.data["previousStatus"] is None
    assert event.data["lastCheckpoint"]["message"] == "Departed"
    returning = {
        **moving,
        "tracking": {**tracking, "status": "return_to_sender"},
        "trackingUpdatedAt": "2026-11-21T00:00:00.000Z",
    }
    found = events_of(change("Orders", moving, returning))
    assert types(found) == ["tracking.updated", "fulfillment.exception"]
    assert (
        found[1].data["kind"] == "CARRIER_EXCEPTION" and found[1].data["trackingStatus"] == "return_to_sender"
    )
    again = {**returning, "trackingUpdatedAt": "2026-11-22T00:00:00.000Z"}
    assert types(events_of(change("Orders", returning, again))) == [
        "tracking.updated"
    ]  # still the same exception


def test_returns_are_authorized_received_and_refunded() -> None:
    assert types(events_of(change("Returns", None, RETURN))) == ["return.authorized"]
    receipt = {
        "warehouseId": "wh-east",
        "lines": [{"sku": "MUG", "quantity": 1, "condition": "RESELLABLE"}],
        "receivedAt": AT,
    }
    received = {**RETURN, "status": "RECEIVED", "receipt": receipt}
    [event] = events_of(change("Returns", RETURN, received))
    assert event.type is EventType.RETURN_RECEIVED and event.subject == "ord_1-R1"
    refund = {
        "refundId": "ord_1-R1-RF",
        "status": "PENDING",
        "method": "CHANNEL",
        "total": 12.5,
        "currency": "USD",
    }
    pending = {**received, "refund": refund}
    assert events_of(change("Returns", received, pending)) == []
    done = {**pending, "refund": {**refund, "status": "SUCCEEDED"}}
    [event] = events_of(change("Returns", pending, done))
    assert event.type is EventType.RETURN_REFUNDED and event.data["total"] == "12.5"
    assert events_of(change("Returns", done, {**done, "status": "CLOSED"})) == []


@pytest.mark.parametrize(
    "item",
    [
        {"pk": "ORDER#ord_1", "sk": "EVENT#2026#RESERVED"},
        {"pk": "CHANNELORDER#x#1", "sk": "CLAIM"},
        {"pk": "TRACKING#ups#1Z9", "sk": "TRACKING"},
        {"pk": "ORDER#ord_1", "sk": "REFUNDS"},
    ],
)
def test_items_no_one_subscribes_to_mean_nothing(item: dict[str, Any]) -> None:
    assert events_of(change("Orders", None, item)) == []


def test_a_deletion_means_nothing() -> None:
    assert events_of(change("Orders", ORDER, None)) == []


def test_every_type_has_a_documented_schema() -> None:
    document = schema_document()
    assert set(document["types"]) == {t.value for t in EventType} == {t.value for t in DATA_MODELS}
    assert document["envelope"]["required"] == ["id", "type", "time", "subject", "data"]


def test_docs_events_md_is_what_the_models_say() -> None:
    written = (Path(__file__).resolve().parents[3] / "docs" / "events.md").read_text(encoding="utf-8")
    assert written == markdown(), "regenerate it: make events-doc"
