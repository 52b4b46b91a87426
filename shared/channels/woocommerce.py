"""WooCommerce: order webhooks (topics `order.created` / `order.updated`) into canonical orders.

The webhook body is the REST API v3 order (`GET /wp-json/wc/v3/orders/{id}`), sent as compact JSON
with "/" escaped as "\\/"; it is signed with `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret,
raw body)). When a webhook is created WooCommerce sends an unsigned ping, the form body
`webhook_id=N`. Money amounts are decimal strings (only `line_items[].price` is a JSON number, and
it is never used). Line `subtotal` (before coupons) and `total` (after coupons) EXCLUDE tax even
when the store's prices include tax; the order `total` is what the buyer paid, tax included.
A line item's `id` becomes its canonical lines' channelLineId and its first tax's rate id
(`taxes[0].id`) their channelTaxRateId: WooCommerce's refund API names lines and their tax by those.
The order's `number` (what the buyer is shown; the id unless a plugin numbers orders) -> orderNumber.

Refunds have no topic of their own: WooCommerce sends `order.updated` when one is made (or deleted),
and every order payload lists the order's refunds as `refunds: [{"id", "reason", "total"}]`, the total
a negative decimal string ("-10.00"). Whatever the delivery's action, each becomes a ChannelRefund in
`Inbound.refunds`: channelRefundId = id, total = unallocated = the total without its sign (the order
payload does not say which lines a refund covers), note = reason (a webhook set to the v1 API, and
older v2, names it `refund`), omsRefundId from a reason that starts `OMS refund <id>:`. An absent,
null or empty list means no refunds.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from shared.channels import (
    Acknowledged,
    Action,
    Headers,
    Inbound,
    OrderCancelled,
    OrderPlaced,
    json_object,
    oms_refund_id,
    order_number,
    required_header,
)
from shared.errors import InvalidRequest, validation_message
from shared.models.base import Model
from shared.models.catalog import NotBoolean
from shared.models.money import Amount, Currency, round_half_up, smallest_unit, split_line_price
from shared.models.order import MAX_LINES, Address, CanonicalOrder, Customer, Sku
from shared.models.refunds import ChannelRefund
from shared.signatures import base64_hmac_sha256, verify_base64_hmac

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
DELIVERY_HEADER = "x-wc-webhook-delivery-id"

# Exactly what WC_Webhook::deliver_ping() posts; no trailing newline (WooCommerce sends none, and
# the unsigned shape is kept as narrow as possible).
_PING = re.compile(rb"webhook_id=([0-9]{1,20})")

AWAITING_PAYMENT = frozenset({"pending", "on-hold", "failed", "checkout-draft"})
# Product names are free text; the canonical title is display-only, so a long one is cut, not refused.
MAX_TITLE = 256
ZERO = Decimal("0")


# --- Signatures -------------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The `X-WC-Webhook-Signature` value WooCommerce sends for this body."""
    return base64_hmac_sha256(secret, body)


def is_ping(headers: Headers, body: bytes) -> bool:
    """WooCommerce's webhook-creation ping: body `webhook_id=N` and no signature header at all."""
    return SIGNATURE_HEADER not in headers and _PING.fullmatch(body) is not None


def authenticate(secrets: Sequence[str], headers: Headers, body: bytes) -> None:
    """Accept the ping unsigned; otherwise the signature must match one of `secrets` (current
    first, then the previous one during a rotation). Raises SignatureError; never names a secret."""
    if is_ping(headers, body):
        return  # It carries no data and only produces an Acknowledged.
    verify_base64_hmac(SIGNATURE_HEADER, secrets, headers, body)


# --- Deliveries -------------------------------------------------------------------------------------


def interpret(headers: Headers, body: bytes) -> Inbound:
    fingerprint = hashlib.sha256(body).hexdigest()
    if is_ping(headers, body):
        webhook_id = body.decode("ascii").removeprefix("webhook_id=")
        return Inbound(
            eventId=f"ping-{webhook_id}",
            fingerprint=fingerprint,
            topic="ping",
            action=Acknowledged(reason="webhook creation ping"),
        )
    delivery_id = required_header(headers, DELIVERY_HEADER)
    topic = required_header(headers, TOPIC_HEADER)
    # WooCommerce's delivery id is wp_hash(webhook id . time()) at one-second resolution: two
    # different deliveries of one webhook in the same second (a bulk status change, the async
    # queue draining) share it. Qualified by the body hash so those are not taken for one event
    # with two contents (refused 409, and WooCommerce never redelivers); byte-identical repeats
    # still share an id.
    event_id = f"{delivery_id}.{fingerprint[:16]}"
    action, refunds = _read(topic, body)
    return Inbound(eventId=event_id, fingerprint=fingerprint, topic=topic, action=action, refunds=refunds)


def _read(topic: str, body: bytes) -> tuple[Action, list[ChannelRefund]]:
    if topic not in ("order.created", "order.updated"):
        return Acknowledged(reason=f"topic {topic} is not handled"), []
    payload = json_object(body, "a WooCommerce order")
    head = _validated(_WooOrderHead, payload)
    problems: Problems = []
    listed = _try(_WooRefunds, payload, problems, lambda path: path)
    try:
        action = _action(head, payload)
    except InvalidRequest as invalid:
        raise InvalidRequest(invalid.message, [*invalid.details, *problems]) from invalid
    if listed is None:
        raise InvalidRequest("order is invalid", problems)
    return action, [_channel_refund(head.id, refund) for refund in listed.refunds]


def _channel_refund(order_id: str, refund: _WooRefund) -> ChannelRefund:
    note = refund.reason or refund.refund or None
    return ChannelRefund(
        channelRefundId=refund.id,
        channelOrderId=order_id,
        lines=[],
        unallocated=refund.total,
        total=refund.total,
        note=note,
        omsRefundId=oms_refund_id(note),
    )


def _action(head: _WooOrderHead, payload: Mapping[str, Any]) -> Action:
    order_id, status = head.id, head.status
    if status == "processing":  # paid and waiting to be fulfilled
        return OrderPlaced(order=to_canonical(payload))
    if status == "cancelled":
        return OrderCancelled(channelOrderId=order_id, reason="cancelled in WooCommerce")
    if status in AWAITING_PAYMENT:
        reason = f"order is {status}: awaiting payment; it is fulfilled once WooCommerce marks it processing"
        return Acknowledged(reason=reason, channelOrderId=order_id)
    # completed, refunded, or a status added by a plugin: nothing for the OMS to start.
    return Acknowledged(reason=f"order status {status} is not fulfilled by the OMS", channelOrderId=order_id)


# --- The WooCommerce payload ------------------------------------------------------------------------


def _order_id(value: Any) -> Any:
    # Ids are JSON integers; a string id is accepted as well (and kept as given).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("must be the order's id (an integer or a non-empty string)")


def _item_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("must be an id (an integer or a non-empty string)")


def _list(value: Any) -> Any:
    return [] if value is None else value


def _text(value: Any) -> Any:
    # WooCommerce sends "" (or null) for absent text and stores names with HTML entities ("&ndash;").
    if value is None:
        return ""
    if isinstance(value, str):
        return html.unescape(value).strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # e.g. a postcode stored as a number by a plugin
    return value  # not text: str validation reports it


def _plain(value: Any) -> Any:
    # Identifiers (SKU, email) are kept as they are, not unescaped.
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _sku(value: Any) -> Any:
    value = _plain(value)  # null when the product was deleted since the order was placed
    if value == "":
        raise ValueError("is empty: the OMS allocates stock by SKU; give the product a SKU in WooCommerce")
    return value


def _object(value: Any) -> Any:
    # PHP encodes an empty array as [] and a missing address may come as null.
    return {} if value is None or value == [] else value


def _signed_money(value: Any) -> Decimal:
    # Fee lines may be negative (a discount); otherwise like Amount: strings or Decimals, never float.
    if isinstance(value, str | Decimal):
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation as exc:
            raise ValueError("must be a decimal string such as '-5.00'") from exc
        if amount.is_finite():
            return amount
    raise ValueError("must be a decimal string such as '-5.00'")


def _unsigned_money(value: Any) -> Decimal:
    # A refund's total is negative in the order payload ("-10.00"); the amount refunded is positive.
    return abs(_signed_money(value))


Text = Annotated[str, BeforeValidator(_text)]
ItemId = Annotated[str, BeforeValidator(_item_id)]
Plain = Annotated[str, BeforeValidator(_plain)]
SignedMoney = Annotated[Decimal, BeforeValidator(_signed_money)]
RefundTotal = Annotated[Amount, BeforeValidator(_unsigned_money)]


class _Woo(Model):
    model_config = ConfigDict(extra="ignore")


class _WooOrderHead(_Woo):
    id: Annotated[str, BeforeValidator(_order_id)]
    status: Annotated[str, Field(min_length=1)]


class _WooTax(_Woo):
    id: ItemId  # the tax rate's id


class _WooLineItem(_Woo):
    id: ItemId | None = None
    name: Text = ""
    sku: Annotated[Sku, BeforeValidator(_sku)]
    quantity: Annotated[int, Field(ge=1, le=10_000), NotBoolean]
    subtotal: Amount
    subtotal_tax: Amount = ZERO
    total: Amount
    total_tax: Amount = ZERO
    taxes: Annotated[list[_WooTax], BeforeValidator(_list)] = []


class _WooShippingLine(_Woo):
    total: Amount
    total_tax: Amount = ZERO


class _WooFeeLine(_Woo):
    total: SignedMoney
    total_tax: SignedMoney = ZERO


class _WooOrder(_WooOrderHead):
    number: Any = None  # what the customer sees (a sequential-numbers plugin changes it); kept if usable
    currency: Currency
    prices_include_tax: bool = False
    total: Amount
    line_items: Annotated[list[_WooLineItem], Field(min_length=1, max_length=MAX_LINES)]
    shipping_lines: list[_WooShippingLine] = []
    fee_lines: list[_WooFeeLine] = []


class _WooRefund(_Woo):
    id: ItemId
    reason: Plain = ""
    refund: Plain = ""  # the reason, as the v1 API (and older v2) names it
    total: RefundTotal


class _WooRefunds(_Woo):
    refunds: Annotated[list[_WooRefund], BeforeValidator(_list)] = []


class _WooAddress(_Woo):
    first_name: Text = ""
    last_name: Text = ""
    company: Text = ""
    address_1: Text = ""
    address_2: Text = ""
    city: Text = ""
    state: Text = ""
    postcode: Text = ""
    country: Plain = ""
    email: Plain = ""  # billing only

    def person(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def is_blank(self) -> bool:
        return not any(getattr(self, name) for name in _ADDRESS_PARTS)


class _WooParties(_Woo):
    billing: Annotated[_WooAddress, BeforeValidator(_object)] = _WooAddress()
    shipping: Annotated[_WooAddress, BeforeValidator(_object)] = _WooAddress()


_ADDRESS_PARTS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)
# Canonical address field -> WooCommerce address field (for error paths).
_ADDRESS_FIELDS = {
    "name": "first_name",
    "line1": "address_1",
    "line2": "address_2",
    "city": "city",
    "region": "state",
    "postalCode": "postcode",
    "country": "country",
}
# Canonical order field -> WooCommerce field, for the few checks only the canonical model makes.
_ORDER_FIELDS = {
    "channelOrderId": "id",
    "lines": "line_items",
    "shippingPrice": "shipping_lines",
    "shippingTax": "shipping_lines",
    "orderDiscount": "fee_lines",
    "declaredTotal": "total",
}
_LINE_FIELDS = {
    "unitPrice": "subtotal",
    "discountAmount": "total",
    "taxAmount": "total_tax",
    "channelLineId": "id",
    "channelTaxRateId": "taxes.0.id",
}

Problems = list[dict[str, str]]
M = TypeVar("M", bound=BaseModel)


def _problems(invalid: ValidationError, rename: Callable[[list[str]], list[str]] | None = None) -> Problems:
    found = []
    for error in invalid.errors(include_url=False):
        path = [str(part) for part in error["loc"]]
        found.append(
            {
                "field": ".".join(rename(path) if rename else path) or "body",
                "message": validation_message(error),
            }
        )
    return found


def _renamed(fields: Mapping[str, str]) -> Callable[[list[str]], list[str]]:
    def rename(path: list[str]) -> list[str]:
        return [fields.get(path[0], path[0]), *path[1:]] if path else path

    return rename


def _validated(model: type[M], payload: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as invalid:
        raise InvalidRequest("order is invalid", _problems(invalid)) from invalid


def _try(model: type[M], data: Any, problems: Problems, rename: Callable[[list[str]], list[str]]) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        problems.extend(_problems(invalid, rename))
        return None


# --- Mapping ----------------------------------------------------------------------------------------


def to_canonical(payload: Mapping[str, Any]) -> CanonicalOrder:
    """The canonical order for a WooCommerce order, or InvalidRequest listing every problem found,
    each named by its WooCommerce path (e.g. `line_items.0.sku`)."""
    problems: Problems = []
    # The amounts and lines and the two addresses are checked independently, so that one delivery
    # reports all its problems at once.
    order = _try(_WooOrder, payload, problems, lambda path: path)
    parties = _try(_WooParties, payload, problems, lambda path: path)
    customer = address = None
    if parties is not None:
        customer = _customer(parties, problems)
        address = _shipping_address(parties, problems)
    if order is None or customer is None or address is None:
        raise InvalidRequest("order is invalid", problems)
    fields, sources = _canonical_fields(_rounded(order), customer, address)
    canonical = _try(CanonicalOrder, fields, problems, _woo_path(sources))
    if canonical is None:
        raise InvalidRequest("order is invalid", problems)
    return canonical


def _customer(parties: _WooParties, problems: Problems) -> Customer | None:
    # WooCommerce has the buyer's email only in billing; the name may be in either address.
    billing, shipping = parties.billing, parties.shipping
    name = billing.person() or shipping.person() or billing.company or shipping.company
    missing = [
        {"field": field, "message": message}
        for field, message, value in (
            ("billing.email", "is required: the buyer's email", billing.email),
            ("billing.first_name", "no buyer name in billing or shipping", name),
        )
        if not value
    ]
    if missing:
        problems.extend(missing)
        return None
    fields = {"email": "billing.email", "name": "billing.first_name"}
    return _try(Customer, {"email": billing.email, "name": name}, problems, _renamed(fields))


def _shipping_address(parties: _WooParties, problems: Problems) -> Address | None:
    # WooCommerce's checkout copies billing into shipping when the buyer ships to the billing address;
    # shipping is left entirely blank only when the order was made without a shipping step (admin or
    # REST orders, stores with shipping disabled). Then billing is the only address the retailer has,
    # so it is used. A partly filled shipping address is never mixed with billing.
    source = parties.billing if parties.shipping.is_blank() else parties.shipping
    name = source.person() or source.company
    data = {
        "name": name,
        "line1": source.address_1,
        "line2": source.address_2 or None,
        "city": source.city,
        "region": source.state or None,
        "postalCode": source.postcode or None,
        "country": source.country,
    }
    missing = [
        {"field": f"shipping.{_ADDRESS_FIELDS[field]}", "message": "is required to ship the order"}
        for field in ("name", "line1", "city", "country")
        if not data[field]
    ]
    if missing:
        # Errors name `shipping` fields even when billing was the fallback: that is where it belongs.
        problems.extend(missing)
        return None
    fields = {name: f"shipping.{woo}" for name, woo in _ADDRESS_FIELDS.items()}
    return _try(Address, data, problems, _renamed(fields))


def _rounded(order: _WooOrder) -> _WooOrder:
    """Every amount rounded to the currency's smallest unit, halves away from zero: what WooCommerce
    itself sends for a store that shows prices with the currency's decimals (its REST API and
    webhooks round each amount to the store's price decimals with PHP's round()). A store set to
    more decimals than its currency has gets its amounts rounded the same way; a difference from
    its total is then recorded as `totalMismatch`."""

    def rounded(model: M) -> M:
        amounts = {
            name: round_half_up(value, order.currency) for name, value in model if isinstance(value, Decimal)
        }
        return model.model_copy(update=amounts)

    return rounded(order).model_copy(
        update={
            "line_items": [rounded(item) for item in order.line_items],
            "shipping_lines": [rounded(line) for line in order.shipping_lines],
            "fee_lines": [rounded(fee) for fee in order.fee_lines],
        }
    )


def _canonical_fields(
    order: _WooOrder, customer: Customer, address: Address
) -> tuple[dict[str, Any], list[int]]:
    """The canonical order's fields, and for each canonical line the line item it comes from."""
    included = order.prices_include_tax
    shipping_price = sum(
        (_gross(line.total, line.total_tax, included) for line in order.shipping_lines), ZERO
    )
    shipping_tax = sum((line.total_tax for line in order.shipping_lines), ZERO)
    order_discount = ZERO
    for fee in order.fee_lines:
        if fee.total + fee.total_tax < 0:
            # A negative fee is a discount on the whole order, tax included (it comes off the total).
            order_discount -= fee.total + fee.total_tax
        else:
            # A positive fee (gift wrap, payment surcharge) has no SKU and nothing to pick, so it
            # cannot be a line; it is charged like shipping ("shipping & handling"), which keeps the
            # computed total equal to what the buyer paid.
            shipping_price += _gross(fee.total, fee.total_tax, included)
            shipping_tax += fee.total_tax
    step = smallest_unit(order.currency)
    lines: list[dict[str, Any]] = []
    sources: list[int] = []
    for index, item in enumerate(order.line_items):
        item_lines = _lines(item, included, step)
        lines += item_lines
        sources += [index] * len(item_lines)
    fields = {
        "channelOrderId": order.id,
        "orderNumber": order_number(order.number),
        "currency": order.currency,
        "taxesIncluded": included,
        "customer": customer,
        "shippingAddress": address,
        "lines": lines,
        "shippingPrice": shipping_price,
        "shippingTax": shipping_tax,
        "orderDiscount": order_discount,
        "declaredTotal": order.total,
    }
    return fields, sources


def _gross(net: Decimal, tax: Decimal, taxes_included: bool) -> Decimal:
    # WooCommerce amounts exclude tax; a tax-inclusive canonical order carries them with their tax.
    return net + tax if taxes_included else net


def _lines(item: _WooLineItem, included: bool, step: Decimal) -> list[dict[str, Any]]:
    """One line item -> one canonical line, or two of the same SKU when its price does not divide
    into its quantity in whole currency units (10.00 for 3: one at 3.34 and two at 3.33)."""
    before = _gross(item.subtotal, item.subtotal_tax, included)  # before coupons
    after = _gross(item.total, item.total_tax, included)  # what the buyer pays for the line
    # A line edited up in the admin can cost more than its subtotal: then there is no discount.
    price = max(before, after)
    tax_rate = item.taxes[0].id if item.taxes else None
    return [
        {
            # Both lines of a split item are the one WooCommerce line: a refund names it by its id.
            "channelLineId": item.id,
            "channelTaxRateId": tax_rate,
            "sku": item.sku,
            "title": item.name[:MAX_TITLE] or None,
            "quantity": units,
            "unitPrice": unit_price,
            "discountAmount": discount,
            "taxAmount": tax,
            # WooCommerce line items do not say whether the product is virtual: every line is shipped.
            "requiresShipping": True,
        }
        for units, unit_price, discount, tax in split_line_price(
            price, item.quantity, price - after, item.total_tax, step
        )
    ]


def _woo_path(sources: list[int]) -> Callable[[list[str]], list[str]]:
    """Canonical error locations in WooCommerce terms: lines.1.unitPrice -> line_items.0.subtotal
    when canonical line 1 comes from line item 0."""

    def rename(path: list[str]) -> list[str]:
        head, *rest = path or ["body"]
        if head == "lines" and len(rest) == 2 and rest[0].isdigit() and int(rest[0]) < len(sources):
            return ["line_items", str(sources[int(rest[0])]), _LINE_FIELDS.get(rest[1], rest[1])]
        return [_ORDER_FIELDS.get(head, head), *rest]

    return rename
