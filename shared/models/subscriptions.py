"""Outbound webhooks: the retailer's subscriptions to domain events, and each event's delivery to each.

A delivery is POSTed signed per Standard Webhooks (`webhook-id` = the event id, the same on every
attempt and redelivery, so a receiver can drop a repeat), retried on the schedule in the blueprint
(`WEBHOOK_RETRY_SCHEDULE`), then dead-lettered (status FAILED) until redelivered.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from shared.models.base import Model
from shared.models.catalog import Identifier
from shared.models.events import EventType

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)
# How many attempts a delivery keeps in its history (the newest); `attemptCount` counts them all.
MAX_ATTEMPTS_KEPT = 20


def _standard_webhook_secret(value: str) -> str:
    """`whsec_` + base64 of 24 to 64 random bytes, as Standard Webhooks libraries make them."""
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX} (Standard Webhooks' format)")
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as invalid:
        raise ValueError(f"after {SECRET_PREFIX}, a secret is base64") from invalid
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise ValueError(f"a secret's key is {SECRET_BYTES[0]} to {SECRET_BYTES[1]} bytes")
    return value


def _event_types(values: list[str]) -> list[str]:
    if ALL_EVENTS in values and len(values) > 1:
        raise ValueError('"*" (every event) stands alone')
    return list(dict.fromkeys(values))  # each once, in the order given


SigningSecret = Annotated[str, StringConstraints(max_length=128), AfterValidator(_standard_webhook_secret)]
EventTypes = Annotated[
    list[EventType | Literal["*"]],
    Field(min_length=1, max_length=len(EventType) + 1),
    AfterValidator(_event_types),
]
WebhookUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class SubscriptionIn(Model):
    """PUT /subscriptions/{subscriptionId}."""

    model_config = ConfigDict(extra="forbid")
    url: WebhookUrl = Field(
        description="Where events are POSTed: https (locally also http to localhost or 127.0.0.1)"
    )
    eventTypes: EventTypes = Field(description='The event types (docs/events.md) to send, or ["*"] for all')
    secret: SigningSecret | None = Field(
        default=None,
        description="The signing secret (`whsec_` + base64). Absent: a new subscription gets a generated "
        "one, shown once in the answer; an existing one keeps its own",
    )
    description: Annotated[str, StringConstraints(max_length=200)] | None = None


class Subscription(Model):
    subscriptionId: Identifier
    url: str
    eventTypes: list[str]
    secret: str
    description: str | None = None
    createdAt: str
    updatedAt: str

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.eventTypes or event_type in self.eventTypes

    def view(self, generated_secret: str | None = None) -> SubscriptionView:
        return SubscriptionView(
            subscriptionId=self.subscriptionId,
            url=self.url,
            eventTypes=self.eventTypes,
            description=self.description,
            secretHint=f"{self.secret[:10]}…",
            secret=generated_secret,
            createdAt=self.createdAt,
            updatedAt=self.updatedAt,
        )


class SubscriptionView(Model):
    subscriptionId: str
    url: str
    eventTypes: list[str]
    description: str | None = None
    secretHint: str = Field(description="The first characters of the signing secret, to tell secrets apart")
    secret: str | None = Field(
        default=None, description="The generated signing secret: in this answer only, never again"
    )
    createdAt: str
    updatedAt: str


class SubscriptionList(Model):
    subscriptions: list[SubscriptionView]
    nextCursor: str | None = None


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # an attempt is due or scheduled
    DELIVERED = "DELIVERED"  # the subscriber answered 2xx
    FAILED = "FAILED"  # every attempt of the schedule failed: dead-lettered until redelivered
    CANCELLED = "CANCELLED"  # the subscription was deleted before it was delivered


class AttemptResult(StrEnum):
    DELIVERED = "DELIVERED"
    HTTP_ERROR = "HTTP_ERROR"  # an answer other than 2xx (a redirect included: never followed)
    TIMEOUT = "TIMEOUT"
    CONNECTION_FAILED = "CONNECTION_FAILED"


class Attempt(Model):
    number: int
    at: str
    result: AttemptResult
    httpStatus: int | None = None
    durationMs: int
    error: str | None = Field(default=None, description="Why it failed, or the start of the answer's body")


class WebhookDelivery(Model):
    """One event for one subscription (`SUB#<id>` / `DELIVERY#<deliveryId>`)."""

    subscriptionId: str
    deliveryId: str = Field(description="Sorts by the event's time: `<time digits>-<event id>`")
    eventId: str
    eventType: str
    eventTime: str
    status: DeliveryStatus
    attemptCount: int = 0
    # Attempts since the last (re)delivery began: the position in the retry schedule.
    roundAttempts: int = 0
    attempts: list[Attempt] = []
    nextAttemptAt: str | None = None
    deliveredAt: str | None = None
    failedAt: str | None = None
    redeliveries: int = 0
    createdAt: str
    # Bumped by every change of state: a queued message for an older version is stale and dropped.
    version: int = 0
    payload: str = Field(description="The exact body POSTed: the event's envelope (docs/events.md)")

    def view(self) -> WebhookDeliveryView:
        return WebhookDeliveryView.model_validate(
            self.model_dump(exclude={"version", "payload", "roundAttempts"})
        )


class WebhookDeliveryView(Model):
    subscriptionId: str
    deliveryId: str
    eventId: str
    eventType: str
    eventTime: str
    status: DeliveryStatus
    attemptCount: int
    attempts: list[Attempt] = Field(description=f"The newest {MAX_ATTEMPTS_KEPT}, oldest first")
    nextAttemptAt: str | None = None
    deliveredAt: str | None = None
    failedAt: str | None = None
    redeliveries: int
    createdAt: str


class WebhookDeliveryList(Model):
    deliveries: list[WebhookDeliveryView]
    nextCursor: str | None = None


DeliveryId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class RedeliverIn(Model):
    """POST /subscriptions/{id}/redeliver: the deliveries named, or (absent) every dead letter."""

    model_config = ConfigDict(extra="forbid")
    deliveryIds: Annotated[list[DeliveryId], Field(min_length=1, max_length=100)] | None = None


class RedeliveryOutcome(StrEnum):
    QUEUED = "QUEUED"
    ALREADY_PENDING = "ALREADY_PENDING"
    NOT_FOUND = "NOT_FOUND"


class Redelivery(Model):
    deliveryId: str
    outcome: RedeliveryOutcome


class RedeliverResult(Model):
    redeliveries: list[Redelivery]
    more: bool = Field(
        default=False,
        description="Absent ids: more dead letters remain than one call takes (100); call again",
    )
