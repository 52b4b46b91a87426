"""Refunds as they cross the OMS's edges: seen in a channel, or sent to one through its refund port.

Amounts are Decimal, sent as strings; a line's `amount` is what the customer gets back for it,
tax included, and `tax` is the part of it that is tax.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.models.money import Amount


class ChannelRefundLine(BaseModel):
    """One line of a refund the channel reports, by the channel's own line id."""

    channelLineId: str
    sku: str | None = None
    quantity: Annotated[int, Field(ge=0)]
    amount: Amount
    tax: Amount = Decimal("0")


class ChannelRefund(BaseModel):
    """A refund made in (or reported by) the channel itself: a Shopify `refunds/create` webhook, or
    a refund listed in a WooCommerce `order.updated` payload."""

    channelRefundId: str
    channelOrderId: str
    lines: list[ChannelRefundLine] = []
    shipping: Amount = Decimal("0")
    # Refunded but not tied to a line (a WooCommerce order lists only each refund's total).
    unallocated: Amount = Decimal("0")
    total: Amount
    note: str | None = None
    processedAt: str | None = None
    # Set when the channel's refund is one the OMS made through the refund port (its note or reason
    # names the OMS refund id): it is recorded already and must not be recorded twice.
    omsRefundId: str | None = None


class RefundRequestLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The channel's id for the order line (Shopify line_item_id, WooCommerce line item id).
    channelLineId: str | None = None
    # WooCommerce: the id of the tax rate charged on the line (its `taxes[0].id`).
    channelTaxRateId: str | None = None
    sku: str
    quantity: Annotated[int, Field(ge=0)]
    amount: Amount
    tax: Amount = Decimal("0")


class RefundRequest(BaseModel):
    """What the OMS asks a channel to refund. `refundId` is the idempotency key: sending the same
    request again must never refund twice."""

    model_config = ConfigDict(extra="forbid")
    refundId: str
    orderId: str
    channelOrderId: str
    currency: str
    lines: list[RefundRequestLine]
    shipping: Amount = Decimal("0")
    total: Amount
    reason: str


class RefundReceipt(BaseModel):
    """The channel's answer to a refund it made."""

    channelRefundId: str | None = None
    # The amount the channel says it refunded, when it says.
    amount: Amount | None = None
