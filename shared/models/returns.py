"""Returns: a channel's return policy, what a customer asks to send back, and the return's life."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.models.base import Model
from shared.models.catalog import NotBoolean, ReturnPolicy
from shared.models.money import Amount
from shared.models.order import MAX_LINES, OrderView, Sku

Quantity = Annotated[int, Field(ge=1, le=10_000), NotBoolean]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=r"\S")]


class Resolution(StrEnum):
    REFUND = "REFUND"
    EXCHANGE = "EXCHANGE"


class Condition(StrEnum):
    RESELLABLE = "RESELLABLE"
    DAMAGED = "DAMAGED"


class ReturnLineIn(Model):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    quantity: Quantity
    reason: Reason


class ExchangeLineIn(Model):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    quantity: Quantity
    unitPrice: Amount | None = Field(
        default=None,
        description="The replacement's price, when it differs in value from what is returned; "
        "omitted: the replacement is worth what comes back (an even exchange)",
    )


def _one_line_per_sku(lines: list[ReturnLineIn] | list[ExchangeLineIn]) -> None:
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("lists a SKU twice; give each SKU once with its total quantity")


class ReturnIn(Model):
    """What a customer asks to send back, and what they want for it."""

    model_config = ConfigDict(extra="forbid")
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=MAX_LINES)]
    resolution: Resolution
    exchangeLines: Annotated[list[ExchangeLineIn], Field(min_length=1, max_length=MAX_LINES)] | None = None

    @field_validator("lines")
    @classmethod
    def _lines_once(cls, lines: list[ReturnLineIn]) -> list[ReturnLineIn]:
        _one_line_per_sku(lines)
        return lines

    @field_validator("exchangeLines")
    @classmethod
    def _exchange_lines_once(cls, lines: list[ExchangeLineIn] | None) -> list[ExchangeLineIn] | None:
        if lines is not None:
            _one_line_per_sku(lines)
        return lines

    @model_validator(mode="after")
    def _exchange_lines_with_exchange(self) -> ReturnIn:
        if self.resolution is Resolution.EXCHANGE and not self.exchangeLines:
            raise ValueError("exchangeLines: an EXCHANGE needs the replacement lines")
        if self.resolution is Resolution.REFUND and self.exchangeLines:
            raise ValueError("exchangeLines: only an EXCHANGE has replacement lines")
        return self


class ReceivedLineIn(Model):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    quantity: Annotated[int, Field(ge=0, le=10_000), NotBoolean]
    condition: Condition


class ReturnEventIn(Model):
    """The receiving warehouse's report of what came back and in what condition."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["RECEIVED"]
    warehouseId: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    lines: Annotated[list[ReceivedLineIn], Field(min_length=1, max_length=2 * MAX_LINES)]

    @field_validator("lines")
    @classmethod
    def _each_condition_once(cls, lines: list[ReceivedLineIn]) -> list[ReceivedLineIn]:
        keys = [(line.sku, line.condition) for line in lines]
        if len(set(keys)) != len(keys):
            raise ValueError("lists a SKU twice in the same condition")
        return lines


class ReturnStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    EXPIRED = "EXPIRED"  # nothing came back before the deadline
    REFUND_FAILED = "REFUND_FAILED"  # the channel refused the refund, or kept failing: a person acts
    FAILED = "FAILED"  # a step failed for good


OPEN_RETURN = frozenset({ReturnStatus.AUTHORIZED, ReturnStatus.RECEIVED})


class DeliveredUnits(Model):
    """Units of a return line taken from one delivered fulfillment, with that delivery's deadline."""

    fulfillmentId: str
    quantity: int
    deliveredAt: str
    returnableUntil: str


class ReturnLine(Model):
    sku: str
    quantity: int
    reason: str
    # Which deliveries the units came from (each has its own window).
    delivered: list[DeliveredUnits] = []


class ExchangeLine(Model):
    sku: str
    quantity: int
    unitPrice: Amount | None = None


class ReceivedLine(Model):
    sku: str
    quantity: int
    condition: Condition


class Receipt(Model):
    warehouseId: str
    lines: list[ReceivedLine]
    receivedAt: str


class RefundLine(Model):
    lineIndex: int = Field(description="The order line refunded (its position in the order's lines)")
    sku: str
    quantity: int
    resellable: int
    damaged: int
    gross: Amount = Field(description="What the customer paid for these units, tax included")
    fee: Amount = Field(description="The restocking fee kept")
    amount: Amount = Field(description="Refunded")
    tax: Amount = Field(description="The tax part of `amount`")
    capped: Amount = Field(
        description="Not refunded because the line was refunded already (e.g. in the shop)"
    )


class RefundMethod(StrEnum):
    CHANNEL = "CHANNEL"  # through the channel's refund API (Shopify, WooCommerce)
    WEBHOOK = "WEBHOOK"  # a signed request to the api channel's refundUrl
    MANUAL = "MANUAL"  # recorded for a person to refund in the channel (Amazon, no refundUrl)
    NONE = "NONE"  # nothing to refund


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    MANUAL = "MANUAL"
    FAILED = "FAILED"


class ReturnRefund(Model):
    refundId: str
    status: RefundStatus
    method: RefundMethod
    lines: list[RefundLine]
    shipping: Amount
    total: Amount
    currency: str
    channelRefundId: str | None = None
    cause: str | None = Field(default=None, description="Why the channel did not refund (REFUND_FAILED)")


class ExchangeOutcome(StrEnum):
    PENDING = "PENDING"
    RESERVED = "RESERVED"
    UNAVAILABLE = "UNAVAILABLE"


class ReturnTimelineEntry(Model):
    status: str
    at: str
    reason: str | None = None


class Return(Model):
    model_config = ConfigDict(extra="ignore")
    returnId: str
    orderId: str
    channelId: str
    status: ReturnStatus
    statusReason: str | None = None
    resolution: Resolution
    requestedResolution: Resolution = Field(
        description="What the customer asked for; `resolution` becomes REFUND when an exchange cannot "
        "be reserved"
    )
    lines: list[ReturnLine]
    exchangeLines: list[ExchangeLine] | None = None
    policy: ReturnPolicy = Field(description="The channel's policy when the return was authorized")
    deadline: str = Field(description="The goods must be received by then, or the return EXPIRED")
    currency: str
    expectedRefund: Amount = Field(description="The refund if every unit comes back resellable")
    receipt: Receipt | None = None
    restocked: bool = False
    refund: ReturnRefund | None = None
    exchangeOrderId: str | None = None
    exchangeOutcome: ExchangeOutcome | None = None
    balanceDue: Amount | None = Field(
        default=None, description="The replacement is worth more than what came back: the customer owes this"
    )
    requestKey: str | None = Field(default=None, description="The Idempotency-Key it was authorized with")
    timeline: list[ReturnTimelineEntry] = []
    createdAt: str
    updatedAt: str


class ReturnAuthorization(Model):
    """The answer to a new return."""

    returnId: str
    status: ReturnStatus
    deadline: str
    expectedRefund: Amount
    balanceDue: Amount | None = Field(
        default=None, description="What the customer owes for a dearer replacement"
    )
    currency: str
    lines: list[ReturnLine]


class ReturnList(Model):
    returns: list[Return]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class RecordedRefund(Model):
    """One entry of an order's refund ledger, whatever its origin."""

    refundId: str
    origin: Literal["RETURN", "CHANNEL"]
    status: RefundStatus
    method: RefundMethod | None = None
    returnId: str | None = None
    channelRefundId: str | None = None
    lines: dict[str, Amount] = Field(default={}, description="Order line index -> amount refunded")
    units: dict[str, int] = Field(default={}, description="Order line index -> units refunded")
    shipping: Amount = Decimal("0")
    unallocated: Amount = Decimal("0")
    total: Amount
    at: str
    note: str | None = None
    cause: str | None = Field(default=None, description="Why the channel did not make it (FAILED)")


class OrderDetail(OrderView):
    """What GET /orders/{orderId} returns: the order with its returns and its refund ledger; the
    timeline includes the returns' events."""

    returns: list[Return] = []
    refunds: list[RecordedRefund] = Field(default=[], description="Every refund, whatever its origin")


def replacement_worth(lines: Sequence[ExchangeLineIn] | Sequence[ExchangeLine] | None) -> Decimal | None:
    """What an exchange's replacement is worth when every line has a price; None for an even
    exchange (no prices: it is worth what comes back)."""
    if not lines or any(line.unitPrice is None for line in lines):
        return None
    return sum((line.unitPrice * line.quantity for line in lines if line.unitPrice is not None), Decimal("0"))
