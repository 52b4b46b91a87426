"""Domain events: what the OMS tells the retailer's other systems, one versioned schema per type.

Every event is published on the stack's EventBridge bus as `Source: "oms"`, `DetailType: <type>` and
`Detail: DomainEvent` (the envelope below, whose `data` is the type's model). Events are derived from
the records each transaction wrote (DynamoDB Streams are the outbox), so only committed changes are
published; `id` is stable (derived from the stream record), so a consumer that sees an id twice can
drop the second. docs/events.md is generated from these models (`python -m shared.models.events`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from shared.models.base import Model

SOURCE = "oms"
SCHEMA_VERSION = 1


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_CANCELLED = "order.cancelled"
    FULFILLMENT_PLANNED = "fulfillment.planned"
    FULFILLMENT_SHIPPED = "fulfillment.shipped"
    FULFILLMENT_DELIVERED = "fulfillment.delivered"
    FULFILLMENT_EXCEPTION = "fulfillment.exception"
    TRACKING_UPDATED = "tracking.updated"
    BACKORDER_CREATED = "backorder.created"
    BACKORDER_FILLED = "backorder.filled"
    BACKORDER_EXPIRED = "backorder.expired"
    INVENTORY_LOW = "inventory.low"
    INVENTORY_OUT_OF_STOCK = "inventory.out_of_stock"
    INVENTORY_BACK_IN_STOCK = "inventory.back_in_stock"
    RETURN_AUTHORIZED = "return.authorized"
    RETURN_RECEIVED = "return.received"
    RETURN_REFUNDED = "return.refunded"


class EventData(Model):
    model_config = ConfigDict(extra="forbid")


class Units(EventData):
    sku: str
    quantity: int


class OrderCreated(EventData):
    orderId: str
    channelId: str
    channelOrderId: str
    orderNumber: str | None = None
    status: str = Field(description="RECEIVED, or REJECTED for an invalid order a queue channel sent")
    currency: str | None = None
    total: str | None = Field(default=None, description="Decimal string in the order's currency")
    lines: list[Units] = []
    customerEmail: str | None = None
    createdAt: str


class OrderStatusChanged(EventData):
    orderId: str
    channelId: str
    previousStatus: str
    status: str
    reason: str | None = None


class OrderCancelled(EventData):
    orderId: str
    channelId: str
    previousStatus: str
    reason: str | None = None


class FulfillmentPlanned(EventData):
    orderId: str
    fulfillmentId: str
    warehouseId: str
    lines: list[Units]


class FulfillmentShipped(EventData):
    orderId: str
    fulfillmentId: str
    warehouseId: str
    carrier: str | None = None
    trackingNumber: str | None = None


class FulfillmentDelivered(EventData):
    orderId: str
    fulfillmentId: str
    warehouseId: str
    deliveredAt: str | None = None


class FulfillmentException(EventData):
    orderId: str
    fulfillmentId: str
    warehouseId: str
    kind: str = Field(description="FAILED (the warehouse did not ship it) or CARRIER_EXCEPTION")
    reason: str | None = None
    trackingStatus: str | None = None


class TrackingUpdated(EventData):
    orderId: str
    fulfillmentId: str
    carrier: str | None = None
    trackingNumber: str | None = None
    status: str = Field(description="The tracker's status (EasyPost's vocabulary)")
    previousStatus: str | None = None
    estimatedDelivery: str | None = None
    publicUrl: str | None = None
    lastCheckpoint: dict[str, Any] | None = Field(
        default=None, description="The newest checkpoint: at, status, message, city, region, country"
    )


class BackorderCreated(EventData):
    orderId: str
    channelId: str
    skus: list[str] = Field(description="What it waits for")
    until: str | None = Field(default=None, description="When it is cancelled if still short")


class BackorderFilled(EventData):
    orderId: str
    channelId: str
    status: str = Field(description="The status it moved on to (RESERVED, or on)")


class BackorderExpired(EventData):
    orderId: str
    channelId: str
    reason: str | None = None


class InventoryLevel(EventData):
    sku: str
    available: int = Field(description="Available across every warehouse when the event was published")
    lowStockThreshold: int
    locations: dict[str, int] = Field(description="Warehouse id -> available there")


class ReturnAuthorized(EventData):
    returnId: str
    orderId: str
    channelId: str
    resolution: str
    lines: list[Units]
    expectedRefund: str
    currency: str
    deadline: str


class ReturnReceived(EventData):
    returnId: str
    orderId: str
    channelId: str
    warehouseId: str | None = None
    lines: list[dict[str, Any]] = Field(description="sku, quantity, condition (RESELLABLE or DAMAGED)")


class ReturnRefunded(EventData):
    returnId: str
    orderId: str
    channelId: str
    refundId: str
    status: str = Field(description="SUCCEEDED (the channel refunded) or MANUAL (a person refunds it)")
    method: str
    total: str
    currency: str


MEANINGS: dict[EventType, str] = {
    EventType.ORDER_CREATED: "An order was received from a channel (status RECEIVED), or stored REJECTED.",
    EventType.ORDER_STATUS_CHANGED: "An order's status changed (every change, whatever caused it).",
    EventType.ORDER_CANCELLED: "An order was cancelled (retailer, channel, or an expired backorder).",
    EventType.FULFILLMENT_PLANNED: "A shipment from one warehouse was planned and its stock reserved.",
    EventType.FULFILLMENT_SHIPPED: "The warehouse reported a shipment SHIPPED.",
    EventType.FULFILLMENT_DELIVERED: "A shipment was delivered (said the warehouse, or a carrier's tracker).",
    EventType.FULFILLMENT_EXCEPTION: "A shipment needs attention: it FAILED (the warehouse never shipped "
    "it), or the carrier reports return_to_sender or failure.",
    EventType.TRACKING_UPDATED: "A carrier tracking provider reported something newer about a shipment.",
    EventType.BACKORDER_CREATED: "An order could not be reserved and waits for stock (BACKORDERED).",
    EventType.BACKORDER_FILLED: "A waiting order was reserved after a restock.",
    EventType.BACKORDER_EXPIRED: "A waiting order waited its channel's limit and was cancelled.",
    EventType.INVENTORY_LOW: "A SKU's available units (all warehouses) fell to its lowStockThreshold.",
    EventType.INVENTORY_OUT_OF_STOCK: "A SKU has no available units left in any warehouse.",
    EventType.INVENTORY_BACK_IN_STOCK: "A SKU that was out of stock has available units again.",
    EventType.RETURN_AUTHORIZED: "A return was authorized under the channel's policy.",
    EventType.RETURN_RECEIVED: "The returns warehouse received a return's goods.",
    EventType.RETURN_REFUNDED: "A return's refund was made by the channel (SUCCEEDED) or left to a person "
    "(MANUAL).",
}

DATA_MODELS: dict[EventType, type[EventData]] = {
    EventType.ORDER_CREATED: OrderCreated,
    EventType.ORDER_STATUS_CHANGED: OrderStatusChanged,
    EventType.ORDER_CANCELLED: OrderCancelled,
    EventType.FULFILLMENT_PLANNED: FulfillmentPlanned,
    EventType.FULFILLMENT_SHIPPED: FulfillmentShipped,
    EventType.FULFILLMENT_DELIVERED: FulfillmentDelivered,
    EventType.FULFILLMENT_EXCEPTION: FulfillmentException,
    EventType.TRACKING_UPDATED: TrackingUpdated,
    EventType.BACKORDER_CREATED: BackorderCreated,
    EventType.BACKORDER_FILLED: BackorderFilled,
    EventType.BACKORDER_EXPIRED: BackorderExpired,
    EventType.INVENTORY_LOW: InventoryLevel,
    EventType.INVENTORY_OUT_OF_STOCK: InventoryLevel,
    EventType.INVENTORY_BACK_IN_STOCK: InventoryLevel,
    EventType.RETURN_AUTHORIZED: ReturnAuthorized,
    EventType.RETURN_RECEIVED: ReturnReceived,
    EventType.RETURN_REFUNDED: ReturnRefunded,
}


class DomainEvent(Model):
    """The envelope every event shares (the EventBridge `Detail`)."""

    id: str = Field(description="Stable: the same change always has the same id")
    type: EventType
    version: int = Field(default=SCHEMA_VERSION, description="The schema version of `data`")
    time: str = Field(description="When the change committed (UTC, ISO 8601)")
    subject: str = Field(description="What it is about: an order, return or SKU id")
    data: dict[str, Any]

    @classmethod
    def of(
        cls, event_id: str, event_type: EventType, time: str, subject: str, data: EventData
    ) -> DomainEvent:
        if not isinstance(data, DATA_MODELS[event_type]):
            raise TypeError(f"{event_type.value} carries {DATA_MODELS[event_type].__name__}")
        return cls(
            id=event_id, type=event_type, time=time, subject=subject, data=data.model_dump(mode="json")
        )

    def entry(self, bus_name: str) -> dict[str, Any]:
        """The PutEvents entry that publishes it."""
        return {
            "Source": SOURCE,
            "DetailType": self.type.value,
            "Detail": self.model_dump_json(),
            "EventBusName": bus_name,
            "Resources": [],
            "Time": self.time,
        }


_ORDER = {"orderId": "ord_01KAB3XG2N5Q8W0D1V6R7T9YZC", "channelId": "demo-shopify"}
_SHIPMENT = {
    "orderId": _ORDER["orderId"],
    "fulfillmentId": f"{_ORDER['orderId']}-F1",
    "warehouseId": "wh-east",
}
_RETURN = {"returnId": f"{_ORDER['orderId']}-R1", **_ORDER}
_SKU = "MUG-WHT-11OZ"
_AT = "2026-11-20T10:00:00.000Z"

EXAMPLES: dict[EventType, EventData] = {
    EventType.ORDER_CREATED: OrderCreated(
        **_ORDER,
        channelOrderId="820982911946154508",
        orderNumber="#1001",
        status="RECEIVED",
        currency="USD",
        total="30.50",
        lines=[Units(sku="MUG-WHT-11OZ", quantity=2)],
        customerEmail="ada@example.com",
        createdAt=_AT,
    ),
    EventType.ORDER_STATUS_CHANGED: OrderStatusChanged(
        **_ORDER, previousStatus="RESERVED", status="FULFILLING", reason="released to wh-east"
    ),
    EventType.ORDER_CANCELLED: OrderCancelled(**_ORDER, previousStatus="RESERVED", reason="customer asked"),
    EventType.FULFILLMENT_PLANNED: FulfillmentPlanned(
        **_SHIPMENT, lines=[Units(sku="MUG-WHT-11OZ", quantity=2)]
    ),
    EventType.FULFILLMENT_SHIPPED: FulfillmentShipped(
        **_SHIPMENT, carrier="UPS", trackingNumber="1Z999AA10123456784"
    ),
    EventType.FULFILLMENT_DELIVERED: FulfillmentDelivered(
        **_SHIPMENT, deliveredAt="2026-11-21T14:38:00.000Z"
    ),
    EventType.FULFILLMENT_EXCEPTION: FulfillmentException(
        **_SHIPMENT,
        kind="CARRIER_EXCEPTION",
        reason="carrier: return_to_sender: Returned to sender: address not found",
        trackingStatus="return_to_sender",
    ),
    EventType.TRACKING_UPDATED: TrackingUpdated(
        orderId=_SHIPMENT["orderId"],
        fulfillmentId=_SHIPMENT["fulfillmentId"],
        carrier="UPS",
        trackingNumber="1Z999AA10123456784",
        status="out_for_delivery",
        previousStatus="in_transit",
        estimatedDelivery="2026-11-21",
        publicUrl="https://track.easypost.com/djE6dHJrXzViOGUwYzdk",
        lastCheckpoint={
            "at": "2026-11-21T08:41:00.000Z",
            "status": "out_for_delivery",
            "message": "Out For Delivery Today",
            "city": "BROOKLYN",
            "region": "NY",
            "country": "US",
        },
    ),
    EventType.BACKORDER_CREATED: BackorderCreated(
        **_ORDER, skus=["MUG-WHT-11OZ"], until="2026-11-27T10:00:00.000Z"
    ),
    EventType.BACKORDER_FILLED: BackorderFilled(**_ORDER, status="RESERVED"),
    EventType.BACKORDER_EXPIRED: BackorderExpired(
        **_ORDER, reason="BACKORDER_EXPIRED: no stock of MUG-WHT-11OZ since 2026-11-20T10:00:00.000Z"
    ),
    EventType.INVENTORY_LOW: InventoryLevel(
        sku=_SKU, lowStockThreshold=10, available=8, locations={"wh-east": 8, "wh-west": 0}
    ),
    EventType.INVENTORY_OUT_OF_STOCK: InventoryLevel(
        sku=_SKU, lowStockThreshold=10, available=0, locations={"wh-east": 0, "wh-west": 0}
    ),
    EventType.INVENTORY_BACK_IN_STOCK: InventoryLevel(
        sku=_SKU, lowStockThreshold=10, available=40, locations={"wh-east": 40, "wh-west": 0}
    ),
    EventType.RETURN_AUTHORIZED: ReturnAuthorized(
        **_RETURN,
        resolution="REFUND",
        lines=[Units(sku="MUG-WHT-11OZ", quantity=1)],
        expectedRefund="13.50",
        currency="USD",
        deadline="2026-12-20T23:59:59.999Z",
    ),
    EventType.RETURN_RECEIVED: ReturnReceived(
        **_RETURN,
        warehouseId="wh-east",
        lines=[{"sku": "MUG-WHT-11OZ", "quantity": 1, "condition": "RESELLABLE"}],
    ),
    EventType.RETURN_REFUNDED: ReturnRefunded(
        **_RETURN,
        refundId=f"{_RETURN['returnId']}-RF",
        status="SUCCEEDED",
        method="CHANNEL",
        total="13.50",
        currency="USD",
    ),
}


def example(event_type: EventType) -> DomainEvent:
    """The documented example of a type, in its envelope."""
    family = event_type.value.split(".", 1)[0]
    subject = {"inventory": _SKU, "return": _RETURN["returnId"]}.get(family, _ORDER["orderId"])
    return DomainEvent.of(
        "c81e728d9d4c2f636f067f89cc14862c-0", event_type, _AT, subject, EXAMPLES[event_type]
    )


def markdown() -> str:
    """docs/events.md: the envelope, then each type's meaning, schema and example."""
    lines = [
        "# Domain events",
        "",
        "<!-- Generated by `python -m shared.models.events > docs/events.md`; a test keeps it current. -->",
        "",
        "Published on the stack's EventBridge bus (output `EventBusName`; archived, so events can be",
        f'replayed) as `Source: "{SOURCE}"`, `DetailType: <type>`, `Detail: <the envelope>`. Locally',
        "they flow on moto's EventBridge the same way (see the README). Each is derived from a committed",
        "write (DynamoDB Streams are the outbox), in commit order per item; `id` is stable, so a consumer",
        "that sees an id again can drop it. A new optional field keeps `version`; anything else raises it.",
        "",
        "## Envelope",
        "",
        "```json",
        json.dumps(DomainEvent.model_json_schema(), indent=2),
        "```",
    ]
    for event_type in EventType:
        model = DATA_MODELS[event_type]
        lines += [
            "",
            f"## `{event_type.value}` (version {SCHEMA_VERSION})",
            "",
            MEANINGS[event_type],
            "",
            "Example:",
            "",
            "```json",
            example(event_type).model_dump_json(indent=2),
            "```",
            "",
            "<details><summary>Schema of <code>data</code></summary>",
            "",
            "```json",
            json.dumps(model.model_json_schema(), indent=2),
            "```",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def schema_document() -> dict[str, Any]:
    """Every type's JSON Schema, as docs/events.md shows them."""
    return {
        "envelope": DomainEvent.model_json_schema(),
        "types": {event_type.value: DATA_MODELS[event_type].model_json_schema() for event_type in EventType},
    }


if __name__ == "__main__":
    print(markdown(), end="")
