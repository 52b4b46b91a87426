"""Sales-channel adapters: each turns one channel's deliveries into what the OMS should do.

An adapter knows its channel's wire format and nothing about storage: it verifies a delivery,
finds the channel's event id (the de-duplication key) and interprets the body as an `Inbound`:
a new order in canonical form, a cancellation, or something to acknowledge and ignore, and the
refunds made in the channel that the delivery reports.
`shared.logic.intake` does the rest (archive, idempotency, claim, workflow) the same way for all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from shared.errors import InvalidRequest
from shared.models.base import Model
from shared.models.order import CanonicalOrder
from shared.models.refunds import ChannelRefund

# Header names are case-insensitive; adapters receive them lower-cased.
Headers = Mapping[str, str]


class OrderPlaced(Model):
    kind: Literal["order"] = "order"
    order: CanonicalOrder


class OrderCancelled(Model):
    kind: Literal["cancel"] = "cancel"
    channelOrderId: str
    reason: str


class Acknowledged(Model):
    """A valid delivery the OMS takes no action on (a ping, an unpaid order, an FBA order...)."""

    kind: Literal["ignore"] = "ignore"
    reason: str
    channelOrderId: str | None = None


Action = Annotated[OrderPlaced | OrderCancelled | Acknowledged, Field(discriminator="kind")]


class Inbound(Model):
    """What a delivery means, as its adapter reads it."""

    # The channel's own id for the event; the same event delivered twice has the same id.
    eventId: str
    # Identifies the event's content: the same eventId with another fingerprint is refused (409).
    fingerprint: str
    topic: str
    action: Action
    # Refunds made in the channel that the delivery reports (a Shopify refunds/create, the refunds a
    # WooCommerce order lists), whatever the action: intake records them against the order.
    refunds: list[ChannelRefund] = []


# The note (Shopify) or reason (WooCommerce) the OMS gives the refunds it makes in a channel.
_OMS_REFUND_NOTE = re.compile(r"\s*OMS refund ([^\s:]{1,128}):")


def oms_refund_id(note: str | None) -> str | None:
    """The OMS refund id a channel refund's note names (`OMS refund <id>: ...`), or None: a refund the
    OMS made through a refund port comes back from the channel with that note."""
    found = _OMS_REFUND_NOTE.match(note or "")
    return found.group(1) if found else None


MAX_ORDER_NUMBER = 64


def order_number(value: Any) -> str | None:
    """The order number a customer knows (Shopify's `name`, WooCommerce's `number`), or None when the
    channel sent none or one the OMS cannot keep (not text or a number, blank, longer than 64): the
    order is never refused for it, and the customer then looks it up by the channel order id."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_ORDER_NUMBER:
        return None
    return value.strip()


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def required_header(headers: Headers, name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise InvalidRequest(
            f"missing {name} header", [{"field": f"headers.{name}", "message": "is required"}]
        )
    return value


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """The body as a JSON object; decimals stay Decimal (money never passes through float)."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise InvalidRequest("body is not valid JSON", [{"field": "body", "message": str(exc)}]) from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"body is not {what}", [{"field": "body", "message": "must be a JSON object"}])
    return data
