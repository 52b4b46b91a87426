"""Carrier tracking: providers (EasyPost, AfterShip) and what their trackers say of a shipment.

A provider's event becomes a `TrackerUpdate` (the same for every provider); the latest one a
fulfillment has seen is kept on it as its `ShipmentTracking`, with the checkpoint history.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from shared.models.base import Model
from shared.models.catalog import Identifier


class TrackingStatus(StrEnum):
    """A tracker's status in EasyPost's vocabulary, which AfterShip's tags map onto."""

    UNKNOWN = "unknown"
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    RETURN_TO_SENDER = "return_to_sender"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    ERROR = "error"


# A shipment in one of these needs someone to look at it: the order is flagged for attention.
EXCEPTION_STATUSES = frozenset({TrackingStatus.RETURN_TO_SENDER, TrackingStatus.FAILURE})


class TrackingProviderType(StrEnum):
    EASYPOST = "easypost"
    AFTERSHIP = "aftership"


WebhookSecret = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class TrackingProviderIn(Model):
    """PUT /tracking-providers/{providerId}. A new `webhookSecret` rotates the old one out over 24 h."""

    model_config = ConfigDict(extra="forbid")
    type: TrackingProviderType
    webhookSecret: WebhookSecret = Field(
        description="EasyPost: the webhook's secret (used NFKD-normalized, as EasyPost does); "
        "AfterShip: the webhook secret of the organization"
    )


class TrackingProvider(Model):
    providerId: Identifier
    type: TrackingProviderType
    webhookSecret: str
    previousWebhookSecret: str | None = None
    previousSecretValidUntil: str | None = None
    createdAt: str
    updatedAt: str

    def secrets(self, now: str) -> list[str]:
        """The secrets a delivery may be signed with now: the current one, then the previous one
        while its grace period lasts."""
        previous_valid = self.previousSecretValidUntil is not None and now < self.previousSecretValidUntil
        previous = [self.previousWebhookSecret] if previous_valid and self.previousWebhookSecret else []
        return [self.webhookSecret, *previous]

    def public_view(self) -> TrackingProviderView:
        return TrackingProviderView.model_validate(
            self.model_dump(exclude={"webhookSecret", "previousWebhookSecret"})
        )


def archive_key(provider_id: str) -> str:
    """What a provider's deliveries are archived under, in place of a channel id (which never has ':')."""
    return f"tracking:{provider_id}"


class TrackingProviderView(Model):
    providerId: str
    type: TrackingProviderType
    webhookUrl: str | None = Field(
        default=None, description="The path (on the API's base URL) the provider sends its events to"
    )
    previousSecretValidUntil: str | None = None
    createdAt: str
    updatedAt: str


class TrackingProviderList(Model):
    providers: list[TrackingProviderView]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]


class Checkpoint(Model):
    """One scan or message of the carrier."""

    at: str = Field(description="When it happened (UTC, ISO 8601)")
    status: TrackingStatus
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]
    city: Place | None = None
    region: Place | None = None
    country: Place | None = None


class ShipmentTracking(Model):
    """What the carrier last said of a fulfillment's shipment, through a tracking provider."""

    providerId: str
    trackerId: str
    status: TrackingStatus
    statusDetail: str | None = None
    estimatedDelivery: str | None = Field(
        default=None, description="The carrier's estimated delivery date (YYYY-MM-DD)"
    )
    publicUrl: str | None = Field(default=None, description="The carrier's or provider's tracking page")
    updatedAt: str = Field(description="When the carrier's tracker was last updated (UTC, ISO 8601)")
    checkpoints: list[Checkpoint] = Field(default_factory=list, description="Oldest first")


MAX_CHECKPOINTS = 100

# Carriers as warehouses and providers spell them, reduced to letters and digits, that name the same one.
CARRIER_ALIASES = {
    "unitedparcelservice": "ups",
    "federalexpress": "fedex",
    "unitedstatespostalservice": "usps",
    "dhlexpress": "dhl",
    "canadapost": "canadapost",
}


def carrier_key(carrier: str) -> str:
    """One spelling per carrier: "FedEx", "fedex" and "Federal Express" are all "fedex"."""
    reduced = "".join(character for character in carrier.casefold() if character.isalnum())
    return CARRIER_ALIASES.get(reduced, reduced)


def tracking_number_key(number: str) -> str:
    """Tracking numbers compared without spaces or case ("1z 999" is "1Z999")."""
    return "".join(number.split()).upper()


class TrackerUpdate(Model):
    """One provider event about one tracker, in the provider-neutral form."""

    eventId: str
    carrier: str
    trackingNumber: str
    tracking: ShipmentTracking

    @field_validator("carrier", "trackingNumber")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


class TrackerIgnored(Model):
    """A provider event that says nothing of a tracker (another object, a test ping)."""

    eventId: str | None = None
    reason: str


class TrackingOutcome(StrEnum):
    UPDATED = "UPDATED"  # the fulfillment's tracking now says this
    DELIVERED = "DELIVERED"  # ...and the fulfillment was delivered by it (the workflow moved on)
    STALE = "STALE"  # older than what the fulfillment has, or the same: nothing changed
    DUPLICATE = "DUPLICATE"  # this event id was applied before
    UNMATCHED = "UNMATCHED"  # no fulfillment shipped with this carrier and tracking number
    IGNORED = "IGNORED"  # not a tracker event


class TrackingResult(Model):
    """What a tracking provider's event did."""

    outcome: TrackingOutcome
    fulfillmentId: str | None = None
    orderId: str | None = None
    trackingStatus: TrackingStatus | None = None
    reason: str | None = None


class TrackingReceipt(TrackingResult):
    """The answer to a tracking provider's delivery."""

    deliveryId: str = Field(description="The archived delivery")


class Attention(Model):
    """Why an order needs someone to look at it (set by a carrier exception)."""

    reason: str
    at: str
    fulfillmentId: str | None = None
    trackingStatus: TrackingStatus | None = None
    kind: Literal["CARRIER_EXCEPTION"] = "CARRIER_EXCEPTION"
