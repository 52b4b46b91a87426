"""POST /webhooks/{channelId}: an order delivery from a sales channel.

Order of checks: the body is at most 256 KiB (413), the channel exists (404), the delivery is
authentic (401), the body is a valid order (400). Then, once per delivery (Powertools idempotency
on the channel and `webhook-id`) and once per channel order (a conditional claim in the same
transaction as the order), the order is stored and its workflow started.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from pydantic import BaseModel, ValidationError

from shared import aws, config, workflow
from shared.clock import now_iso
from shared.dal import channels, orders
from shared.errors import InvalidRequest, NotFound, PayloadTooLarge, Unauthorized
from shared.ids import new_order_id
from shared.models.catalog import Channel, ChannelType
from shared.models.order import CanonicalOrder, Order, OrderStatus
from shared.observability import correlate_with_order, count, logger
from shared.signatures import SignatureError, verify_standard_webhook

DELIVERY_MEMORY_SECONDS = 24 * 3600
# A large marketplace order is tens of KB; anything near this is not an order. Checked first, before
# the HMAC is computed over it.
MAX_WEBHOOK_BYTES = 256 * 1024


class Delivery(BaseModel):
    channelId: str
    webhookId: str
    bodySha256: str
    order: dict[str, Any]


class Receipt(BaseModel):
    orderId: str
    status: str
    created: bool


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "created": False}


@cache
def _idempotency() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table())
    settings = IdempotencyConfig(
        event_key_jmespath="[channelId, webhookId]",
        payload_validation_jmespath="bodySha256",
        expires_after_seconds=DELIVERY_MEMORY_SECONDS,
        response_hook=_mark_replayed,
    )
    return store, settings


aws.on_reset(_idempotency.cache_clear)


def receive(channel_id: str, headers: dict[str, str], body: bytes, lambda_context: Any = None) -> Receipt:
    if len(body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(
            f"webhook body is {len(body)} bytes; the limit is {MAX_WEBHOOK_BYTES}",
            {"limitBytes": MAX_WEBHOOK_BYTES},
        )
    channel = _channel(channel_id)
    webhook_id = _authenticate(channel, headers, body)
    order = parse_canonical_order(body)
    delivery = Delivery(
        channelId=channel_id,
        webhookId=webhook_id,
        bodySha256=hashlib.sha256(body).hexdigest(),
        order=order.model_dump(mode="json"),
    )
    store, settings = _idempotency()
    if lambda_context is not None:
        settings.register_lambda_context(lambda_context)
    accept_once = idempotent_function(
        data_keyword_argument="delivery", persistence_store=store, config=settings
    )(_accept)
    return Receipt.model_validate(accept_once(delivery=delivery.model_dump()))


def _channel(channel_id: str) -> Channel:
    channel = channels.get(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} is not registered")
    if channel.type is not ChannelType.API:
        raise InvalidRequest(
            f"channel type {channel.type.value} is not accepted yet; only 'api' channels are",
            {"channelId": channel_id, "type": channel.type.value},
        )
    return channel


def _authenticate(channel: Channel, headers: dict[str, str], body: bytes) -> str:
    try:
        return verify_standard_webhook(channel.webhookSecret, headers, body)
    except SignatureError as refused:
        logger.warning(
            "webhook signature refused", extra={"channel_id": channel.channelId, "reason": str(refused)}
        )
        count("WebhookSignatureRefused")
        raise Unauthorized(f"webhook signature refused: {refused}") from refused


def parse_canonical_order(body: bytes) -> CanonicalOrder:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("body is not valid JSON", [{"field": "body", "message": str(exc)}]) from exc
    try:
        return CanonicalOrder.model_validate(data)
    except ValidationError as invalid:
        raise InvalidRequest("order is invalid", field_errors(invalid)) from invalid


def field_errors(invalid: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in invalid.errors(include_url=False)
    ]


def _accept(delivery: dict[str, Any]) -> dict[str, Any]:
    canonical = CanonicalOrder.model_validate(delivery["order"])
    at = now_iso()
    order = Order(
        **canonical.model_dump(),
        orderId=new_order_id(),
        channelId=delivery["channelId"],
        status=OrderStatus.RECEIVED,
        total=canonical.amount_due(),
        totalMismatch=canonical.total_mismatch(),
        createdAt=at,
        updatedAt=at,
    )
    try:
        orders.create(order)
        receipt = Receipt(orderId=order.orderId, status=order.status.value, created=True)
        count("OrderReceived")
        if order.totalMismatch is not None:
            logger.warning(
                "channel total differs from the computed total", extra=order.totalMismatch.model_dump()
            )
            count("OrderTotalMismatch")
    except orders.DuplicateChannelOrder as duplicate:
        existing = orders.require(duplicate.order_id)
        receipt = Receipt(orderId=existing.orderId, status=existing.status.value, created=False)
        count("DuplicateChannelOrder")
    correlate_with_order(receipt.orderId)
    # Also on a duplicate: if an earlier attempt stored the order but failed to start, this heals it.
    workflow.start(receipt.orderId)
    return receipt.model_dump()
