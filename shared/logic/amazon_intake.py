"""Amazon orders: an ORDER_CHANGE notification arrives on SQS, the order is fetched from SP-API.

Per message: find the channel of the notification's seller and marketplace, archive the message,
then once per notification (Powertools idempotency on its NotificationId) decide from the
notification alone whether to fetch (getOrder + getOrderItems), cancel or ignore. Nobody waits
on a queue for a 400, so an order Amazon sent incomplete becomes a REJECTED order naming the
fields. Failures that may pass (SP-API throttling or outage) raise, and SQS delivers the message
again; after five receives it goes to the dead-letter queue, never lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from shared.channels import amazon
from shared.channels.spapi import SpApiClient, SpApiCredentials
from shared.dal import channels, deliveries
from shared.errors import InvalidRequest
from shared.logic import intake
from shared.models.catalog import AmazonSettings, Channel
from shared.models.intake import Delivery, DeliveryResult
from shared.observability import count, logger


class UnknownSeller(Exception):
    """No channel is registered for the notification's seller and marketplace. The message is
    retried, then kept in the dead-letter queue, from where it can be redriven once registered."""


def message_headers(record: dict[str, Any]) -> dict[str, str]:
    """What is kept of an SQS record beside its body: its id and SQS's own attributes."""
    headers = {"sqs-message-id": str(record.get("messageId", ""))}
    for name, value in (record.get("attributes") or {}).items():
        headers[f"sqs-{name}"] = str(value)
    return headers


def receive(body: str, headers: dict[str, str], lambda_context: Any = None) -> DeliveryResult:
    raw = body.encode("utf-8")
    try:
        notification = amazon.parse_notification(raw)
    except InvalidRequest as invalid:
        logger.error("not an ORDER_CHANGE notification", extra={"reason": invalid.message})
        count("AmazonNotificationInvalid")
        raise
    channel = channels.for_amazon_seller(notification.sellerId, notification.marketplaceId)
    if channel is None:
        logger.error(
            "no channel for this Amazon seller and marketplace",
            extra={"seller_id": notification.sellerId, "marketplace_id": notification.marketplaceId},
        )
        count("AmazonSellerUnknown")
        raise UnknownSeller(
            f"seller {notification.sellerId} in {notification.marketplaceId} is not registered"
        )
    delivery = deliveries.archive(channel.channelId, "queue", headers, raw)
    return process_notification(channel, delivery, lambda_context)


def process_notification(channel: Channel, delivery: Delivery, lambda_context: Any = None) -> DeliveryResult:
    """Apply an archived notification (also what a replay does)."""
    try:
        notification = amazon.parse_notification(delivery.body)
    except InvalidRequest as invalid:
        intake.record_invalid(delivery.deliveryId, invalid)
        raise
    event = intake.ChannelEvent(
        notification.notificationId,
        hashlib.sha256(delivery.body).hexdigest(),
        _applier(channel, notification),
    )
    return intake.apply_once(channel, delivery, event, lambda_context)


def _applier(
    channel: Channel, notification: amazon.OrderChangeNotification
) -> Callable[[str, str], DeliveryResult]:
    decision = amazon.decide(notification)
    if isinstance(decision, str):  # "fetch"
        return lambda _, delivery_id: _fetch_and_create(channel, notification.amazonOrderId, delivery_id)
    return lambda channel_id, delivery_id: intake.apply_action(channel_id, decision, delivery_id)


def _fetch_and_create(channel: Channel, amazon_order_id: str, delivery_id: str) -> DeliveryResult:
    assert channel.amazon is not None
    client = _client(channel.amazon)
    order = client.get_order(amazon_order_id)
    items = client.get_order_items(amazon_order_id)
    deliveries.record_fetched(
        delivery_id, {"getOrder": _json_bytes(order), "getOrderItems": _json_bytes(items)}
    )
    # The order may have moved on since the notification (e.g. cancelled): what it is now decides.
    current = amazon.decide_fetched(order)
    if not isinstance(current, str):  # cancelled or nothing to do, rather than "convert"
        return intake.apply_action(channel.channelId, current, delivery_id)
    try:
        canonical = amazon.to_canonical(order, items)
    except InvalidRequest as invalid:
        problems = invalid.details if isinstance(invalid.details, list) else []
        return intake.create_rejected_order(channel.channelId, amazon_order_id, problems, delivery_id)
    return intake.create_order(channel.channelId, canonical, delivery_id)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, default=str, separators=(",", ":")).encode("utf-8")


@cache
def _client(settings: AmazonSettings) -> SpApiClient:
    # One client per channel settings, so its access token is reused across messages.
    return SpApiClient(
        SpApiCredentials(
            endpoint=settings.endpoint,
            token_endpoint=settings.tokenEndpoint,
            client_id=settings.clientId,
            client_secret=settings.clientSecret,
            refresh_token=settings.refreshToken,
        )
    )
