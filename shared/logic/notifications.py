"""Customer e-mails: which domain event means which e-mail, to whom, from whom, with what; sent once
per event.

Which events (the bus rule `CustomerEmailEvents` copies only these to the notifier's queue):
- order confirmed: `order.status_changed` from RECEIVED to RESERVED or BACKORDERED, the first time the
  OMS accepted the order (RECEIVED is never entered again, so it happens once per order; a
  backordered order later reserved gets no second confirmation);
- order shipped: `fulfillment.shipped`, one per shipment, with its carrier, tracking number and a
  signed link to the customer tracking page (`<page>?token=...`, valid `LINK_DAYS` days);
- order delivered: `fulfillment.delivered`, one per shipment;
- refund issued: `return.refunded` with status SUCCEEDED (the channel refunded); a MANUAL refund,
  left to a person, is not announced as issued.

An event that means an e-mail is decided once (Powertools idempotency keyed by the event's id, whose
record keeps the outcome): a redelivered SQS message or a retried batch sends nothing twice. The
e-mail is skipped, and why recorded (logged, counted, kept on the record), when the channel has its
notifications off or no sender, or the order has no e-mail address. SES refusing it for something the
retailer must fix (the sender no longer verified) is REJECTED: logged as an error, counted, kept on
the record, and dropped, so the queue is not poisoned. Anything else (throttling, SES down, a
missing template) raises: SQS delivers the message again, and after 5 receives keeps it in the
dead-letter queue.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from shared import aws, config
from shared.dal import channels, email, notification_settings, orders, secrets
from shared.logic import tracking_links
from shared.models.events import DomainEvent, EventType
from shared.models.notifications import (
    EmailKind,
    NotificationResult,
    NotificationSettings,
    Outcome,
    SkipReason,
)
from shared.models.order import Order, OrderStatus
from shared.observability import correlate_with_order, count, logger

LINK_DAYS = 90
# As long as SQS keeps a message (the queue's retention): a redelivery is recognised as long as it can happen.
EVENT_MEMORY_SECONDS = 14 * 24 * 3600
ACCEPTED = frozenset({OrderStatus.RESERVED.value, OrderStatus.BACKORDERED.value})
NOT_GIVEN = "not given"
TEMPLATE_ENV: dict[EmailKind, str] = {
    EmailKind.ORDER_CONFIRMED: "ORDER_CONFIRMED_TEMPLATE",
    EmailKind.ORDER_SHIPPED: "ORDER_SHIPPED_TEMPLATE",
    EmailKind.ORDER_DELIVERED: "ORDER_DELIVERED_TEMPLATE",
    EmailKind.REFUND_ISSUED: "REFUND_ISSUED_TEMPLATE",
}
TRACKING_PAGE_URL_ENV = "TRACKING_PAGE_URL"


# Pure: what an event means ---------------------------------------------------------------------------


def email_for(event: DomainEvent) -> EmailKind | None:
    """The e-mail the event means, if any (whether it is sent depends on the channel and the order)."""
    data = event.data
    if event.type is EventType.ORDER_STATUS_CHANGED:
        confirmed = (
            data.get("previousStatus") == OrderStatus.RECEIVED.value and data.get("status") in ACCEPTED
        )
        return EmailKind.ORDER_CONFIRMED if confirmed else None
    return {
        EventType.FULFILLMENT_SHIPPED: EmailKind.ORDER_SHIPPED,
        EventType.FULFILLMENT_DELIVERED: EmailKind.ORDER_DELIVERED,
        EventType.RETURN_REFUNDED: EmailKind.REFUND_ISSUED,
    }.get(event.type)


@dataclass(frozen=True)
class Email:
    kind: EmailKind
    to: str
    sender: str
    reply_to: str | None
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    reason: SkipReason


def decide(
    event: DomainEvent,
    kind: EmailKind,
    order: Order | None,
    settings: NotificationSettings | None,
    *,
    shop_name: str,
    tracking_url: str | None,
) -> Email | Skip:
    """The e-mail to send for `event` (which means `kind`), or why none is sent."""
    if settings is None or not settings.enabled:
        return Skip(SkipReason.NOTIFICATIONS_OFF)
    if settings.sender is None:
        return Skip(SkipReason.NO_SENDER)
    if order is None:
        return Skip(SkipReason.ORDER_NOT_FOUND)
    if order.customer is None or not order.customer.email:
        return Skip(SkipReason.NO_CUSTOMER_EMAIL)
    if kind is EmailKind.REFUND_ISSUED and event.data.get("status") != "SUCCEEDED":
        return Skip(SkipReason.REFUND_NOT_ISSUED)
    return Email(
        kind=kind,
        to=order.customer.email,
        sender=settings.sender,
        reply_to=settings.replyTo,
        data=template_data(kind, event, order, shop_name, tracking_url),
    )


def template_data(
    kind: EmailKind, event: DomainEvent, order: Order, shop_name: str, tracking_url: str | None
) -> dict[str, str]:
    """The template's variables, each also as `<name>Html`, HTML-escaped, for the HTML body (SES
    escapes nothing)."""
    values = {
        "customerName": order.customer.name if order.customer else "",
        "orderNumber": order.orderNumber or order.channelOrderId,
        "shopName": shop_name,
    }
    if kind in (EmailKind.ORDER_CONFIRMED, EmailKind.ORDER_SHIPPED):
        values["trackingUrl"] = tracking_url or ""
    if kind is EmailKind.ORDER_SHIPPED:
        values["carrier"] = str(event.data.get("carrier") or NOT_GIVEN)
        values["trackingNumber"] = str(event.data.get("trackingNumber") or NOT_GIVEN)
    if kind is EmailKind.REFUND_ISSUED:
        values["amount"] = str(event.data.get("total", ""))
        values["currency"] = str(event.data.get("currency", ""))
    return values | {f"{name}Html": html.escape(value, quote=True) for name, value in values.items()}


def tracking_link(key: bytes, page_url: str, order_id: str, now: float) -> str:
    """A signed link to the order on the customer tracking page, valid `LINK_DAYS` days."""
    token = tracking_links.sign(key, order_id, int(now) + LINK_DAYS * tracking_links.DAY_SECONDS)
    return f"{page_url}?token={token}"


# Once per event ------------------------------------------------------------------------------------------


@cache
def _idempotency() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table())
    settings = IdempotencyConfig(event_key_jmespath="eventId", expires_after_seconds=EVENT_MEMORY_SECONDS)
    return store, settings


aws.on_reset(_idempotency.cache_clear)


def notify(event: DomainEvent, lambda_context: Any = None) -> NotificationResult | None:
    """E-mail the customer about `event` once, if it means an e-mail; None when it means none."""
    kind = email_for(event)
    if kind is None:
        return None
    order_id = str(event.data.get("orderId", ""))
    correlate_with_order(order_id)
    store, settings = _idempotency()
    if lambda_context is not None:
        settings.register_lambda_context(lambda_context)
    once = idempotent_function(data_keyword_argument="key", persistence_store=store, config=settings)(_notify)
    result = NotificationResult.model_validate(
        once(key={"eventId": event.id}, event=event, kind=kind, order_id=order_id)
    )
    return result


def _notify(key: dict[str, str], event: DomainEvent, kind: EmailKind, order_id: str) -> dict[str, Any]:
    order = orders.get(order_id)
    channel_id = order.channelId if order else str(event.data.get("channelId", ""))
    settings = notification_settings.get(channel_id) if channel_id else None
    channel = channels.get(channel_id) if channel_id else None
    shop_name = (channel.name if channel else None) or channel_id
    link = None
    if kind in (EmailKind.ORDER_CONFIRMED, EmailKind.ORDER_SHIPPED) and order is not None:
        link = tracking_link(
            secrets.tracking_link_key(), config.required(TRACKING_PAGE_URL_ENV), order_id, time.time()
        )
    decision = decide(event, kind, order, settings, shop_name=shop_name, tracking_url=link)
    if isinstance(decision, Skip):
        logger.info(
            "customer e-mail skipped",
            extra={
                "event_id": event.id,
                "email": kind.value,
                "reason": decision.reason.value,
                "channel_id": channel_id,
            },
        )
        count("CustomerEmailSkipped")
        return _result(event, Outcome.SKIPPED, kind, reason=decision.reason.value)
    return _send(event, decision)


def _send(event: DomainEvent, decision: Email) -> dict[str, Any]:
    template = config.required(TEMPLATE_ENV[decision.kind])
    try:
        message_id = email.send_templated(
            template, decision.sender, decision.to, decision.data, reply_to=decision.reply_to
        )
    except email.EmailRejected as rejected:
        logger.error(
            "SES refused the customer e-mail; the retailer must fix the channel's sender",
            extra={
                "event_id": event.id,
                "email": decision.kind.value,
                "sender": decision.sender,
                "code": rejected.code,
            },
        )
        count("CustomerEmailRejected")
        return _result(event, Outcome.REJECTED, decision.kind, reason=f"{rejected.code}: {rejected.message}")
    logger.info(
        "customer e-mail sent",
        extra={"event_id": event.id, "email": decision.kind.value, "message_id": message_id},
    )
    count("CustomerEmailSent")
    return _result(event, Outcome.SENT, decision.kind, message_id=message_id)


def _result(
    event: DomainEvent,
    outcome: Outcome,
    kind: EmailKind,
    reason: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    result = NotificationResult(
        eventId=event.id, outcome=outcome, email=kind, reason=reason, messageId=message_id
    )
    return result.model_dump(mode="json")
