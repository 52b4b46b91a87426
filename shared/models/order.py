"""The canonical order (what channels send, normalized) and the stored order with its life."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.models.base import Model
from shared.models.catalog import CountryCode, FulfillmentLine, Latitude, Longitude, NotBoolean
from shared.models.geo import Location
from shared.models.money import Amount, Currency, finer_than, too_fine_for
from shared.models.sourcing import SourcingPlan, UnplannableReason
from shared.models.tracking import Attention, ShipmentTracking

# Reserving an order is one DynamoDB transaction (at most 100 actions, see shared/models/limits.py):
# with at most 40 lines it always fits from one warehouse (85 actions); split plans are kept within
# the limit by the planner.
MAX_LINES = 40

NonEmpty = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=r"\S")
]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^#\s]+$")
]


class OrderStatus(StrEnum):
    RECEIVED = "RECEIVED"
    RESERVED = "RESERVED"
    FULFILLING = "FULFILLING"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    BACKORDERED = "BACKORDERED"
    FAILED = "FAILED"


# The only ways an order's status may change; every write is conditioned on it. From RESERVED on,
# the status is derived from the fulfillments (`derive_order_status`), and any derived change must
# be one of these too.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.RECEIVED: frozenset(
        {
            OrderStatus.RESERVED,
            OrderStatus.REJECTED,
            OrderStatus.BACKORDERED,
            OrderStatus.CANCELLED,
            OrderStatus.FAILED,
        }
    ),
    OrderStatus.RESERVED: frozenset({OrderStatus.FULFILLING, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.FULFILLING: frozenset(
        {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.FAILED}
    ),
    # What shipped stays shipped: from here a cancellation cancels only the rest. Back to
    # FULFILLING only when the one shipped part is never delivered (FAILED) while the rest is unshipped.
    OrderStatus.PARTIALLY_SHIPPED: frozenset(
        {
            OrderStatus.FULFILLING,
            OrderStatus.SHIPPED,
            OrderStatus.PARTIALLY_DELIVERED,
            OrderStatus.DELIVERED,
            OrderStatus.FAILED,
        }
    ),
    OrderStatus.SHIPPED: frozenset(
        {OrderStatus.PARTIALLY_DELIVERED, OrderStatus.DELIVERED, OrderStatus.FAILED}
    ),
    OrderStatus.PARTIALLY_DELIVERED: frozenset({OrderStatus.DELIVERED, OrderStatus.FAILED}),
    # Woken by a restock: sourced again, it is reserved (or rejected, or fails); it may also expire.
    OrderStatus.BACKORDERED: frozenset(
        {OrderStatus.RESERVED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.FAILED}
    ),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}

# The statuses of an order whose fulfillments are with the warehouses (or on their way).
FULFILLMENT_PHASE = frozenset(
    {
        OrderStatus.RESERVED,
        OrderStatus.FULFILLING,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.PARTIALLY_DELIVERED,
    }
)


def statuses_leading_to(target: OrderStatus) -> list[OrderStatus]:
    return [source for source, targets in ORDER_TRANSITIONS.items() if target in targets]


class FulfillmentStatus(StrEnum):
    PENDING = "PENDING"
    REQUESTED = "REQUESTED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    # The warehouse did not ship in time (or the carrier never confirmed delivery), or its step
    # failed for good: what it held is released, the rest of the order goes on.
    FAILED = "FAILED"


_UNSHIPPED = (
    FulfillmentStatus.PENDING,
    FulfillmentStatus.REQUESTED,
    FulfillmentStatus.PICKED,
    FulfillmentStatus.PACKED,
)

FULFILLMENT_TRANSITIONS: dict[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    FulfillmentStatus.PENDING: frozenset(
        {FulfillmentStatus.REQUESTED, FulfillmentStatus.CANCELLED, FulfillmentStatus.FAILED}
    ),
    FulfillmentStatus.REQUESTED: frozenset(
        {
            FulfillmentStatus.PICKED,
            FulfillmentStatus.PACKED,
            FulfillmentStatus.SHIPPED,
            FulfillmentStatus.CANCELLED,
            FulfillmentStatus.FAILED,
        }
    ),
    FulfillmentStatus.PICKED: frozenset(
        {
            FulfillmentStatus.PACKED,
            FulfillmentStatus.SHIPPED,
            FulfillmentStatus.CANCELLED,
            FulfillmentStatus.FAILED,
        }
    ),
    FulfillmentStatus.PACKED: frozenset(
        {FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED, FulfillmentStatus.FAILED}
    ),
    FulfillmentStatus.SHIPPED: frozenset({FulfillmentStatus.DELIVERED, FulfillmentStatus.FAILED}),
    FulfillmentStatus.DELIVERED: frozenset(),
    FulfillmentStatus.CANCELLED: frozenset(),
    FulfillmentStatus.FAILED: frozenset(),
}

UNSHIPPED_FULFILLMENT = frozenset(_UNSHIPPED)
SHIPPED_FULFILLMENT = frozenset({FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED})
ENDED_FULFILLMENT = frozenset(
    {FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELLED, FulfillmentStatus.FAILED}
)


def fulfillment_statuses_leading_to(target: FulfillmentStatus) -> list[FulfillmentStatus]:
    return [source for source, targets in FULFILLMENT_TRANSITIONS.items() if target in targets]


def derive_order_status(statuses: Iterable[FulfillmentStatus]) -> OrderStatus:
    """The status of an order in its fulfillment phase, from its fulfillments' statuses.

    Cancelled and failed fulfillments ship nothing; the others ("live") tell the progress. An order
    whose live fulfillments all arrived is DELIVERED only if none failed: otherwise part of it never
    will, and it is FAILED (its delivered fulfillments still say DELIVERED).
    """
    every = list(statuses)
    live = [s for s in every if s not in (FulfillmentStatus.CANCELLED, FulfillmentStatus.FAILED)]
    failed = FulfillmentStatus.FAILED in every
    if not live:
        return OrderStatus.FAILED if failed else OrderStatus.CANCELLED
    if all(s is FulfillmentStatus.DELIVERED for s in live):
        return OrderStatus.FAILED if failed else OrderStatus.DELIVERED
    if all(s in SHIPPED_FULFILLMENT for s in live):
        return OrderStatus.PARTIALLY_DELIVERED if FulfillmentStatus.DELIVERED in live else OrderStatus.SHIPPED
    if any(s in SHIPPED_FULFILLMENT for s in live):
        return OrderStatus.PARTIALLY_SHIPPED
    if all(s is FulfillmentStatus.PENDING for s in every):
        return OrderStatus.RESERVED
    return OrderStatus.FULFILLING


class Customer(Model):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: NonEmpty


class Address(Model):
    model_config = ConfigDict(extra="forbid")
    name: NonEmpty
    line1: NonEmpty
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] | None = None
    city: NonEmpty
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    postalCode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    country: CountryCode
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class OrderLine(Model):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    # The product name as the channel showed it to the buyer (for pick lists and support).
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000), NotBoolean]
    unitPrice: Amount
    # Per line, as channels report them: the discount off this line and the tax on it.
    discountAmount: Amount = Decimal("0")
    taxAmount: Amount = Decimal("0")
    # False for gift cards, digital goods and services: priced and charged, but nothing to ship.
    requiresShipping: bool = True
    channelLineId: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(default=None, description="The channel's own id for the line (its refunds name it)")
    channelTaxRateId: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(default=None, description="WooCommerce: the id of the tax rate charged on the line")

    @field_validator("discountAmount")
    @classmethod
    def _discount_within_the_line(cls, discount: Decimal, info: ValidationInfo) -> Decimal:
        price, quantity = info.data.get("unitPrice"), info.data.get("quantity")
        if price is not None and quantity is not None and discount > price * quantity:
            raise ValueError("exceeds unitPrice x quantity")
        return discount

    def amount_due(self, taxes_included: bool = False) -> Decimal:
        net = self.unitPrice * self.quantity - self.discountAmount
        return net if taxes_included else net + self.taxAmount


class CanonicalOrder(Model):
    """The OMS's own order format (channel type `api`); other channels are normalized into it."""

    model_config = ConfigDict(extra="forbid")
    channelOrderId: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    orderNumber: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(
        default=None,
        description="The order's number as the customer knows it (Shopify's name '#1001', "
        "WooCommerce's number); the channel order id when not given",
    )
    currency: Currency
    # True when prices already include their tax (common in the EU and UK): the tax amounts are
    # kept but not added again. Declared before the amounts so their validators can see it.
    taxesIncluded: bool = False
    customer: Customer
    shippingAddress: Address
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=MAX_LINES)]
    shippingPrice: Amount = Decimal("0")
    shippingTax: Amount = Decimal("0")
    # Discounts on the whole order that the channel did not spread over the lines.
    orderDiscount: Amount = Decimal("0")
    # The total the channel charged; a difference from the computed total is recorded, not fixed.
    declaredTotal: Amount | None = None

    @field_validator("orderDiscount")
    @classmethod
    def _discount_within_the_order(cls, discount: Decimal, info: ValidationInfo) -> Decimal:
        lines, shipping, shipping_tax = (info.data.get(n) for n in ("lines", "shippingPrice", "shippingTax"))
        if lines is None or shipping is None or shipping_tax is None:
            return discount  # those fields are invalid themselves and reported as such
        included = bool(info.data.get("taxesIncluded"))
        if discount > _before_order_discount(lines, shipping, shipping_tax, included):
            raise ValueError("exceeds the order's lines and shipping")
        return discount

    @field_validator("lines")
    @classmethod
    def _something_to_ship(cls, lines: list[OrderLine]) -> list[OrderLine]:
        if not any(line.requiresShipping for line in lines):
            raise ValueError("no line requires shipping; the OMS fulfils orders with something to ship")
        return lines

    @model_validator(mode="after")
    def _amounts_within_the_currency(self) -> CanonicalOrder:
        """No amount finer than the currency's smallest unit (ISO 4217): 10.001 USD is no price."""
        if self.currency is None:  # a stored REJECTED order
            return self
        problems = [
            _too_fine(location, amount, self.currency)
            for location, amount in self._amounts()
            if finer_than(amount, self.currency)
        ]
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def _amounts(self) -> list[tuple[tuple[str | int, ...], Decimal]]:
        found: list[tuple[tuple[str | int, ...], Decimal]] = []
        for index, line in enumerate(self.lines):
            found += [(("lines", index, name), getattr(line, name)) for name in LINE_AMOUNTS]
        found += [((name,), getattr(self, name)) for name in ORDER_AMOUNTS]
        return [(location, amount) for location, amount in found if amount is not None]

    def _before_order_discount(self) -> Decimal:
        return _before_order_discount(self.lines, self.shippingPrice, self.shippingTax, self.taxesIncluded)

    def units_by_sku(self) -> dict[str, int]:
        """Units to ship per SKU, in the order SKUs first appear (a SKU may be on several lines,
        e.g. with different prices or discounts)."""
        units: dict[str, int] = {}
        for line in self.lines:
            if line.requiresShipping:
                units[line.sku] = units.get(line.sku, 0) + line.quantity
        return units

    def amount_due(self) -> Decimal:
        """Lines (less their discounts, plus their tax) + shipping + shipping tax - order discount;
        tax is not added when the prices include it."""
        return self._before_order_discount() - self.orderDiscount

    def total_mismatch(self) -> TotalMismatch | None:
        computed = self.amount_due()
        if self.declaredTotal is None or self.declaredTotal == computed:
            return None
        return TotalMismatch(declared=self.declaredTotal, computed=computed)


LINE_AMOUNTS = ("unitPrice", "discountAmount", "taxAmount")
ORDER_AMOUNTS = ("shippingPrice", "shippingTax", "orderDiscount", "declaredTotal")


def _too_fine(location: tuple[str | int, ...], amount: Decimal, currency: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("currency_precision", too_fine_for(currency)),
        "loc": location,
        "input": str(amount),
    }


def _before_order_discount(
    lines: list[OrderLine], shipping: Decimal, shipping_tax: Decimal, taxes_included: bool
) -> Decimal:
    lines_due = sum((line.amount_due(taxes_included) for line in lines), Decimal("0"))
    return lines_due + shipping + (Decimal("0") if taxes_included else shipping_tax)


class TotalMismatch(Model):
    declared: Amount
    computed: Amount


class TimelineEntry(Model):
    status: str
    at: str
    reason: str | None = None


class Fulfillment(Model):
    fulfillmentId: str
    orderId: str
    warehouseId: str
    lines: list[FulfillmentLine]
    status: FulfillmentStatus
    statusReason: str | None = Field(default=None, description="Why the fulfillment FAILED")
    carrier: str | None = None
    trackingNumber: str | None = None
    shippedAt: str | None = Field(default=None, description="When it shipped, as the warehouse reported")
    deliveredAt: str | None = Field(
        default=None,
        description="When it was delivered, as the carrier or warehouse reported; starts the return window",
    )
    tracking: ShipmentTracking | None = Field(
        default=None, description="What the carrier last reported through a tracking provider"
    )
    createdAt: str
    updatedAt: str


class FieldProblem(Model):
    field: str
    message: str


class BackorderWait(Model):
    """How long a BACKORDERED order waits for stock, and for which SKUs."""

    since: str = Field(description="When it was first backordered")
    until: str = Field(description="When it is cancelled (BACKORDER_EXPIRED) if still short")
    skus: list[str] = Field(description="The SKUs whose restock wakes it")
    seenAvailable: dict[str, int] = Field(
        default_factory=dict,
        description="Each of those SKUs' available stock (all warehouses) when it was last sourced",
    )


class ExchangeLink(Model):
    """An exchange order's origin: the order whose return it replaces."""

    orderId: str
    returnId: str


class Order(CanonicalOrder):
    """A stored order: the canonical order plus identity, status and history.

    An order a queue channel delivered invalid is kept as REJECTED with its `problems`; it has
    only what identifies it (the rest stays in its archived delivery), so the canonical fields
    are optional here.
    """

    model_config = ConfigDict(extra="ignore")
    orderId: str
    channelId: str
    status: OrderStatus
    statusReason: str | None = None
    currency: Currency | None = None  # type: ignore[assignment]
    customer: Customer | None = None  # type: ignore[assignment]
    shippingAddress: Address | None = None  # type: ignore[assignment]
    lines: list[OrderLine] = []
    total: Amount | None = None
    totalMismatch: TotalMismatch | None = None
    problems: list[FieldProblem] | None = None
    deliveryId: str | None = Field(
        default=None, description="The archived channel delivery that created the order"
    )
    location: Location | None = Field(
        default=None,
        description="Where sourcing placed a shipping address that came without coordinates",
    )
    sourcingProblems: list[UnplannableReason] | None = Field(
        default=None, description="Why no shipments could be planned (the order is BACKORDERED)"
    )
    backorder: BackorderWait | None = Field(
        default=None, description="While BACKORDERED (and after): how long it waits, for what"
    )
    exchangeOf: ExchangeLink | None = Field(
        default=None, description="Set on an exchange order: the return it replaces the goods of"
    )
    attention: Attention | None = Field(
        default=None, description="Set when the order needs someone to look at it (a carrier exception)"
    )
    createdAt: str
    updatedAt: str

    @field_validator("lines")
    @classmethod
    def _something_to_ship(cls, lines: list[OrderLine]) -> list[OrderLine]:
        return lines  # checked when the order was received; rejected orders have no lines


class OrderList(Model):
    orders: list[Order]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class OrderView(Order):
    """What GET /orders/{orderId} returns."""

    sourcing: SourcingPlan | None = Field(
        default=None, description="The shipments the order was routed to, and why"
    )
    fulfillments: list[Fulfillment] = []
    timeline: list[TimelineEntry] = []
