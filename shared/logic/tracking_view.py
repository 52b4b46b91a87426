"""An order as its customer sees it on the tracking page (pure: the caller reads the order and returns).

Each fulfillment is a shipment with a progress stage; an order not yet split into shipments (received,
backordered, cancelled or failed before sourcing) shows its lines as one. Only what the customer may
see is copied: the destination city (no street, no postal code), checkpoints' places as the carrier
gave them, titles and quantities; prices only when `with_prices` (a signed link).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import quote, urlsplit

from shared.models.order import Fulfillment, FulfillmentStatus, OrderStatus, OrderView
from shared.models.returns import Return, ReturnStatus
from shared.models.tracking import EXCEPTION_STATUSES, ShipmentTracking, TrackingStatus
from shared.models.tracking_view import (
    STAGE_LABELS,
    PricedLine,
    Prices,
    PublicCheckpoint,
    PublicLine,
    PublicReturn,
    PublicShipment,
    Stage,
    TrackingView,
)

# The carriers whose public tracking page can be opened from a tracking number alone.
CARRIER_PAGES: dict[str, str] = {
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
}
_CARRIER_ALIASES = {"unitedparcelservice": "ups", "federalexpress": "fedex", "dhlexpress": "dhl"}
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")

EXCEPTION_DETAILS: dict[TrackingStatus, str] = {
    TrackingStatus.RETURN_TO_SENDER: "The carrier is returning this parcel to the sender.",
    TrackingStatus.FAILURE: "The carrier could not deliver this parcel.",
}
NEVER_SHIPPED = "This shipment could not be sent; the shop will be in touch."
LOST_IN_TRANSIT = "The carrier has not confirmed delivery; the shop will be in touch."

ORDER_LABELS: dict[OrderStatus, str] = {
    OrderStatus.RECEIVED: "Confirmed",
    OrderStatus.BACKORDERED: "Confirmed: waiting for stock",
    OrderStatus.RESERVED: "Confirmed",
    OrderStatus.FULFILLING: "Preparing",
    OrderStatus.PARTIALLY_SHIPPED: "Partly on its way",
    OrderStatus.SHIPPED: "On its way",
    OrderStatus.PARTIALLY_DELIVERED: "Partly delivered",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.FAILED: "There is a problem with this order",
    OrderStatus.REJECTED: "Not accepted",
}
# Returns the customer still waits on: the goods are expected, or arrived and the refund or the
# exchange is under way (a refund the channel refused is still owed: the shop is looking at it).
RETURN_LABELS: dict[ReturnStatus, str] = {
    ReturnStatus.AUTHORIZED: "Return accepted: send the items back",
    ReturnStatus.RECEIVED: "Items received: refund or exchange in progress",
    ReturnStatus.REFUND_FAILED: "Items received: the shop is completing your refund",
    ReturnStatus.FAILED: "The shop is reviewing this return",
}
OPEN_FOR_THE_CUSTOMER = frozenset(RETURN_LABELS)
_PREPARING = frozenset({FulfillmentStatus.REQUESTED, FulfillmentStatus.PICKED, FulfillmentStatus.PACKED})


def carrier_key(carrier: str | None) -> str | None:
    """A carrier's name reduced to a key of CARRIER_PAGES ("UPS", "FedEx Ground", "DHL Express")."""
    if not carrier:
        return None
    squeezed = _NOT_LETTERS.sub("", carrier.casefold())
    squeezed = _CARRIER_ALIASES.get(squeezed, squeezed)
    return next((key for key in CARRIER_PAGES if squeezed.startswith(key)), None)


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute https URL (a provider's `publicUrl` is shown as a link: never a
    `javascript:` or `data:` one), else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme == "https" and parts.netloc and len(url) <= 2048 else None


def tracking_url(
    carrier: str | None, tracking_number: str | None, tracking: ShipmentTracking | None
) -> str | None:
    """The provider's public page, else the well-known carrier's page for the number, else None."""
    published = safe_url(tracking.publicUrl) if tracking else None
    if published:
        return published
    key = carrier_key(carrier)
    if key is None or not tracking_number or not tracking_number.strip():
        return None
    return CARRIER_PAGES[key].format(number=quote(tracking_number.strip(), safe=""))


def stage_of(fulfillment: Fulfillment) -> tuple[Stage, Stage, str | None]:
    """(stage, the last progress step reached, what went wrong) of one shipment."""
    status, tracking = fulfillment.status, fulfillment.tracking
    shipped = fulfillment.carrier is not None or fulfillment.trackingNumber is not None
    if status is FulfillmentStatus.CANCELLED:
        return Stage.CANCELLED, Stage.CONFIRMED, None
    if status is FulfillmentStatus.DELIVERED:
        return Stage.DELIVERED, Stage.DELIVERED, None
    if status is FulfillmentStatus.FAILED:  # never shipped, or never confirmed delivered
        return _failed(shipped)
    if status is FulfillmentStatus.SHIPPED:
        return _carrier_stage(tracking)
    if status in _PREPARING:
        return Stage.PREPARING, Stage.PREPARING, None
    return Stage.CONFIRMED, Stage.CONFIRMED, None


def _failed(shipped: bool) -> tuple[Stage, Stage, str | None]:
    if shipped:
        return Stage.EXCEPTION, Stage.ON_ITS_WAY, LOST_IN_TRANSIT
    return Stage.EXCEPTION, Stage.PREPARING, NEVER_SHIPPED


def _carrier_stage(tracking: ShipmentTracking | None) -> tuple[Stage, Stage, str | None]:
    if tracking is None:
        return Stage.ON_ITS_WAY, Stage.ON_ITS_WAY, None
    if tracking.status in EXCEPTION_STATUSES:
        return Stage.EXCEPTION, Stage.ON_ITS_WAY, EXCEPTION_DETAILS[tracking.status]
    if tracking.status is TrackingStatus.DELIVERED:
        return Stage.DELIVERED, Stage.DELIVERED, None
    if tracking.status is TrackingStatus.OUT_FOR_DELIVERY:
        return Stage.OUT_FOR_DELIVERY, Stage.OUT_FOR_DELIVERY, None
    return Stage.ON_ITS_WAY, Stage.ON_ITS_WAY, None


def _unshipped_stage(status: OrderStatus) -> tuple[Stage, Stage, str | None]:
    """The one "shipment" of an order that was never split into fulfillments."""
    if status is OrderStatus.CANCELLED:
        return Stage.CANCELLED, Stage.CONFIRMED, None
    if status is OrderStatus.FAILED:
        return Stage.EXCEPTION, Stage.CONFIRMED, NEVER_SHIPPED
    return Stage.CONFIRMED, Stage.CONFIRMED, None


def _titles(order: OrderView) -> dict[str, str]:
    titles: dict[str, str] = {}
    for line in order.lines:
        if line.title:
            titles.setdefault(line.sku, line.title)
    return titles


def _shipment(fulfillment: Fulfillment, titles: dict[str, str], city: str | None) -> PublicShipment:
    stage, reached, detail = stage_of(fulfillment)
    tracking = fulfillment.tracking
    checkpoints = [
        PublicCheckpoint(at=c.at, message=c.message, city=c.city, region=c.region, country=c.country)
        for c in reversed(tracking.checkpoints if tracking else [])
    ]
    return PublicShipment(
        stage=stage,
        stageLabel=STAGE_LABELS[stage],
        reached=reached,
        detail=detail,
        lines=[
            PublicLine(sku=line.sku, title=titles.get(line.sku), quantity=line.quantity)
            for line in fulfillment.lines
        ],
        carrier=fulfillment.carrier,
        trackingNumber=fulfillment.trackingNumber,
        trackingUrl=tracking_url(fulfillment.carrier, fulfillment.trackingNumber, tracking),
        estimatedDelivery=tracking.estimatedDelivery if tracking and stage is not Stage.DELIVERED else None,
        deliveredAt=fulfillment.deliveredAt if stage is Stage.DELIVERED else None,
        destinationCity=city,
        checkpoints=checkpoints,
    )


def _shipments(order: OrderView) -> list[PublicShipment]:
    titles = _titles(order)
    city = order.shippingAddress.city if order.shippingAddress else None
    if order.fulfillments:
        return [_shipment(f, titles, city) for f in sorted(order.fulfillments, key=lambda f: f.fulfillmentId)]
    stage, reached, detail = _unshipped_stage(order.status)
    lines = [
        PublicLine(sku=line.sku, title=line.title, quantity=line.quantity)
        for line in order.lines
        if line.requiresShipping
    ]
    return [
        PublicShipment(
            stage=stage,
            stageLabel=STAGE_LABELS[stage],
            reached=reached,
            detail=detail,
            lines=lines,
            destinationCity=city,
        )
    ]


def _returns(order: OrderView, returns: Sequence[Return], with_prices: bool) -> list[PublicReturn]:
    titles = _titles(order)
    shown = []
    for found in returns:
        if found.status not in OPEN_FOR_THE_CUSTOMER:
            continue
        refund = found.refund.total if found.refund else found.expectedRefund
        shown.append(
            PublicReturn(
                status=found.status.value,
                statusLabel=RETURN_LABELS[found.status],
                lines=[
                    PublicLine(sku=line.sku, title=titles.get(line.sku), quantity=line.quantity)
                    for line in found.lines
                ],
                sendBackBy=found.deadline if found.status is ReturnStatus.AUTHORIZED else None,
                refund=refund if with_prices else None,
            )
        )
    return shown


def _prices(order: OrderView) -> Prices | None:
    if order.currency is None:
        return None
    return Prices(
        currency=order.currency,
        lines=[
            PricedLine(
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                unitPrice=line.unitPrice,
                total=line.amount_due(order.taxesIncluded),
            )
            for line in order.lines
        ],
        shipping=order.shippingPrice + (Decimal("0") if order.taxesIncluded else order.shippingTax),
        discount=order.orderDiscount,
        total=order.total if order.total is not None else order.amount_due(),
    )


def public_view(
    order: OrderView, returns: Sequence[Return], *, with_prices: bool, link_expires_at: str | None = None
) -> TrackingView:
    return TrackingView(
        orderNumber=order.orderNumber or order.channelOrderId,
        placedAt=order.createdAt,
        status=order.status.value,
        statusLabel=ORDER_LABELS[order.status],
        shipments=_shipments(order),
        returns=_returns(order, returns, with_prices),
        prices=_prices(order) if with_prices else None,
        linkExpiresAt=link_expires_at,
    )
