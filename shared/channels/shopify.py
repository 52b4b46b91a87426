"""Shopify: order webhooks (`orders/create`, `orders/cancelled`) verified and mapped to the canonical order,
and refunds made in Shopify (`refunds/create`) read as the refunds to record against their order.

Wire format: the body is the bare Order object of the Admin API version the subscription uses; the
REST-wrapped form `{"order": {...}}` (what the REST API returns, and what tooling often forwards) is
accepted too. `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app client secret, raw body)).

Mapping decisions (Shopify field -> canonical field):
- `id` -> channelOrderId, kept as a string of digits: real ids exceed 2**53, so they never pass
  through float (the body is parsed with `parse_float=Decimal`; JSON integers are exact ints).
  Likewise `line_items[].id` -> the line's channelLineId (what refunds name the line by; null when
  a payload has none). Shopify has no tax rate id: channelTaxRateId stays null.
- `name` ("#1001", what the buyer is shown) -> orderNumber, kept when usable (`order_number`).
- All the plain amount fields (`price`, `total_price`, ...) are in shop money, so the currency is
  the shop `currency`, not `presentment_currency`; the `*_set` objects are not read.
- Money is a decimal string; a JSON number is accepted only as an int or a Decimal (what
  `parse_float=Decimal` produces, e.g. refund `subtotal`), never as a float.
- A line's discount is the sum of its `discount_allocations`. Shopify spreads order-level
  discounts (e.g. a 10.00 code "across" the lines) over the lines' allocations, and
  `total_discounts` = line allocations + shipping-line allocations; the deprecated
  `total_discount` is used only when a (pre-2019) payload has no `discount_allocations` at all.
  So the only discount not already on a line is the one allocated to shipping lines: that is
  `orderDiscount`. (In the published 2026-07 order: allocations 3.34 + 3.33 + 3.33 = 10.00 =
  `total_discounts`, while every `total_discount` is "0.00".)
- A line's tax is the sum of its `tax_lines`; shipping tax the sum of the shipping lines'
  `tax_lines`. Order-level `tax_lines` are a summary of those and are not added again (very old
  payloads carry tax only there; their computed total then differs from `total_price`, which the
  OMS records as a mismatch rather than inventing a split).
- Shipping lines with `is_removed: true` (removed by an order edit) are not counted.
- `total_price` -> declaredTotal (duties and additional fees, which the canonical order has no
  field for, show up as a recorded mismatch).
- Email: `email`, else `contact_email`, else `customer.email`. Customer name: the customer's
  first/last name, else the shipping, else the billing address name.
- Titles and address text are HTML-unescaped. A line title is `title - variant_title` when the
  line has a variant title, cut to 256 characters (it is for pick lists, not worth refusing an order).
- Shipping address: `province_code`, else `province`, is the region; empty `address2`, region
  and `zip` become null. `latitude`/`longitude` may be numbers, strings (old payloads) or null;
  unless both are numbers in range, both are dropped (they are Shopify's geocoding guess, not buyer
  input, and only help pick a warehouse), never a reason to refuse the order.
- Lines that do not require shipping (gift cards, digital goods) are kept: they are charged, so
  they count towards the total. An order where no line requires shipping is acknowledged, not
  placed. Every line still needs a SKU (the canonical order requires one).

Refunds (`refunds/create`; the body is the bare Refund object, or REST-wrapped `{"refund": {...}}`):
- `id` -> channelRefundId, `order_id` -> channelOrderId (strings of digits, like the order ids).
- Each `refund_line_items[]` -> a line: `line_item_id` -> channelLineId, `line_item.sku`, `quantity`;
  amount = subtotal + total tax, tax = total tax. Amounts are shop money: `subtotal_set.shop_money.amount`
  and `total_tax_set.shop_money.amount` (strings) when present, else the plain `subtotal` and
  `total_tax` (JSON numbers there, read as exact Decimals).
- shipping = the `refund_shipping_lines[]` (`subtotal_amount_set` + `tax_amount_set`, shop money); a
  refund without them may report its shipping as `order_adjustments[]` of kind `shipping_refund`, whose
  `amount` and `tax_amount` are negative: shipping is then minus their sum. Shopify may report the
  same shipping both ways (its published refund example does), so adjustments are read only when
  there are no refund shipping lines. Other adjustments (`refund_discrepancy`) are not read.
- total = the sum of the `transactions[]` of kind `refund` with status `success` (the money actually
  returned; `amount_set.shop_money.amount` when present, else `amount`); when there are none, lines +
  shipping.
- `note` -> note; `processed_at` (else `created_at`) -> processedAt; a note that starts
  `OMS refund <id>:` names the OMS refund that asked Shopify for it -> omsRefundId.
The delivery is acknowledged (nothing to start), its refund listed in `Inbound.refunds`; its
fingerprint is `refunds/create:<refund id>`.

Errors name fields in Shopify's terms (`line_items.0.sku`). Problems in the Shopify fields are all
reported at once; problems in values derived from several fields (email, names, a discount larger
than its line) are found once the fields they come from are valid.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationError

from shared.channels import (
    Acknowledged,
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
from shared.models.money import MAX_DECIMAL_PLACES, Amount, Currency
from shared.models.order import CanonicalOrder, CountryCode, NonEmpty, Sku
from shared.models.refunds import ChannelRefund, ChannelRefundLine
from shared.signatures import base64_hmac_sha256, verify_base64_hmac

HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
EVENT_ID_HEADER = "x-shopify-event-id"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"

ORDER_CREATED = "orders/create"
# A shop that wants only paid orders subscribes to this topic instead of (or beside) orders/create:
# both place the order, and the (channel, order id) claim keeps it to one.
ORDER_PAID = "orders/paid"
ORDER_CANCELLED = "orders/cancelled"
REFUND_CREATED = "refunds/create"

TITLE_MAX = 256
Path = tuple[str | int, ...]


# --- signature ---------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The `X-Shopify-Hmac-Sha256` value for a body: base64(HMAC-SHA256(key=secret, msg=raw body))."""
    return base64_hmac_sha256(secret, body)


def authenticate(secrets: Sequence[str], headers: Headers, body: bytes) -> None:
    """Accept the delivery if its HMAC matches one of `secrets` (the current secret, then the previous
    one during a rotation); raise SignatureError otherwise. Headers are lower-cased."""
    verify_base64_hmac(HMAC_HEADER, secrets, headers, body)


# --- the Shopify payload -----------------------------------------------------------------------


def _shopify_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    raise ValueError("must be a Shopify id: a positive integer or a string of digits")


def _int_as_decimal(value: Any) -> Any:
    # An exact JSON integer is a fine amount; floats stay floats so that Amount refuses them.
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _signed_amount(value: Any) -> Decimal:
    # Order adjustments are negative; otherwise like Money: a string, an int or a Decimal, never float.
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    amount = None
    if isinstance(value, str | Decimal):
        try:
            amount = Decimal(value.strip()) if isinstance(value, str) else value
        except InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite():
        raise ValueError("must be a decimal string such as '-5.00'")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:  # as Amount counts them
        raise ValueError(f"has more than {MAX_DECIMAL_PLACES} decimal places")
    return amount


def _coordinate(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(value.strip()) if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _required_sku(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("is missing; the OMS needs a SKU to reserve and ship the line")
    return value


def _unescape(value: str) -> str:
    return html.unescape(value).strip()


ShopifyId = Annotated[str, BeforeValidator(_shopify_id)]
Money = Annotated[Amount, BeforeValidator(_int_as_decimal)]
Text = Annotated[str, AfterValidator(_unescape)]
RequiredText = Annotated[NonEmpty, AfterValidator(_unescape)]
Coordinate = Annotated[float | None, BeforeValidator(_coordinate)]
SignedMoney = Annotated[Decimal, BeforeValidator(_signed_amount)]
Quantity = Annotated[int, Field(ge=1, le=10_000), NotBoolean]


class _Model(Model):
    model_config = ConfigDict(extra="ignore")


class _Allocation(_Model):
    amount: Money


class _TaxLine(_Model):
    price: Money


class _LineItem(_Model):
    id: ShopifyId | None = None
    sku: Annotated[Sku, BeforeValidator(_required_sku)]
    title: Text | None = None
    variant_title: Text | None = None
    quantity: Quantity
    price: Money
    total_discount: Money | None = None
    discount_allocations: list[_Allocation] | None = None
    tax_lines: list[_TaxLine] | None = None
    requires_shipping: bool | None = None


class _ShippingLine(_Model):
    price: Money
    tax_lines: list[_TaxLine] | None = None
    discount_allocations: list[_Allocation] | None = None
    is_removed: bool | None = None


class _Customer(_Model):
    email: str | None = None
    first_name: Text | None = None
    last_name: Text | None = None


class _BillingAddress(_Model):
    name: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None


class _ShippingAddress(_BillingAddress):
    company: Text | None = None
    address1: RequiredText
    address2: Text | None = None
    city: RequiredText
    province: Text | None = None
    province_code: Text | None = None
    zip: Text | None = None
    country_code: CountryCode
    latitude: Coordinate = None
    longitude: Coordinate = None


class _Order(_Model):
    id: ShopifyId
    name: Any = None  # "#1001": what the customer sees; kept only if usable (order_number)
    currency: Currency
    taxes_included: bool | None = None
    email: str | None = None
    contact_email: str | None = None
    customer: _Customer | None = None
    shipping_address: _ShippingAddress | None = None
    billing_address: _BillingAddress | None = None
    line_items: Annotated[list[_LineItem], Field(min_length=1)]
    shipping_lines: list[_ShippingLine] | None = None
    total_price: Money | None = None


class _OrderRef(_Model):
    id: ShopifyId
    cancel_reason: Text | None = None


# --- the Shopify refund ------------------------------------------------------------------------


class _ShopMoney(_Model):
    amount: Money


class _MoneySet(_Model):
    shop_money: _ShopMoney


class _SignedShopMoney(_Model):
    amount: SignedMoney


class _SignedMoneySet(_Model):
    shop_money: _SignedShopMoney


class _RefundedItem(_Model):
    sku: str | None = None


class _RefundLineItem(_Model):
    line_item_id: ShopifyId
    quantity: Annotated[int, Field(ge=0), NotBoolean]
    subtotal: Money | None = None
    subtotal_set: _MoneySet | None = None
    total_tax: Money | None = None
    total_tax_set: _MoneySet | None = None
    line_item: _RefundedItem | None = None


class _RefundShippingLine(_Model):
    subtotal_amount_set: _MoneySet
    tax_amount_set: _MoneySet | None = None


class _OrderAdjustment(_Model):
    kind: str | None = None
    amount: SignedMoney | None = None
    amount_set: _SignedMoneySet | None = None
    tax_amount: SignedMoney | None = None
    tax_amount_set: _SignedMoneySet | None = None


class _Transaction(_Model):
    kind: str | None = None
    status: str | None = None
    amount: Money | None = None
    amount_set: _MoneySet | None = None


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


class _Refund(_Model):
    id: ShopifyId
    order_id: ShopifyId
    note: str | None = None
    created_at: str | None = None
    processed_at: str | None = None
    # Lists a payload lacks (older API versions have fewer of them) or sends as null are empty.
    refund_line_items: Annotated[list[_RefundLineItem], BeforeValidator(_none_as_empty)] = []
    refund_shipping_lines: Annotated[list[_RefundShippingLine], BeforeValidator(_none_as_empty)] = []
    order_adjustments: Annotated[list[_OrderAdjustment], BeforeValidator(_none_as_empty)] = []
    transactions: Annotated[list[_Transaction], BeforeValidator(_none_as_empty)] = []


# --- mapping -----------------------------------------------------------------------------------


def to_canonical(payload: Mapping[str, Any]) -> CanonicalOrder:
    """Map a Shopify order (bare or REST-wrapped) to the canonical order, or raise InvalidRequest
    listing every problem, each named by its path in the Shopify payload."""
    payload = _unwrap(payload)
    problems: list[dict[str, str]] = []
    if _needs_shipping(payload) and payload.get("shipping_address") is None:
        problems.append({"field": "shipping_address", "message": "is missing, and a line requires shipping"})
    try:
        order = _Order.model_validate(payload)
    except ValidationError as invalid:
        problems[:0] = [
            _problem(_dotted(e["loc"]), validation_message(e)) for e in invalid.errors(include_url=False)
        ]
        raise InvalidRequest("order is invalid", problems) from invalid
    if problems:
        raise InvalidRequest("order is invalid", problems)
    fields, sources = _canonical_fields(order)
    try:
        return CanonicalOrder.model_validate(fields)
    except ValidationError as invalid:
        found = [
            _problem(_source(e["loc"], sources), validation_message(e))
            for e in invalid.errors(include_url=False)
        ]
        raise InvalidRequest("order is invalid", found) from invalid


def _unwrap(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = payload.get("order")
    if "id" not in payload and isinstance(inner, Mapping):
        return inner
    return payload


def _needs_shipping(payload: Mapping[str, Any]) -> bool:
    lines = payload.get("line_items")
    if not isinstance(lines, list) or not lines:
        return False
    return any(not (isinstance(line, Mapping) and line.get("requires_shipping") is False) for line in lines)


def _dotted(loc: Path) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message.removeprefix("Value error, ")}


# Where each canonical field comes from, for naming problems found in the canonical order.
_ORDER_SOURCES: dict[str, str] = {
    "channelOrderId": "id",
    "currency": "currency",
    "taxesIncluded": "taxes_included",
    "lines": "line_items",
    "shippingPrice": "shipping_lines",
    "shippingTax": "shipping_lines",
    "orderDiscount": "shipping_lines",
    "declaredTotal": "total_price",
}
_LINE_SOURCES: dict[str, str] = {
    "channelLineId": "id",
    "sku": "sku",
    "title": "title",
    "quantity": "quantity",
    "unitPrice": "price",
    "discountAmount": "discount_allocations",
    "taxAmount": "tax_lines",
    "requiresShipping": "requires_shipping",
}
_ADDRESS_SOURCES: dict[str, str] = {
    "name": "name",
    "line1": "address1",
    "line2": "address2",
    "city": "city",
    "region": "province_code",
    "postalCode": "zip",
    "country": "country_code",
    "latitude": "latitude",
    "longitude": "longitude",
}


def _source(loc: Path, derived: dict[Path, str]) -> str:
    """The Shopify path of a canonical field (`derived` holds those picked from several fields)."""
    for length in range(len(loc), 0, -1):
        if loc[:length] in derived:
            return derived[loc[:length]]
    head = str(loc[0]) if loc else ""
    if head == "lines" and len(loc) >= 3:
        return f"line_items.{loc[1]}.{_LINE_SOURCES.get(str(loc[2]), loc[2])}"
    if head == "lines" and len(loc) == 2:
        return f"line_items.{loc[1]}"
    if head == "shippingAddress" and len(loc) >= 2:
        return f"shipping_address.{_ADDRESS_SOURCES.get(str(loc[1]), loc[1])}"
    return _ORDER_SOURCES.get(head, _dotted(loc))


def _canonical_fields(order: _Order) -> tuple[dict[str, Any], dict[Path, str]]:
    email, email_source = _email(order)
    name, name_source = _customer_name(order)
    shipping = [line for line in order.shipping_lines or [] if not line.is_removed]
    fields: dict[str, Any] = {
        "channelOrderId": order.id,
        "orderNumber": order_number(html.unescape(order.name) if isinstance(order.name, str) else order.name),
        "currency": order.currency,
        "taxesIncluded": bool(order.taxes_included),
        "customer": {"email": email, "name": name},
        "shippingAddress": _address(order.shipping_address) if order.shipping_address else None,
        "lines": [_line(line) for line in order.line_items],
        "shippingPrice": _total(line.price for line in shipping),
        "shippingTax": _total(tax.price for line in shipping for tax in line.tax_lines or []),
        "orderDiscount": _total(a.amount for line in shipping for a in line.discount_allocations or []),
        "declaredTotal": order.total_price,
    }
    sources: dict[Path, str] = {("customer", "email"): email_source, ("customer", "name"): name_source}
    for index, line in enumerate(order.line_items):
        if line.discount_allocations is None:
            sources[("lines", index, "discountAmount")] = f"line_items.{index}.total_discount"
    if order.shipping_address and not order.shipping_address.name:
        sources[("shippingAddress", "name")] = "shipping_address.first_name"
    if order.shipping_address and not order.shipping_address.province_code:
        sources[("shippingAddress", "region")] = "shipping_address.province"
    return fields, sources


def _total(amounts: Any) -> Decimal:
    return sum(amounts, Decimal("0"))


def _present(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _email(order: _Order) -> tuple[str | None, str]:
    candidates = [
        ("email", order.email),
        ("contact_email", order.contact_email),
        ("customer.email", order.customer.email if order.customer else None),
    ]
    for source, value in candidates:
        if _present(value):
            return _present(value), source
    return None, "email"


def _full_name(first: str | None, last: str | None) -> str | None:
    return _present(" ".join(part for part in (first, last) if part))


def _customer_name(order: _Order) -> tuple[str | None, str]:
    customer, shipping, billing = order.customer, order.shipping_address, order.billing_address
    candidates = [
        ("customer.first_name", _full_name(customer.first_name, customer.last_name) if customer else None),
        ("shipping_address.name", _address_name(shipping) if shipping else None),
        ("billing_address.name", _address_name(billing) if billing else None),
    ]
    for source, value in candidates:
        if value:
            return value, source
    return None, "customer.first_name"


def _address_name(address: _BillingAddress) -> str | None:
    return _present(address.name) or _full_name(address.first_name, address.last_name)


def _address(address: _ShippingAddress) -> dict[str, Any]:
    latitude, longitude = _within(address.latitude, 90), _within(address.longitude, 180)
    # Coordinates only help as a pair (sourcing measures distances); half a position is dropped.
    if latitude is None or longitude is None:
        latitude = longitude = None
    return {
        "name": _address_name(address) or _present(address.company),
        "line1": address.address1,
        "line2": _present(address.address2),
        "city": address.city,
        "region": _present(address.province_code) or _present(address.province),
        "postalCode": _present(address.zip),
        "country": address.country_code,
        "latitude": latitude,
        "longitude": longitude,
    }


def _within(degrees: float | None, limit: int) -> float | None:
    return degrees if degrees is not None and -limit <= degrees <= limit else None


def _line(line: _LineItem) -> dict[str, Any]:
    if line.discount_allocations is not None:
        discount = _total(allocation.amount for allocation in line.discount_allocations)
    else:
        discount = line.total_discount or Decimal("0")
    return {
        "channelLineId": line.id,
        "sku": line.sku,
        "title": _title(line.title, line.variant_title),
        "quantity": line.quantity,
        "unitPrice": line.price,
        "discountAmount": discount,
        "taxAmount": _total(tax.price for tax in line.tax_lines or []),
        "requiresShipping": line.requires_shipping is not False,
    }


def _title(title: str | None, variant: str | None) -> str | None:
    full = " - ".join(part for part in (_present(title), _present(variant)) if part)
    return full[:TITLE_MAX] or None


def to_channel_refund(payload: Mapping[str, Any]) -> ChannelRefund:
    """Map a Shopify refund (bare or REST-wrapped) to the refund the OMS records, or raise
    InvalidRequest listing every problem, each named by its path in the Shopify payload."""
    inner = payload.get("refund")
    if "id" not in payload and isinstance(inner, Mapping):
        payload = inner
    try:
        refund = _Refund.model_validate(payload)
    except ValidationError as invalid:
        found = [
            _problem(_dotted(e["loc"]), validation_message(e)) for e in invalid.errors(include_url=False)
        ]
        raise InvalidRequest("refund is invalid", found) from invalid
    problems: list[dict[str, str]] = []
    lines = [_refund_line(line, index, problems) for index, line in enumerate(refund.refund_line_items)]
    shipping = _refunded_shipping(refund, problems)
    returned = _money_returned(refund, problems)
    if problems:
        raise InvalidRequest("refund is invalid", problems)
    total = _total(line.amount for line in lines) + shipping if returned is None else returned
    return ChannelRefund(
        channelRefundId=refund.id,
        channelOrderId=refund.order_id,
        lines=lines,
        shipping=shipping,
        total=total,
        note=_present(refund.note),
        processedAt=_present(refund.processed_at) or _present(refund.created_at),
        omsRefundId=oms_refund_id(refund.note),
    )


def _shop(money: _MoneySet | None, plain: Decimal | None) -> Decimal | None:
    """Shop money: the `*_set` amount (a string) rather than the plain field (a number in refunds)."""
    return money.shop_money.amount if money is not None else plain


def _money_returned(refund: _Refund, problems: list[dict[str, str]]) -> Decimal | None:
    """What the successful refund transactions returned, or None when there are none."""
    returned: Decimal | None = None
    for index, transaction in enumerate(refund.transactions):
        if transaction.kind != "refund" or transaction.status != "success":
            continue  # a pending or failed refund returned nothing (yet)
        amount = _shop(transaction.amount_set, transaction.amount)
        if amount is None:
            problems.append(_problem(f"transactions.{index}.amount", "is missing"))
            continue
        returned = amount if returned is None else returned + amount
    return returned


def _refund_line(line: _RefundLineItem, index: int, problems: list[dict[str, str]]) -> ChannelRefundLine:
    subtotal = _shop(line.subtotal_set, line.subtotal)
    if subtotal is None:
        problems.append(
            _problem(f"refund_line_items.{index}.subtotal_set", "is missing (and so is subtotal)")
        )
    tax = _shop(line.total_tax_set, line.total_tax)
    tax = Decimal("0") if tax is None else tax
    return ChannelRefundLine(
        channelLineId=line.line_item_id,
        sku=_present(line.line_item.sku) if line.line_item else None,
        quantity=line.quantity,
        amount=tax if subtotal is None else subtotal + tax,
        tax=tax,
    )


def _refunded_shipping(refund: _Refund, problems: list[dict[str, str]]) -> Decimal:
    if refund.refund_shipping_lines:
        return _total(
            line.subtotal_amount_set.shop_money.amount
            + (line.tax_amount_set.shop_money.amount if line.tax_amount_set else Decimal("0"))
            for line in refund.refund_shipping_lines
        )
    shipping = Decimal("0")
    for index, adjustment in enumerate(refund.order_adjustments):
        if adjustment.kind != "shipping_refund":
            continue
        amount = adjustment.amount_set.shop_money.amount if adjustment.amount_set else adjustment.amount
        tax = (
            adjustment.tax_amount_set.shop_money.amount
            if adjustment.tax_amount_set
            else adjustment.tax_amount
        )
        if amount is None:
            problems.append(
                _problem(f"order_adjustments.{index}.amount_set", "is missing (and so is amount)")
            )
        elif amount + (tax or Decimal("0")) > 0:
            message = "must not be positive: Shopify reports a shipping refund as a negative adjustment"
            problems.append(_problem(f"order_adjustments.{index}.amount", message))
        else:
            shipping -= amount if tax is None else amount + tax
    return shipping


# --- deliveries --------------------------------------------------------------------------------


def interpret(headers: Headers, body: bytes) -> Inbound:
    """What a (verified) delivery means: a new order, a cancellation, or something to acknowledge
    (a refund made in Shopify is acknowledged, and listed in `refunds`)."""
    topic = required_header(headers, TOPIC_HEADER)
    event_id = headers.get(EVENT_ID_HEADER, "").strip() or headers.get(WEBHOOK_ID_HEADER, "").strip()
    if not event_id:
        raise InvalidRequest(
            f"missing {EVENT_ID_HEADER} (or {WEBHOOK_ID_HEADER}) header",
            [{"field": f"headers.{EVENT_ID_HEADER}", "message": f"is required (or {WEBHOOK_ID_HEADER})"}],
        )
    if topic == REFUND_CREATED:
        refund = to_channel_refund(json_object(body, "a Shopify refund"))
        return Inbound(
            eventId=event_id,
            fingerprint=f"{topic}:{refund.channelRefundId}",
            topic=topic,
            action=Acknowledged(
                reason="refund recorded against the order", channelOrderId=refund.channelOrderId
            ),
            refunds=[refund],
        )
    payload = _unwrap(json_object(body, "a Shopify order"))
    order_id: str | None
    action: OrderPlaced | OrderCancelled | Acknowledged
    if topic in (ORDER_CREATED, ORDER_PAID):
        order_id, action = _created(payload)
    elif topic == ORDER_CANCELLED:
        ref = _order_ref(payload)
        reason = ref.cancel_reason or "no reason given"
        order_id = ref.id
        action = OrderCancelled(channelOrderId=ref.id, reason=f"cancelled in Shopify: {reason}")
    else:
        order_id = _id_if_any(payload)
        action = Acknowledged(reason=f"topic {topic} is not handled", channelOrderId=order_id)
    # The same event may reach several subscriptions in different API versions: the content is
    # identified by topic and order, not by the bytes.
    return Inbound(eventId=event_id, fingerprint=f"{topic}:{order_id or '-'}", topic=topic, action=action)


def _created(payload: Mapping[str, Any]) -> tuple[str, OrderPlaced | Acknowledged]:
    if _nothing_to_ship(payload):
        order_id = _order_ref(payload).id
        reason = "no line requires shipping (gift cards, digital goods or services only)"
        return order_id, Acknowledged(reason=reason, channelOrderId=order_id)
    order = to_canonical(payload)
    return order.channelOrderId, OrderPlaced(order=order)


def _order_ref(payload: Mapping[str, Any]) -> _OrderRef:
    try:
        return _OrderRef.model_validate(payload)
    except ValidationError as invalid:
        problems = [
            _problem(_dotted(e["loc"]), validation_message(e)) for e in invalid.errors(include_url=False)
        ]
        raise InvalidRequest("order is invalid", problems) from invalid


def _id_if_any(payload: Mapping[str, Any]) -> str | None:
    try:
        return _shopify_id(payload.get("id"))
    except ValueError:
        return None


def _nothing_to_ship(payload: Mapping[str, Any]) -> bool:
    lines = payload.get("line_items")
    return isinstance(lines, list) and bool(lines) and not _needs_shipping(payload)
