"""Refunds as they cross the OMS's edges: seen in a channel, or sent to one through its refund port.

Amounts are Decimal, sent as strings; a line's `amount` is what the customer gets back for it,
tax included, and `tax` is the part of it that is tax.
"""

from __future__ import annotations

import urllib.parse
from decimal import Decimal
from typing import Annotated, Final

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from shared.models.base import Model
from shared.models.money import Amount
from shared.signatures import standard_webhook_key

SHOPIFY_API_VERSION: Final = "2026-07"
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class ChannelRefundLine(Model):
    """One line of a refund the channel reports, by the channel's own line id."""

    channelLineId: str
    sku: str | None = None
    quantity: Annotated[int, Field(ge=0)]
    amount: Amount
    tax: Amount = Decimal("0")


class ChannelRefund(Model):
    """A refund made in (or reported by) the channel itself: a Shopify `refunds/create` webhook, or
    a refund listed in a WooCommerce `order.updated` payload."""

    channelRefundId: str
    channelOrderId: str
    lines: list[ChannelRefundLine] = []
    shipping: Amount = Decimal("0")
    # Refunded but not tied to a line (a WooCommerce order lists only each refund's total).
    unallocated: Amount = Decimal("0")
    total: Amount
    note: str | None = None
    processedAt: str | None = None
    # Set when the channel's refund is one the OMS made through the refund port (its note or reason
    # names the OMS refund id): it is recorded already and must not be recorded twice.
    omsRefundId: str | None = None


class RefundRequestLine(Model):
    model_config = ConfigDict(extra="forbid")
    # The channel's id for the order line (Shopify line_item_id, WooCommerce line item id).
    channelLineId: str | None = None
    # WooCommerce: the id of the tax rate charged on the line (its `taxes[0].id`).
    channelTaxRateId: str | None = None
    sku: str
    quantity: Annotated[int, Field(ge=0)]
    amount: Amount
    tax: Amount = Decimal("0")


class RefundRequest(Model):
    """What the OMS asks a channel to refund. `refundId` is the idempotency key: sending the same
    request again must never refund twice."""

    model_config = ConfigDict(extra="forbid")
    refundId: str
    orderId: str
    channelOrderId: str
    currency: str
    lines: list[RefundRequestLine]
    shipping: Amount = Decimal("0")
    total: Amount
    reason: str


class RefundReceipt(Model):
    """The channel's answer to a refund it made."""

    channelRefundId: str | None = None
    # The amount the channel says it refunded, when it says.
    amount: Amount | None = None


# --- where a channel takes refunds: the settings of its refund port ---


def _checked_url(value: str, *, query_allowed: bool) -> str:
    if any(character.isspace() for character in value):
        raise ValueError("must not contain spaces")
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ValueError("must be an https:// URL (http:// only for 127.0.0.1 or localhost)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    if parts.fragment or (parts.query and not query_allowed):
        raise ValueError("must not have a query or a fragment")
    return value


def _base_url(value: str) -> str:
    return _checked_url(value, query_allowed=False).rstrip("/")


def _endpoint_url(value: str) -> str:
    return _checked_url(value, query_allowed=True)


def _usable_as_key(secret: str) -> str:
    try:
        standard_webhook_key(secret)
    except ValueError as exc:
        raise ValueError("a whsec_ secret must be followed by valid base64") from exc
    return secret


# The patterns say in the schema what `_checked_url` enforces: https, or http on this machine; a
# port in range; no credentials, fragment or spaces (and for a base URL no query).
_HOST = r"[^/?#\s:@\[\]]+"
_LOCAL = r"(127\.0\.0\.1|localhost|\[::1\])"
_PORT = r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
BASE_URL_PATTERN = rf"^(https://{_HOST}|http://{_LOCAL}){_PORT}(/[^\s#@?]*)?$"
ENDPOINT_URL_PATTERN = rf"^(https://{_HOST}|http://{_LOCAL}){_PORT}([/?][^\s#@]*)?$"
# The patterns are documented, not matched: `_checked_url` says what is wrong in plain words.
BaseUrl = Annotated[
    str,
    StringConstraints(max_length=512),
    AfterValidator(_base_url),
    Field(json_schema_extra={"pattern": BASE_URL_PATTERN}),
]
EndpointUrl = Annotated[
    str,
    StringConstraints(max_length=1024),
    AfterValidator(_endpoint_url),
    Field(json_schema_extra={"pattern": ENDPOINT_URL_PATTERN}),
]
Credential = Annotated[str, StringConstraints(min_length=1, max_length=256)]
SigningSecret = Annotated[
    str, StringConstraints(min_length=16, max_length=512), AfterValidator(_usable_as_key)
]


class ShopifyRefundApi(Model):
    """A shop's REST Admin API, e.g. adminUrl https://shop.myshopify.com, with an Admin API access
    token allowed to write orders."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    adminUrl: BaseUrl
    accessToken: Credential = Field(repr=False)
    apiVersion: Annotated[str, StringConstraints(pattern=r"^(\d{4}-\d{2}|unstable)$")] = SHOPIFY_API_VERSION


class WooCommerceRefundApi(Model):
    """A store's REST API (pretty permalinks: /wp-json/ must be reachable), with a read/write key."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    storeUrl: BaseUrl
    consumerKey: Credential = Field(repr=False)
    consumerSecret: Credential = Field(repr=False)


class SignedRefundUrl(Model):
    """Where an `api` channel takes refund requests, signed per Standard Webhooks with `secret`
    (`whsec_` + base64, or any string used as raw bytes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: EndpointUrl
    secret: SigningSecret = Field(repr=False)


RefundTarget = ShopifyRefundApi | WooCommerceRefundApi | SignedRefundUrl
