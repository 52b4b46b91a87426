"""What became of a channel delivery, and the archived delivery itself."""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from shared.models.base import Model
from shared.models.order import OrderStatus
from shared.models.tracking import TrackingOutcome


class Outcome(StrEnum):
    CREATED = "CREATED"  # a new order, its workflow started
    DUPLICATE = "DUPLICATE"  # the same delivery or the same channel order was seen before
    CANCELLED = "CANCELLED"  # the channel cancelled an order the OMS holds
    NOT_CANCELLED = "NOT_CANCELLED"  # the channel cancelled an order that has shipped or ended
    IGNORED = "IGNORED"  # valid but nothing to do (a ping, an unpaid order, an unknown order's cancel...)
    REJECTED = "REJECTED"  # a queue-delivered order that is invalid: stored as a REJECTED order
    INVALID = "INVALID"  # refused with 400; nothing stored but the archived delivery


class DeliveryResult(Model):
    outcome: Outcome | TrackingOutcome = Field(
        description="For a tracking provider's delivery: TrackingOutcome"
    )
    orderId: str | None = None
    status: OrderStatus | None = None
    reason: str | None = None
    errors: list[dict[str, str]] | None = None


class DeliveryAttempt(DeliveryResult):
    """One replay of an archived delivery: what it did, and when."""

    at: str


class WebhookReceipt(Model):
    """The answer to a webhook delivery."""

    deliveryId: str = Field(description="The archived delivery: GET /channels/{channelId}/deliveries/{id}")
    outcome: Outcome
    orderId: str | None = None
    status: OrderStatus | None = None
    reason: str | None = None


DeliverySource = Literal["webhook", "queue"]


class Delivery(Model):
    """One delivery exactly as it arrived, kept so any order can be traced to the bytes that made it."""

    deliveryId: str
    channelId: str
    source: DeliverySource
    receivedAt: str
    headers: dict[str, str]
    body: bytes
    bodySha256: str
    eventId: str | None = None
    result: DeliveryResult | None = None
    replays: list[DeliveryAttempt] = []
    # For queue channels: the documents fetched from the channel's API to build the order.
    fetched: dict[str, bytes] = {}

    def view(self) -> DeliveryView:
        text, encoding = _readable(self.body)
        return DeliveryView(
            **self.model_dump(exclude={"body", "fetched"}),
            body=text,
            bodyEncoding=encoding,
            fetched={name: _readable(data)[0] for name, data in self.fetched.items()},
        )


def _readable(data: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


class DeliveryView(Model):
    deliveryId: str
    channelId: str
    source: DeliverySource
    receivedAt: str
    headers: dict[str, str]
    body: str
    bodyEncoding: Literal["utf-8", "base64"]
    bodySha256: str
    eventId: str | None = None
    result: DeliveryResult | None = Field(
        default=None, description="What the delivery did when it arrived; never overwritten"
    )
    replays: list[DeliveryAttempt] = Field(default=[], description="Each replay since, oldest first")
    fetched: dict[str, str] = {}


class DeliverySummary(Model):
    deliveryId: str
    receivedAt: str
    source: DeliverySource
    eventId: str | None = None
    result: DeliveryResult | None = None
    replays: list[DeliveryAttempt] = []


class DeliveryList(Model):
    deliveries: list[DeliverySummary]
    nextCursor: str | None = None


class ReplayRequest(Model):
    deliveryIds: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=25)
    ]


class ReplayedError(Model):
    code: str
    message: str
    details: Any = None


class ReplayResult(Model):
    """What the replay did (`result`), or why the delivery was refused again (`error`)."""

    deliveryId: str
    result: DeliveryResult | None = None
    error: ReplayedError | None = None


class ReplayReport(Model):
    results: list[ReplayResult]
