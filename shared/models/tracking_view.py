"""The customer tracking page: what a customer sends to look an order up, and what they are shown.

What the page shows is only what the lookup proves the right to see: no address beyond the city, no
e-mail, and prices only to the holder of a signed link (`TrackingView.prices`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from shared.models.base import Model
from shared.models.catalog import NotBoolean
from shared.models.money import Amount

LookupText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def normalized_number(number: str | None) -> str | None:
    """An order number as a lookup compares it: trimmed, leading '#' dropped, case-folded ("#1001 "
    and "1001" are one number); None when nothing is left."""
    if number is None:
        return None
    folded = number.strip().lstrip("#").strip().casefold()
    return folded or None


def normalized_email(email: str | None) -> str | None:
    folded = (email or "").strip().casefold()
    return folded or None


_NOT_IN_POSTAL_CODES = re.compile(r"[\s-]+")


def normalized_postal_code(postal_code: str | None) -> str | None:
    """Case-folded, without spaces or hyphens ("sw1a 1aa" is "SW1A1AA", "02108-1234" is "021081234")."""
    folded = _NOT_IN_POSTAL_CODES.sub("", postal_code or "").casefold()
    return folded or None


def postal_codes_match(given: str | None, stored: str | None, country: str | None) -> bool:
    """The same postal code, normalized; in the US a 5-digit ZIP code also matches its ZIP+4."""
    mine, theirs = normalized_postal_code(given), normalized_postal_code(stored)
    if mine is None or theirs is None:
        return False
    if mine == theirs:
        return True
    us_zip = country == "US" and mine.isdigit() and theirs.isdigit()
    return us_zip and {len(mine), len(theirs)} == {5, 9} and mine[:5] == theirs[:5]


class TrackingLookupIn(Model):
    """POST /track/lookup: an order number with the order's e-mail or postal code, or a link's token."""

    model_config = ConfigDict(extra="forbid")
    orderNumber: Annotated[LookupText, StringConstraints(max_length=64)] | None = Field(
        default=None,
        description="The order number as the shop showed it ('#1001'), or the channel's order id",
    )
    email: Annotated[LookupText, StringConstraints(max_length=254)] | None = Field(
        default=None, description="The e-mail address the order was placed with"
    )
    postalCode: Annotated[LookupText, StringConstraints(max_length=32)] | None = Field(
        default=None, description="The postal code the order ships to"
    )
    token: Annotated[LookupText, StringConstraints(max_length=256)] | None = Field(
        default=None, description="A signed link's token (`/track?token=...`), instead of the three others"
    )

    @model_validator(mode="after")
    def _one_proof(self) -> TrackingLookupIn:
        if self.token is not None:
            if self.orderNumber is not None or self.email is not None or self.postalCode is not None:
                raise ValueError("send either token alone, or orderNumber with email or postalCode")
            return self
        if self.orderNumber is None:
            raise ValueError("orderNumber is required (or a token)")
        if (self.email is None) == (self.postalCode is None):
            raise ValueError("send exactly one of email and postalCode with orderNumber")
        return self


class Stage(StrEnum):
    """Where a shipment is, as the customer's progress bar shows it."""

    CONFIRMED = "CONFIRMED"
    PREPARING = "PREPARING"
    ON_ITS_WAY = "ON_ITS_WAY"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"  # returned to sender, delivery failed, or the warehouse never shipped it
    CANCELLED = "CANCELLED"


# The steps of the progress bar, in order; EXCEPTION and CANCELLED stop it where it had got to.
PROGRESS: tuple[Stage, ...] = (
    Stage.CONFIRMED,
    Stage.PREPARING,
    Stage.ON_ITS_WAY,
    Stage.OUT_FOR_DELIVERY,
    Stage.DELIVERED,
)
STAGE_LABELS: dict[Stage, str] = {
    Stage.CONFIRMED: "Confirmed",
    Stage.PREPARING: "Preparing",
    Stage.ON_ITS_WAY: "On its way",
    Stage.OUT_FOR_DELIVERY: "Out for delivery",
    Stage.DELIVERED: "Delivered",
    Stage.EXCEPTION: "Delivery problem",
    Stage.CANCELLED: "Cancelled",
}


class PublicCheckpoint(Model):
    at: str
    message: str
    city: str | None = None
    region: str | None = None
    country: str | None = None


class PublicLine(Model):
    sku: str
    title: str | None = None
    quantity: int


class PublicShipment(Model):
    stage: Stage
    stageLabel: str
    reached: Stage = Field(description="The last step of the progress bar reached (for EXCEPTION/CANCELLED)")
    detail: str | None = Field(default=None, description="What went wrong, for EXCEPTION")
    lines: list[PublicLine]
    carrier: str | None = None
    trackingNumber: str | None = None
    trackingUrl: str | None = Field(default=None, description="The carrier's tracking page (https)")
    estimatedDelivery: str | None = None
    deliveredAt: str | None = None
    destinationCity: str | None = None
    checkpoints: list[PublicCheckpoint] = Field(default_factory=list, description="Newest first")


class PublicReturn(Model):
    status: str
    statusLabel: str
    lines: list[PublicLine]
    sendBackBy: str | None = Field(default=None, description="While the goods are awaited")
    refund: Amount | None = Field(default=None, description="Only with a signed link")


class PricedLine(PublicLine):
    unitPrice: Amount
    total: Amount = Field(
        description="What the line cost, after its discount (and with its tax unless included)"
    )


class Prices(Model):
    """What a signed link shows beyond a lookup: the order's prices."""

    currency: str
    lines: list[PricedLine]
    shipping: Amount
    discount: Amount = Decimal("0")
    total: Amount


class TrackingView(Model):
    """POST /track/lookup's answer: one order as its customer may see it."""

    orderNumber: str
    placedAt: str
    status: str = Field(description="The order's status, for the page's headline")
    statusLabel: str
    shipments: list[PublicShipment]
    returns: list[PublicReturn] = []
    prices: Prices | None = Field(default=None, description="Only when looked up with a signed link")
    linkExpiresAt: str | None = Field(default=None, description="The signed link's expiry, when one was used")


class TrackingLinkIn(Model):
    """POST /orders/{orderId}/tracking-link."""

    model_config = ConfigDict(extra="forbid")
    expiresInDays: Annotated[int, Field(ge=1, le=90), NotBoolean] = 30


class TrackingLink(Model):
    url: str = Field(description="The tracking page with the token, to send to the customer")
    token: str
    expiresAt: str
