"""Channel deliveries in, orders out: the same steps for every channel.

A webhook (`POST /webhooks/{channelId}`) is checked in this order: the body is within the limits
every route has (at most 256 KiB: 413; nesting: 400; `shared.api`), the channel exists (404),
the delivery is authentic for the channel's type (401). It is then archived as it arrived, and only
then interpreted by its channel's adapter (400 names the fields).
What it means is applied once per channel event (Powertools idempotency on the channel and the
adapter's event id) and once per channel order (a conditional claim written with the order).
Queue-delivered channels (Amazon) join at `apply_once` through `shared.logic.amazon_intake`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shared import aws, config, workflow
from shared.channels import (
    Acknowledged,
    Headers,
    Inbound,
    OrderCancelled,
    OrderPlaced,
    lower_keys,
)
from shared.clock import now_iso
from shared.dal import channels, deliveries, orders
from shared.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from shared.ids import new_order_id
from shared.logic import cancellation, refund_ledger
from shared.models.catalog import Channel, ChannelType
from shared.models.intake import Delivery, DeliveryResult, Outcome, WebhookReceipt
from shared.models.order import (
    CanonicalOrder,
    FieldProblem,
    Order,
    OrderStatus,
)
from shared.observability import correlate_with_order, count, logger
from shared.signatures import SignatureError

DELIVERY_MEMORY_SECONDS = 24 * 3600


class WebhookAdapter(Protocol):
    def authenticate(self, secrets: Sequence[str], headers: Headers, body: bytes) -> None: ...

    def interpret(self, headers: Headers, body: bytes) -> Inbound: ...


# Each adapter's module is imported when a delivery of its type first comes: a cold start loads the
# one adapter its delivery needs, not all of them (Shopify's and WooCommerce's are large).
WEBHOOK_ADAPTER_MODULES: dict[ChannelType, str] = {
    ChannelType.API: "shared.channels.standard",
    ChannelType.SHOPIFY: "shared.channels.shopify",
    ChannelType.WOOCOMMERCE: "shared.channels.woocommerce",
}


def webhook_adapter(channel_type: ChannelType) -> WebhookAdapter:
    return cast(WebhookAdapter, importlib.import_module(WEBHOOK_ADAPTER_MODULES[channel_type]))


def receive(
    channel_id: str, headers: dict[str, str], body: bytes, lambda_context: Any = None
) -> WebhookReceipt:
    channel = _webhook_channel(channel_id)
    _authenticate(channel, lower_keys(headers), body)
    delivery = deliveries.archive(channel_id, "webhook", headers, body)
    result = process_webhook(channel, delivery, lambda_context)
    return WebhookReceipt(deliveryId=delivery.deliveryId, **result.model_dump())


def _webhook_channel(channel_id: str) -> Channel:
    channel = channels.get(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} is not registered")
    if channel.type not in WEBHOOK_ADAPTER_MODULES:
        raise InvalidRequest(
            f"channel {channel_id} is of type {channel.type.value}, which delivers through its queue, "
            "not webhooks",
            {"channelId": channel_id, "type": channel.type.value},
        )
    return channel


def _authenticate(channel: Channel, headers: Headers, body: bytes) -> None:
    try:
        webhook_adapter(channel.type).authenticate(channel.secrets(now_iso()), headers, body)
        _check_shop(channel, headers)
    except SignatureError as refused:
        logger.warning(
            "webhook signature refused",
            extra={
                "channel_id": channel.channelId,
                "channel_type": channel.type.value,
                "reason": str(refused),
            },
        )
        count("WebhookSignatureRefused")
        raise Unauthorized(f"webhook signature refused: {refused}") from refused


def _check_shop(channel: Channel, headers: Headers) -> None:
    # A Shopify app's secret is the same for every shop that installs it: the domain tells them apart.
    if channel.shopDomain and headers.get("x-shopify-shop-domain") != channel.shopDomain:
        raise SignatureError("the delivery is for another shop than this channel's shopDomain")


def process_webhook(channel: Channel, delivery: Delivery, lambda_context: Any = None) -> DeliveryResult:
    """Interpret an archived webhook delivery and apply it (also what a replay does)."""
    try:
        inbound = webhook_adapter(channel.type).interpret(lower_keys(delivery.headers), delivery.body)
    except InvalidRequest as invalid:
        record_invalid(delivery.deliveryId, invalid)
        raise
    event = ChannelEvent(inbound.eventId, inbound.fingerprint, _applier(inbound))
    return apply_once(channel, delivery, event, lambda_context)


def record_invalid(delivery_id: str, invalid: InvalidRequest) -> None:
    deliveries.record_invalid(delivery_id, invalid)
    count("DeliveryInvalid")


def _applier(inbound: Inbound) -> Callable[[str, str], DeliveryResult]:
    def apply(channel_id: str, delivery_id: str) -> DeliveryResult:
        result = apply_action(channel_id, inbound.action, delivery_id)
        if inbound.refunds:
            # Refunds made in the channel (Shopify refunds/create, WooCommerce's order refunds) go to
            # the order's refund ledger, each once, so a later return never refunds them again.
            refund_ledger.record_channel_refunds(channel_id, inbound.refunds)
        return result

    return apply


def apply_action(
    channel_id: str, action: OrderPlaced | OrderCancelled | Acknowledged, delivery_id: str
) -> DeliveryResult:
    """Do what a channel event means, whichever channel it came from."""
    if isinstance(action, OrderPlaced):
        return create_order(channel_id, action.order, delivery_id)
    if isinstance(action, OrderCancelled):
        return cancel_channel_order(channel_id, action.channelOrderId, action.reason)
    return acknowledge(action)


# Once per channel event ----------------------------------------------------------------------------


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """The answer to an event applied before: no longer CREATED, and the order's status as it is
    now (the stored response has the status of then)."""
    if response.get("outcome") == Outcome.CREATED.value:
        response = {**response, "outcome": Outcome.DUPLICATE.value}
    order = orders.get(response["orderId"]) if response.get("orderId") else None
    return {**response, "status": order.status.value} if order else response


@cache
def _idempotency() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table())
    settings = IdempotencyConfig(
        event_key_jmespath="[channelId, eventId]",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=DELIVERY_MEMORY_SECONDS,
        response_hook=_mark_replayed,
    )
    return store, settings


aws.on_reset(_idempotency.cache_clear)


@dataclass(frozen=True)
class ChannelEvent:
    """One event of a channel: its id, what identifies its content, and what applying it does
    (given the channel id and the delivery id)."""

    event_id: str
    fingerprint: str
    apply: Callable[[str, str], DeliveryResult]


def apply_once(
    channel: Channel, delivery: Delivery, event: ChannelEvent, lambda_context: Any = None
) -> DeliveryResult:
    """Apply one channel event unless it was applied before; record the result on the delivery.

    The same event id with a different fingerprint is a Conflict (409): the channel reused an id.
    """
    store, settings = _idempotency()
    if lambda_context is not None:
        settings.register_lambda_context(lambda_context)
    once = idempotent_function(data_keyword_argument="event", persistence_store=store, config=settings)(
        _apply_event
    )
    key = {"channelId": channel.channelId, "eventId": event.event_id, "fingerprint": event.fingerprint}
    result = DeliveryResult.model_validate(
        once(event=key, delivery_id=delivery.deliveryId, applier=event.apply)
    )
    deliveries.record_result(delivery.deliveryId, result, event.event_id)
    if result.orderId:
        correlate_with_order(result.orderId)
    return result


def _apply_event(
    event: dict[str, str], delivery_id: str, applier: Callable[[str, str], DeliveryResult]
) -> dict[str, Any]:
    return applier(event["channelId"], delivery_id).model_dump(mode="json")


# What an event does --------------------------------------------------------------------------------


def create_order(channel_id: str, canonical: CanonicalOrder, delivery_id: str) -> DeliveryResult:
    at = now_iso()
    order = Order(
        **canonical.model_dump(),
        orderId=new_order_id(),
        channelId=channel_id,
        status=OrderStatus.RECEIVED,
        total=canonical.amount_due(),
        totalMismatch=canonical.total_mismatch(),
        deliveryId=delivery_id,
        createdAt=at,
        updatedAt=at,
    )
    result = _store(order)
    if result.outcome is Outcome.CREATED and order.totalMismatch is not None:
        logger.warning(
            "channel total differs from the computed total", extra=order.totalMismatch.model_dump()
        )
        count("OrderTotalMismatch")
    assert result.orderId is not None
    # Also on a duplicate: if an earlier attempt stored the order but failed to start, this heals it.
    workflow.start(result.orderId)
    return result


def create_rejected_order(
    channel_id: str, channel_order_id: str, problems: list[dict[str, str]], delivery_id: str
) -> DeliveryResult:
    """A queue channel's invalid order: nobody can be told 400, so it is kept as REJECTED with why."""
    at = now_iso()
    reason = "invalid order from the channel: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    order = Order(
        channelOrderId=channel_order_id,
        orderId=new_order_id(),
        channelId=channel_id,
        status=OrderStatus.REJECTED,
        statusReason=reason[:1000],
        problems=[FieldProblem.model_validate(p) for p in problems],
        deliveryId=delivery_id,
        createdAt=at,
        updatedAt=at,
    )
    result = _store(order)
    if result.outcome is Outcome.CREATED:
        count("OrderRejectedAtIntake")
        return result.model_copy(update={"outcome": Outcome.REJECTED, "reason": order.statusReason})
    return result


def _store(order: Order) -> DeliveryResult:
    try:
        orders.create(order)
    except orders.DuplicateChannelOrder as duplicate:
        existing = orders.require(duplicate.order_id)
        count("DuplicateChannelOrder")
        return DeliveryResult(outcome=Outcome.DUPLICATE, orderId=existing.orderId, status=existing.status)
    count("OrderReceived")
    return DeliveryResult(outcome=Outcome.CREATED, orderId=order.orderId, status=order.status)


def cancel_channel_order(channel_id: str, channel_order_id: str, reason: str) -> DeliveryResult:
    """The channel cancelled an order. Done if it has not shipped; reported, not refused, if it has:
    refusing the webhook would only make the channel retry it."""
    order_id = orders.claimed_order_id(channel_id, channel_order_id)
    if order_id is None:
        return DeliveryResult(
            outcome=Outcome.IGNORED, reason=f"no order {channel_order_id} from this channel to cancel"
        )
    try:
        cancelled = cancellation.cancel(order_id, reason)
    except Conflict:
        if cancellation.cancellable(order_id):
            raise  # it changed while cancelling: a retry of the delivery will cancel it
        current = orders.require(order_id)
        logger.warning(
            "channel cancelled an order that can no longer be cancelled", extra={"order_id": order_id}
        )
        count("ChannelCancelTooLate")
        return DeliveryResult(
            outcome=Outcome.NOT_CANCELLED,
            orderId=order_id,
            status=current.status,
            reason=f"the order is {current.status.value} and can no longer be cancelled",
        )
    partly = cancelled.status is not OrderStatus.CANCELLED
    note = "part of the order had shipped: only the unshipped fulfillments were cancelled" if partly else None
    return DeliveryResult(outcome=Outcome.CANCELLED, orderId=order_id, status=cancelled.status, reason=note)


def acknowledge(action: Acknowledged) -> DeliveryResult:
    count("DeliveryIgnored")
    return DeliveryResult(outcome=Outcome.IGNORED, reason=action.reason)
