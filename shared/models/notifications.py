"""Customer e-mail notifications: a channel's settings, and what the notifier decided for an event."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, model_validator

from shared.models.base import Model
from shared.models.order import Email

EmailAddress = Annotated[Email, Field(description="An e-mail address, e.g. orders@shop.example")]


class NotificationSettingsIn(Model):
    """`PUT /channels/{channelId}/notifications`: whether the channel's customers are e-mailed, and from
    which address. The sender (the address, or its domain) must be verified in Amazon SES."""

    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool = Field(description="Whether the channel's customers get e-mails")
    sender: EmailAddress | None = Field(
        default=None, description="The From address; required when enabled; verified in SES (or its domain)"
    )
    replyTo: EmailAddress | None = Field(default=None, description="Where customers' replies go")

    @model_validator(mode="after")
    def _sender_when_enabled(self) -> NotificationSettingsIn:
        if self.enabled and self.sender is None:
            raise ValueError("sender is required when e-mails are enabled")
        return self


class NotificationSettings(NotificationSettingsIn):
    """The settings as stored and shown."""

    model_config = ConfigDict(extra="ignore")
    channelId: str
    updatedAt: str | None = Field(default=None, description="When they were last set; null: never (off)")


class EmailKind(StrEnum):
    """Which e-mail an event means (each is one SES template of the blueprint)."""

    ORDER_CONFIRMED = "OrderConfirmed"
    ORDER_SHIPPED = "OrderShipped"
    ORDER_DELIVERED = "OrderDelivered"
    REFUND_ISSUED = "RefundIssued"


class SkipReason(StrEnum):
    """Why an event that could mean an e-mail sent none (logged, counted, kept with the event's
    idempotency record)."""

    NOTIFICATIONS_OFF = "NOTIFICATIONS_OFF"  # the channel has no settings, or has them disabled
    NO_SENDER = "NO_SENDER"  # enabled without a sender (stored before senders were required)
    NO_CUSTOMER_EMAIL = "NO_CUSTOMER_EMAIL"  # the order has no customer e-mail address
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    REFUND_NOT_ISSUED = "REFUND_NOT_ISSUED"  # MANUAL: a person refunds it in the channel, not the OMS


class Outcome(StrEnum):
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    # SES refused it for a reason the retailer must fix (e.g. the sender is no longer verified):
    # recorded and dropped, never retried.
    REJECTED = "REJECTED"


class NotificationResult(Model):
    """What became of one event (what a redelivery of the event gets back, unchanged)."""

    eventId: str
    outcome: Outcome
    email: EmailKind | None = None
    reason: str | None = None
    messageId: str | None = None
