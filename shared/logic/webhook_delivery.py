"""Outbound webhook delivery: fan-out of each event to the subscriptions that want it, and attempts.

- Fan-out (WebhookFanout, fed every bus event by a rule): one delivery item per (subscription, event),
  created by a conditional write, so an event seen twice is delivered once; then a message per new
  delivery on the WebhookDeliveries queue.
- An attempt (WebhookSender): the message names a delivery and the version it was queued for; a
  message for an older version (a duplicate, or superseded by a redelivery) is dropped. The POST is
  signed per Standard Webhooks with the event id as `webhook-id`; a 2xx delivers it, anything else
  (a timeout, a refused connection, a redirect) schedules the next attempt on WEBHOOK_RETRY_SCHEDULE,
  and after the last the delivery is FAILED: the dead-letter store, until redelivered.
- The next attempt's message is queued before the delivery is saved, so a crash between the two
  leaves a stale message (dropped), never a pending delivery with no message. SQS delays a message
  15 minutes at most: one due later is sent on again until its time.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import UTC, datetime
from typing import Any

from shared import aws, config
from shared.clock import iso, now_iso
from shared.dal import subscriptions
from shared.http_client import post
from shared.models.base import Model
from shared.models.events import DomainEvent
from shared.models.subscriptions import (
    MAX_ATTEMPTS_KEPT,
    Attempt,
    AttemptResult,
    DeliveryStatus,
    Subscription,
    WebhookDelivery,
)
from shared.observability import logger
from shared.signatures import standard_webhook_signature

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_SQS_DELAY_SECONDS = 900
USER_AGENT = "OMS-Webhooks/1.0"


class DeliveryMessage(Model):
    subscriptionId: str
    deliveryId: str
    version: int
    dueAt: float  # epoch seconds


def retry_schedule() -> tuple[int, ...]:
    """Seconds to wait after each failed attempt; one attempt more than it has entries."""
    text = os.environ.get("WEBHOOK_RETRY_SCHEDULE")
    return tuple(int(part) for part in text.split(",")) if text else DEFAULT_RETRY_SCHEDULE


def attempt_timeout() -> float:
    return float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)


def delivery_id(event: DomainEvent) -> str:
    """`<the event time's digits>-<event id>`: unique per subscription, sorted by the event's time."""
    return "".join(c for c in event.time if c.isdigit()) + "-" + event.id


# -- fan-out -----------------------------------------------------------------------------------


def fan_out(bus_event: dict[str, Any]) -> int:
    """One EventBridge event (as the rule puts it on the queue); returns how many deliveries it queued."""
    event = DomainEvent.model_validate(bus_event["detail"])
    payload = json.dumps(bus_event["detail"], separators=(",", ":"), ensure_ascii=False)
    queued = [
        message
        for subscription in subscriptions.all_subscriptions()
        if subscription.wants(event.type.value)
        and (message := _new_delivery(subscription, event, payload)) is not None
    ]
    _enqueue(queued)
    return len(queued)


def _new_delivery(subscription: Subscription, event: DomainEvent, payload: str) -> DeliveryMessage | None:
    now = now_iso()
    delivery = WebhookDelivery(
        subscriptionId=subscription.subscriptionId,
        deliveryId=delivery_id(event),
        eventId=event.id,
        eventType=event.type.value,
        eventTime=event.time,
        status=DeliveryStatus.PENDING,
        nextAttemptAt=now,
        createdAt=now,
        payload=payload,
    )
    if not subscriptions.create_delivery(delivery):
        existing = subscriptions.get_delivery(subscription.subscriptionId, delivery.deliveryId)
        # Stored by an earlier try of this batch that failed before queueing it: queue it now.
        never_queued = existing and existing.version == 0 and existing.status == DeliveryStatus.PENDING
        if not never_queued:
            return None
    return DeliveryMessage(
        subscriptionId=delivery.subscriptionId, deliveryId=delivery.deliveryId, version=0, dueAt=time.time()
    )


# -- attempts ----------------------------------------------------------------------------------


def attempt(message: DeliveryMessage) -> None:
    """Handle one queued message: not due yet, stale, or an attempt to make now."""
    wait = message.dueAt - time.time()
    if wait > 1:
        _enqueue([message], delay=wait)
        return
    delivery = subscriptions.get_delivery(message.subscriptionId, message.deliveryId)
    if delivery is None or delivery.version != message.version or delivery.status != DeliveryStatus.PENDING:
        logger.info("stale delivery message dropped", extra={"delivery": message.model_dump()})
        return
    subscription = subscriptions.get(message.subscriptionId)
    if subscription is None:
        _save(
            delivery, delivery.model_copy(update={"status": DeliveryStatus.CANCELLED, "nextAttemptAt": None})
        )
        return
    made = _post(subscription, delivery)
    _save(delivery, _after(delivery, made))


def _post(subscription: Subscription, delivery: WebhookDelivery) -> Attempt:
    body = delivery.payload.encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.eventId,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(
            subscription.secret, delivery.eventId, timestamp, body
        ),
    }
    at = now_iso()
    outcome = post(subscription.url, headers, body, attempt_timeout())
    if outcome.succeeded:
        result = AttemptResult.DELIVERED
    elif outcome.status is not None:
        result = AttemptResult.HTTP_ERROR
    else:
        result = AttemptResult.TIMEOUT if outcome.timed_out else AttemptResult.CONNECTION_FAILED
    logger.info(
        "webhook attempt",
        extra={
            "subscription": subscription.subscriptionId,
            "delivery": delivery.deliveryId,
            "result": result.value,
            "http_status": outcome.status,
        },
    )
    return Attempt(
        number=delivery.attemptCount + 1,
        at=at,
        result=result,
        httpStatus=outcome.status,
        durationMs=outcome.duration_ms,
        error=None if outcome.succeeded else outcome.error,
    )


def _after(delivery: WebhookDelivery, made: Attempt) -> WebhookDelivery:
    """The delivery once `made` is recorded: delivered, the next attempt scheduled, or dead-lettered."""
    update: dict[str, Any] = {
        "attemptCount": made.number,
        "roundAttempts": delivery.roundAttempts + 1,
        "attempts": [*delivery.attempts, made][-MAX_ATTEMPTS_KEPT:],
        "nextAttemptAt": None,
    }
    if made.result == AttemptResult.DELIVERED:
        return delivery.model_copy(
            update=update | {"status": DeliveryStatus.DELIVERED, "deliveredAt": made.at}
        )
    schedule = retry_schedule()
    if delivery.roundAttempts >= len(schedule):
        return delivery.model_copy(update=update | {"status": DeliveryStatus.FAILED, "failedAt": now_iso()})
    due = time.time() + schedule[delivery.roundAttempts]
    following = delivery.version + 1
    _enqueue([_message(delivery, following, due)], delay=due - time.time())
    return delivery.model_copy(update=update | {"nextAttemptAt": iso(datetime.fromtimestamp(due, UTC))})


def restart(delivery: WebhookDelivery) -> bool:
    """Deliver it again from the schedule's start (a redelivery); False if it changed meanwhile."""
    restarted = delivery.model_copy(
        update={
            "status": DeliveryStatus.PENDING,
            "roundAttempts": 0,
            "redeliveries": delivery.redeliveries + 1,
            "nextAttemptAt": now_iso(),
            "deliveredAt": None,
            "failedAt": None,
            "version": delivery.version + 1,
        }
    )
    _enqueue([_message(delivery, restarted.version, time.time())])
    return subscriptions.save_delivery(restarted, expected_version=delivery.version)


def _save(read: WebhookDelivery, new: WebhookDelivery) -> None:
    saved = new.model_copy(update={"version": read.version + 1})
    if not subscriptions.save_delivery(saved, expected_version=read.version):
        logger.info("delivery changed meanwhile; its newer state stands", extra={"delivery": read.deliveryId})


def _message(delivery: WebhookDelivery, version: int, due: float) -> DeliveryMessage:
    return DeliveryMessage(
        subscriptionId=delivery.subscriptionId, deliveryId=delivery.deliveryId, version=version, dueAt=due
    )


def _enqueue(messages: list[DeliveryMessage], delay: float = 0) -> None:
    seconds = max(0, min(MAX_SQS_DELAY_SECONDS, math.ceil(delay)))
    url = config.webhook_deliveries_queue_url()
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        answer = aws.sqs().send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": m.model_dump_json(), "DelaySeconds": seconds}
                for i, m in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise RuntimeError(
                f"SQS refused {len(answer['Failed'])} delivery messages: {answer['Failed'][:1]}"
            )
