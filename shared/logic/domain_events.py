"""Which domain events a committed change means: pure functions of one stream record's old and new images.

DynamoDB Streams deliver every item a transaction wrote, once it committed, in order per item: that is
the outbox. Each function here looks at one item kind (an order, a fulfillment, a return) and says
what changed; ids are the stream record's id plus the event's position, so a record processed again
yields the same events with the same ids. Stock levels need the SKU's other locations and are derived
by the publisher (`shared.logic.event_publisher`), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.models.events import (
    BackorderCreated,
    BackorderExpired,
    BackorderFilled,
    DomainEvent,
    EventData,
    EventType,
    FulfillmentDelivered,
    FulfillmentException,
    FulfillmentPlanned,
    FulfillmentShipped,
    OrderCancelled,
    OrderCreated,
    OrderStatusChanged,
    ReturnAuthorized,
    ReturnReceived,
    ReturnRefunded,
    TrackingUpdated,
    Units,
)
from shared.models.tracking import EXCEPTION_STATUSES, TrackingStatus

Item = dict[str, Any]
EXPIRED_BACKORDER = "BACKORDER_EXPIRED"
REFUNDED = frozenset({"SUCCEEDED", "MANUAL"})


@dataclass(frozen=True)
class Change:
    """One stream record: which table, the item before and after (None when absent), its id and time."""

    table: str
    record_id: str
    old: Item | None
    new: Item | None
    approximate_time: str

    @property
    def item(self) -> Item:
        return self.new or self.old or {}

    def time(self) -> str:
        return str((self.new or {}).get("updatedAt") or self.approximate_time)

    def changed(self, name: str) -> bool:
        return (self.old or {}).get(name) != (self.new or {}).get(name)


def events_of(change: Change) -> list[DomainEvent]:
    """The events a change means, in the order they happened."""
    derive = _DERIVERS.get((change.table, _kind(change.item)))
    if derive is None or change.new is None:  # a deletion is never news here
        return []
    found = derive(change)
    return [
        DomainEvent.of(f"{change.record_id}-{n}", event_type, change.time(), subject, data)
        for n, (event_type, subject, data) in enumerate(found)
    ]


Found = list[tuple[EventType, str, EventData]]


def _kind(item: Item) -> str:
    sk = str(item.get("sk", ""))
    return sk.split("#", 1)[0]


def _units(lines: list[Item]) -> list[Units]:
    return [Units(sku=line["sku"], quantity=int(line["quantity"])) for line in lines]


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


# -- orders -----------------------------------------------------------------------------------------


def _order(change: Change) -> Found:
    new = change.new or {}
    order_id, channel_id = new["orderId"], new["channelId"]
    if change.old is None:
        return [(EventType.ORDER_CREATED, order_id, _created(new))]
    if not change.changed("status"):
        return []
    before, after, reason = change.old["status"], new["status"], new.get("statusReason")
    found: Found = [
        (
            EventType.ORDER_STATUS_CHANGED,
            order_id,
            OrderStatusChanged(
                orderId=order_id, channelId=channel_id, previousStatus=before, status=after, reason=reason
            ),
        )
    ]
    if after == "BACKORDERED":
        wait = new.get("backorder") or {}
        created = BackorderCreated(
            orderId=order_id, channelId=channel_id, skus=wait.get("skus", []), until=wait.get("until")
        )
        found.append((EventType.BACKORDER_CREATED, order_id, created))
    elif before == "BACKORDERED" and after == "CANCELLED" and str(reason or "").startswith(EXPIRED_BACKORDER):
        found.append(
            (
                EventType.BACKORDER_EXPIRED,
                order_id,
                BackorderExpired(orderId=order_id, channelId=channel_id, reason=reason),
            )
        )
    elif before == "BACKORDERED" and after != "CANCELLED":
        found.append(
            (
                EventType.BACKORDER_FILLED,
                order_id,
                BackorderFilled(orderId=order_id, channelId=channel_id, status=after),
            )
        )
    if after == "CANCELLED":
        cancelled = OrderCancelled(
            orderId=order_id, channelId=channel_id, previousStatus=before, reason=reason
        )
        found.append((EventType.ORDER_CANCELLED, order_id, cancelled))
    return found


def _created(order: Item) -> OrderCreated:
    return OrderCreated(
        orderId=order["orderId"],
        channelId=order["channelId"],
        channelOrderId=order["channelOrderId"],
        orderNumber=order.get("orderNumber"),
        status=order["status"],
        currency=order.get("currency"),
        total=_money(order.get("total")),
        lines=_units(order.get("lines") or []),
        customerEmail=(order.get("customer") or {}).get("email"),
        createdAt=order["createdAt"],
    )


# -- fulfillments -----------------------------------------------------------------------------------


def _fulfillment(change: Change) -> Found:
    new = change.new or {}
    ids = {
        "orderId": new["orderId"],
        "fulfillmentId": new["fulfillmentId"],
        "warehouseId": new["warehouseId"],
    }
    subject = new["orderId"]
    if change.old is None:
        return [
            (EventType.FULFILLMENT_PLANNED, subject, FulfillmentPlanned(**ids, lines=_units(new["lines"])))
        ]
    found: list[tuple[EventType, EventData]] = []
    if change.changed("status"):
        found += _status_events(new, ids)
    if change.changed("trackingUpdatedAt") and new.get("tracking"):
        found += _tracking_events(change, new, ids)
    return [(event_type, subject, data) for event_type, data in found]


def _status_events(new: Item, ids: dict[str, str]) -> list[tuple[EventType, EventData]]:
    status = new["status"]
    if status == "SHIPPED":
        shipped = FulfillmentShipped(
            **ids, carrier=new.get("carrier"), trackingNumber=new.get("trackingNumber")
        )
        return [(EventType.FULFILLMENT_SHIPPED, shipped)]
    if status == "DELIVERED":
        return [
            (EventType.FULFILLMENT_DELIVERED, FulfillmentDelivered(**ids, deliveredAt=new.get("deliveredAt")))
        ]
    if status == "FAILED":
        failed = FulfillmentException(**ids, kind="FAILED", reason=new.get("statusReason"))
        return [(EventType.FULFILLMENT_EXCEPTION, failed)]
    return []


def _tracking_events(change: Change, new: Item, ids: dict[str, str]) -> list[tuple[EventType, EventData]]:
    tracking = new["tracking"]
    previous = ((change.old or {}).get("tracking") or {}).get("status")
    checkpoints = tracking.get("checkpoints") or []
    updated = TrackingUpdated(
        orderId=ids["orderId"],
        fulfillmentId=ids["fulfillmentId"],
        carrier=new.get("carrier"),
        trackingNumber=new.get("trackingNumber"),
        status=tracking["status"],
        previousStatus=previous,
        estimatedDelivery=tracking.get("estimatedDelivery"),
        publicUrl=tracking.get("publicUrl"),
        lastCheckpoint=checkpoints[-1] if checkpoints else None,
    )
    found: list[tuple[EventType, EventData]] = [(EventType.TRACKING_UPDATED, updated)]
    if tracking["status"] != previous and TrackingStatus(tracking["status"]) in EXCEPTION_STATUSES:
        last = f": {checkpoints[-1].get('message')}" if checkpoints else ""
        exception = FulfillmentException(
            **ids,
            kind="CARRIER_EXCEPTION",
            reason=f"carrier: {tracking['status']}{last}",
            trackingStatus=tracking["status"],
        )
        found.append((EventType.FULFILLMENT_EXCEPTION, exception))
    return found


# -- returns ----------------------------------------------------------------------------------------


def _return(change: Change) -> Found:
    new = change.new or {}
    ids = {"returnId": new["returnId"], "orderId": new["orderId"], "channelId": new["channelId"]}
    subject = new["returnId"]
    if change.old is None:
        authorized = ReturnAuthorized(
            **ids,
            resolution=new["resolution"],
            lines=_units(new["lines"]),
            expectedRefund=str(new["expectedRefund"]),
            currency=new["currency"],
            deadline=new["deadline"],
        )
        return [(EventType.RETURN_AUTHORIZED, subject, authorized)]
    found: Found = []
    if change.changed("receipt") and new.get("receipt"):
        receipt = new["receipt"]
        received = ReturnReceived(
            **ids, warehouseId=receipt.get("warehouseId"), lines=receipt.get("lines") or []
        )
        found.append((EventType.RETURN_RECEIVED, subject, received))
    refund = new.get("refund") or {}
    before = ((change.old or {}).get("refund") or {}).get("status")
    if refund.get("status") in REFUNDED and refund.get("status") != before:
        refunded = ReturnRefunded(
            **ids,
            refundId=refund["refundId"],
            status=refund["status"],
            method=refund["method"],
            total=str(refund["total"]),
            currency=refund["currency"],
        )
        found.append((EventType.RETURN_REFUNDED, subject, refunded))
    return found


_DERIVERS: dict[tuple[str, str], Callable[[Change], Found]] = {
    ("Orders", "ORDER"): _order,
    ("Orders", "FULFILLMENT"): _fulfillment,
    ("Returns", "RETURN"): _return,
}
