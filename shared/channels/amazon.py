"""Amazon (SP-API): ORDER_CHANGE notifications and getOrder/getOrderItems mapped to the canonical order.

Amazon sends no HTTP webhooks. The Notifications API delivers ORDER_CHANGE to an SQS queue; the body of
each SQS message is the notification JSON (`NotificationMetadata.NotificationId` is its event id). The
notification carries no prices and no address, so `decide` says whether the order is worth fetching,
and `to_canonical` maps what getOrder and getOrderItems (`shared.channels.spapi`) return. Everything
here is pure: no I/O.

Mapping decisions (SP-API field -> canonical field):
- `AmazonOrderId` -> channelOrderId, and orderNumber (the buyer knows the order by it too).
- Currency: `OrderTotal.CurrencyCode`, else the first item's `ItemPrice.CurrencyCode` (orders that are
  not yet paid have no `OrderTotal`). Every amount that is used must be in that currency.
- Amounts are `Money` objects whose `Amount` is a decimal string; JSON numbers are refused (never
  float). Discount amounts may come with either sign (they are reductions); any other negative amount
  is refused.
- `OrderItemId` -> channelLineId (both lines of a split item keep it); no tax rate id.
- `SellerSKU` -> sku; `Title` (HTML-unescaped, cut to 256 characters: it is for pick lists, not worth
  refusing an order) -> title; `QuantityOrdered` -> quantity, which must be at least 1 (Amazon reports
  0 for a cancelled item, and cancelled orders are handled by `decide` before any fetch).
- `ItemPrice` is the price of all the units of the item (unit price x quantity), so unitPrice =
  ItemPrice / QuantityOrdered. When that division is not exact in 4 decimal places (10.00 for 3 units),
  the item becomes two lines of the same SKU whose unit prices differ by the smallest unit of the
  amount (2 x 3.33 + 1 x 3.34 = 10.00), so the canonical total equals what Amazon charged, to the cent.
  The item's tax and discount are then shared between the two lines in proportion to their prices.
- `ItemTax` is the tax on the item price and `PromotionDiscountTax` the tax on its promotional
  discount, so taxAmount = ItemTax - PromotionDiscountTax (the tax actually charged) and
  discountAmount = PromotionDiscount. This reads right in both tax regimes below: in the US the
  buyer pays ItemPrice - PromotionDiscount + (ItemTax - PromotionDiscountTax); where prices include
  tax, PromotionDiscount includes its tax too and the tax amounts are informative only.
- shippingPrice = sum of the items' `ShippingPrice`; shippingTax = sum of (`ShippingTax` -
  `ShippingDiscountTax`); the items' `ShippingDiscount` add up to orderDiscount (the canonical order
  has no shipping-discount field, and a shipping discount is a discount on the order, not on a line).
- `OrderTotal.Amount` -> declaredTotal. Gift wrap (`BuyerInfo.GiftWrapPrice`, restricted data) and
  COD fees (`CODFee`, JP) have no canonical field: when charged they show up as a recorded total
  mismatch rather than being folded into another amount. `PointsGranted` is not a payment and is not
  read.
- taxesIncluded: by `MarketplaceId`. In the US and Canada prices exclude sales tax (GST/HST), as
  the published sandbox order shows: OrderTotal 11.01 = ItemPrice 10.00 + ItemTax 1.01. Everywhere
  else Amazon shows buyers tax-inclusive prices (EU, UK, JP, AU, IN, MX, BR, ...), and `ItemPrice`
  includes the VAT (`ItemTax` is then often 0), so those orders are taxesIncluded. An unknown
  marketplace is treated as tax-inclusive, like most of them; a wrong guess shows up as a mismatch.
- customer.email = `BuyerInfo.BuyerEmail` (Amazon's anonymised relay address); customer.name =
  `BuyerInfo.BuyerName`, else `ShippingAddress.Name`.
- Shipping address: `Name`, `AddressLine1..3`, `City`, `StateOrRegion`, `PostalCode`, `CountryCode`.
  The address lines that are not empty become line1 and line2 (joined with ", "): some marketplaces
  leave `AddressLine1` empty, or put a company name there, and the street in `AddressLine2`.
  `ShippingAddress` and `BuyerInfo` are restricted data: without a restricted data token getOrder
  omits them (or returns only city, region, postal code and country), as do the sandbox responses.
  Their absence is reported as an error, never filled in.
- Booleans are strings in getOrderItems (`IsGift: "false"`, `BuyerRequestedCancel.IsBuyerRequestedCancel:
  "true"`) but JSON booleans in the notification (`IsBuyerRequestedCancel: true`): `_flag` reads both.

Errors name fields in SP-API terms (`OrderItems.0.SellerSKU`, `ShippingAddress`, `BuyerInfo.BuyerEmail`),
and every problem is reported at once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, TypeAlias, TypeVar

from pydantic import ConfigDict, ValidationError

from shared.channels import Acknowledged, OrderCancelled
from shared.errors import InvalidRequest, validation_message
from shared.models.base import Model
from shared.models.money import (
    ISO_4217,
    MAX_DECIMAL_PLACES,
    finer_than,
    smallest_unit,
    split_line_price,
    too_fine_for,
)
from shared.models.order import Address, CanonicalOrder, Customer, OrderLine

NOTIFICATION_TYPE: Final = "ORDER_CHANGE"

# Marketplaces whose prices exclude tax (sales tax is added at checkout): US and Canada.
TAX_EXCLUSIVE_MARKETPLACES: Final = frozenset({"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"})

# `FulfillmentType` (notification) / `FulfillmentChannel` (getOrder). getOrders' published example
# spells the seller-fulfilled channel "SellerFulfilled", hence the aliases.
AMAZON_FULFILLED: Final = frozenset({"AFN", "AmazonFulfilled"})
SELLER_FULFILLED: Final = frozenset({"MFN", "SellerFulfilled"})

# Statuses of a paid, seller-fulfilled order that still has something to ship.
TO_SHIP: Final = frozenset({"Unshipped", "PartiallyShipped"})
_NOT_YET_PAID: Final = frozenset({"Pending", "PendingAvailability"})
_ALREADY_SHIPPED: Final = frozenset({"Shipped", "InvoiceUnconfirmed"})

TITLE_MAX = 256
RESTRICTED = "restricted data: getOrder returns it only with a restricted data token"

Fetch: TypeAlias = Literal["fetch"]
Convert: TypeAlias = Literal["convert"]
FETCH: Final[Fetch] = "fetch"
CONVERT: Final[Convert] = "convert"
Notice: TypeAlias = Acknowledged | OrderCancelled


# --- the notification -------------------------------------------------------------------------------


class OrderChangeNotification(Model):
    """What the OMS keeps of an ORDER_CHANGE notification (flattened; SP-API names in comments)."""

    model_config = ConfigDict(frozen=True)
    notificationId: str  # NotificationMetadata.NotificationId: the event id (duplicates share it)
    eventTime: str  # EventTime
    sellerId: str  # Payload.OrderChangeNotification.SellerId
    amazonOrderId: str  # ...AmazonOrderId
    marketplaceId: str  # ...Summary.MarketplaceId
    orderStatus: str  # ...Summary.OrderStatus: Pending, Unshipped, PartiallyShipped, Shipped, Canceled...
    fulfillmentChannel: str  # ...Summary.FulfillmentType: AFN (by Amazon) or MFN (by the seller)
    orderChangeType: str | None = None  # ...OrderChangeType: OrderStatusChange or BuyerRequestedChange
    changeReason: str | None = None  # ...OrderChangeTrigger.ChangeReason, e.g. "Buyer Requested Cancel"
    # True when the buyer asked to cancel an item (`IsBuyerRequestedCancel` of any item). The order is
    # not cancelled until the seller cancels it; Amazon then sends another notification (Canceled).
    buyerRequestedCancel: bool = False


_BASE = "Payload.OrderChangeNotification"
_SUMMARY = f"{_BASE}.Summary"
_NOTIFICATION_FIELDS: Final = {
    "notificationId": "NotificationMetadata.NotificationId",
    "eventTime": "EventTime",
    "sellerId": f"{_BASE}.SellerId",
    "amazonOrderId": f"{_BASE}.AmazonOrderId",
    "marketplaceId": f"{_SUMMARY}.MarketplaceId",
    "orderStatus": f"{_SUMMARY}.OrderStatus",
    "fulfillmentChannel": f"{_SUMMARY}.FulfillmentType",
}


def parse_notification(message_body: str | bytes) -> OrderChangeNotification:
    """The SQS message body (an ORDER_CHANGE notification) -> the notification. InvalidRequest when
    it is not JSON, not an ORDER_CHANGE notification, or lacks a field the OMS needs."""
    try:
        data = json.loads(message_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise InvalidRequest(
            "notification is not valid JSON", [{"field": "body", "message": str(exc)}]
        ) from exc
    if not isinstance(data, Mapping):
        raise InvalidRequest("notification is invalid", [{"field": "body", "message": "must be an object"}])
    kind = data.get("NotificationType")
    if kind != NOTIFICATION_TYPE:
        raise InvalidRequest(
            "notification is invalid",
            [{"field": "NotificationType", "message": f"is {kind!r}; only {NOTIFICATION_TYPE} is handled"}],
        )
    problems = _Problems()
    values = {name: _required_text(data, path, problems) for name, path in _NOTIFICATION_FIELDS.items()}
    change = _get(data, _BASE)
    trigger = change.get("OrderChangeTrigger") if isinstance(change, Mapping) else None
    summary = _get(data, _SUMMARY)
    items = summary.get("OrderItems") if isinstance(summary, Mapping) else None
    problems.raise_if_any("notification is invalid")
    return OrderChangeNotification(
        **values,
        orderChangeType=_optional_text(change, "OrderChangeType"),
        changeReason=_optional_text(trigger, "ChangeReason"),
        buyerRequestedCancel=_any_cancel_requested(items),
    )


def _any_cancel_requested(items: Any) -> bool:
    if not isinstance(items, Sequence) or isinstance(items, str):
        return False
    return any(isinstance(item, Mapping) and _flag(item.get("IsBuyerRequestedCancel")) for item in items)


def _flag(value: Any) -> bool:
    """An SP-API boolean: a JSON boolean (notifications) or the string "true"/"false" (getOrderItems)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


# --- what to do -------------------------------------------------------------------------------------


def decide(notification: OrderChangeNotification) -> Fetch | Notice:
    """What to do with a notification, before fetching anything.

    - fulfilled by Amazon (AFN): Acknowledged; Amazon ships it, the OMS has nothing to do.
    - Canceled: OrderCancelled (the intake cancels the order if it holds it).
    - Unshipped or PartiallyShipped (seller-fulfilled): "fetch" the order and its items, then
      `decide_fetched` and `to_canonical`. A buyer's cancel request (`buyerRequestedCancel`) does not
      change this: the order stands until the seller cancels it.
    - Pending / PendingAvailability (not yet paid: no prices, no address): Acknowledged; Amazon sends
      another notification when the order becomes Unshipped.
    - Shipped, InvoiceUnconfirmed, Unfulfillable or any other status: Acknowledged.
    """
    reason = f"cancelled on Amazon: {notification.changeReason}" if notification.changeReason else None
    return _decide(
        notification.amazonOrderId,
        notification.orderStatus,
        notification.fulfillmentChannel,
        FETCH,
        cancel_reason=reason,
    )


def decide_fetched(order: Mapping[str, Any]) -> Convert | Notice:
    """The same rules applied to the getOrder payload, which is newer than the notification (the
    order may have been cancelled meanwhile): "convert" means go on with `to_canonical`."""
    status, channel = order.get("OrderStatus"), order.get("FulfillmentChannel")
    return _decide(
        str(order.get("AmazonOrderId") or ""),
        status if isinstance(status, str) else "",
        channel if isinstance(channel, str) else "",
        CONVERT,
    )


_Proceed = TypeVar("_Proceed", bound=str)


def _decide(
    order_id: str, status: str, channel: str, proceed: _Proceed, cancel_reason: str | None = None
) -> _Proceed | Notice:
    if channel in AMAZON_FULFILLED:
        return Acknowledged(
            reason="fulfilled by Amazon (AFN); nothing for the OMS to do", channelOrderId=order_id
        )
    if channel not in SELLER_FULFILLED:
        return Acknowledged(reason=f"fulfillment channel {channel!r} is not handled", channelOrderId=order_id)
    if status == "Canceled":
        return OrderCancelled(channelOrderId=order_id, reason=cancel_reason or "cancelled on Amazon")
    if status in TO_SHIP:
        return proceed
    if status in _NOT_YET_PAID:
        why = f"order is {status}: not yet paid; Amazon notifies again when it is"
    elif status in _ALREADY_SHIPPED:
        why = f"order is {status}: already shipped"
    else:
        why = f"order status {status!r} is not one the OMS acts on"
    return Acknowledged(reason=why, channelOrderId=order_id)


# --- getOrder + getOrderItems -> canonical -----------------------------------------------------------


@dataclass
class _Problems:
    """Field problems, in SP-API terms, collected so that all of them are reported at once."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        problem = {"field": path, "message": message}
        if problem not in self.items:
            self.items.append(problem)

    def covers(self, path: str) -> bool:
        """True when a problem was already reported at `path`, inside it or around it."""
        return any(
            known == path or known.startswith(f"{path}.") or path.startswith(f"{known}.")
            for known in (problem["field"] for problem in self.items)
        )

    def add_validation(self, invalid: ValidationError, where: Callable[[tuple[Any, ...]], str]) -> None:
        """Adds pydantic's errors at the SP-API paths `where` gives, except where a problem is known."""
        known = _Problems(list(self.items))
        for error in invalid.errors(include_url=False):
            path = where(tuple(error["loc"]))
            if not known.covers(path):
                self.add(path, validation_message(error))

    def raise_if_any(self, message: str) -> None:
        if self.items:
            raise InvalidRequest(message, list(self.items))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class _Charges:
    """Amounts summed over the items."""

    shipping: Decimal = Decimal("0")
    shipping_tax: Decimal = Decimal("0")
    shipping_discount: Decimal = Decimal("0")


def to_canonical(order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> CanonicalOrder:
    """The getOrder payload and all its OrderItems (every page) -> the canonical order.

    InvalidRequest("order is invalid", [{"field", "message"}, ...]) lists every problem found.
    """
    problems = _Problems()
    order_id = _required_text(order, "AmazonOrderId", problems)
    currency = _currency(order, items, problems)
    money = _MoneyReader(currency, problems)
    declared = money.read(order.get("OrderTotal"), "OrderTotal")
    customer = _customer(order, problems)
    address = _address(order.get("ShippingAddress"), problems)
    lines, sources, charges = _lines(items, money, problems)
    taxes_included = _taxes_included(order, problems)
    problems.raise_if_any("order is invalid")
    try:
        return CanonicalOrder.model_validate(
            {
                "channelOrderId": order_id,
                "orderNumber": order_id,  # the AmazonOrderId is what the buyer sees too
                "currency": currency,
                "taxesIncluded": taxes_included,
                "customer": customer,
                "shippingAddress": address,
                "lines": lines,
                "shippingPrice": charges.shipping,
                "shippingTax": charges.shipping_tax,
                "orderDiscount": charges.shipping_discount,
                "declaredTotal": declared if order.get("OrderTotal") is not None else None,
            }
        )
    except ValidationError as invalid:
        problems.add_validation(invalid, lambda loc: _order_field(loc, sources))
        raise InvalidRequest("order is invalid", problems.items) from invalid


def _taxes_included(order: Mapping[str, Any], problems: _Problems) -> bool:
    marketplace = _required_text(order, "MarketplaceId", problems)
    return marketplace not in TAX_EXCLUSIVE_MARKETPLACES


def _currency(order: Mapping[str, Any], items: Sequence[Any], problems: _Problems) -> str | None:
    candidates: list[tuple[str, Any]] = [("OrderTotal", order.get("OrderTotal"))]
    if isinstance(items, Sequence):
        candidates += [(f"OrderItems.{i}.ItemPrice", _get(item, "ItemPrice")) for i, item in enumerate(items)]
    for path, money in candidates:
        code = money.get("CurrencyCode") if isinstance(money, Mapping) else None
        if code is None:
            continue
        if not isinstance(code, str) or code not in ISO_4217:
            problems.add(f"{path}.CurrencyCode", f"{code!r} is not an ISO 4217 currency code")
            return None
        return code
    problems.add("OrderTotal.CurrencyCode", "missing: neither OrderTotal nor any ItemPrice has a currency")
    return None


@dataclass
class _MoneyReader:
    """Reads SP-API Money objects ({"CurrencyCode": "USD", "Amount": "10.00"}) in one currency."""

    currency: str | None
    problems: _Problems

    def read(self, value: Any, path: str, *, required: bool = False, discount: bool = False) -> Decimal:
        """The amount (0 when absent or invalid; the problem is recorded)."""
        if value is None:
            if required:
                self.problems.add(path, "missing")
            return Decimal("0")
        if not isinstance(value, Mapping):
            self.problems.add(path, "must be a Money object {CurrencyCode, Amount}")
            return Decimal("0")
        code = value.get("CurrencyCode")
        if self.currency is not None and code != self.currency:
            found = "missing" if code is None else f"is {code!r}"
            self.problems.add(f"{path}.CurrencyCode", f"{found}; the order's currency is {self.currency}")
        amount = _amount(value.get("Amount"), discount)
        if isinstance(amount, str):
            self.problems.add(f"{path}.Amount", amount)
            return Decimal("0")
        if self.currency is not None and finer_than(amount, self.currency):
            self.problems.add(f"{path}.Amount", too_fine_for(self.currency))
        return amount

    @property
    def step(self) -> Decimal:
        """The currency's smallest unit, in which line prices are split."""
        return smallest_unit(self.currency) if self.currency else Decimal("0.01")


def _amount(value: Any, discount: bool) -> Decimal | str:
    """A decimal amount, or what is wrong with it."""
    if not isinstance(value, str):
        return "must be a decimal string such as '12.50'"
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return "must be a decimal string such as '12.50'"
    if not amount.is_finite():
        return "must be a finite amount"
    if amount < 0:
        if not discount:
            return "must not be negative"
        amount = -amount
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        return f"has more than {MAX_DECIMAL_PLACES} decimal places"
    return amount


_CUSTOMER_FIELDS: Final = {"email": "BuyerEmail", "name": "BuyerName"}


def _customer(order: Mapping[str, Any], problems: _Problems) -> dict[str, Any] | None:
    buyer = order.get("BuyerInfo")
    if not isinstance(buyer, Mapping):
        problems.add("BuyerInfo", f"missing ({RESTRICTED})" if buyer is None else "must be an object")
        return None
    email = _optional_text(buyer, "BuyerEmail")
    name = _optional_text(buyer, "BuyerName") or _optional_text(order.get("ShippingAddress"), "Name")
    if email is None:
        problems.add("BuyerInfo.BuyerEmail", f"missing ({RESTRICTED})")
    if name is None:
        problems.add("BuyerInfo.BuyerName", "missing, and so is ShippingAddress.Name")
    if email is None or name is None:
        return None
    customer = {"email": email, "name": name}
    try:
        Customer.model_validate(customer)
    except ValidationError as invalid:
        problems.add_validation(invalid, _fields_in("BuyerInfo", _CUSTOMER_FIELDS))
        return None
    return customer


_ADDRESS_FIELDS: Final = {
    "name": "Name",
    "line1": "AddressLine1",
    "line2": "AddressLine2",
    "city": "City",
    "region": "StateOrRegion",
    "postalCode": "PostalCode",
    "country": "CountryCode",
}


def _address(value: Any, problems: _Problems) -> dict[str, Any] | None:
    if value is None:
        problems.add("ShippingAddress", f"missing ({RESTRICTED}; sandbox responses have none)")
        return None
    if not isinstance(value, Mapping):
        problems.add("ShippingAddress", "must be an object")
        return None
    lines = [
        text
        for key in ("AddressLine1", "AddressLine2", "AddressLine3")
        if (text := _optional_text(value, key))
    ]
    address = {
        "name": _optional_text(value, "Name"),
        "line1": lines[0] if lines else None,
        "line2": ", ".join(lines[1:]) or None,
        "city": _optional_text(value, "City"),
        "region": _optional_text(value, "StateOrRegion"),
        "postalCode": _optional_text(value, "PostalCode"),
        "country": _optional_text(value, "CountryCode"),
    }
    for key, why in (("name", RESTRICTED), ("line1", RESTRICTED), ("city", ""), ("country", "")):
        if address[key] is None:
            problems.add(f"ShippingAddress.{_ADDRESS_FIELDS[key]}", f"missing ({why})" if why else "missing")
    try:
        Address.model_validate(address)
    except ValidationError as invalid:
        problems.add_validation(invalid, _fields_in("ShippingAddress", _ADDRESS_FIELDS))
        return None
    return address


def _fields_in(prefix: str, names: Mapping[str, str]) -> Callable[[tuple[Any, ...]], str]:
    """Maps a canonical sub-model's error location to the SP-API field under `prefix`."""
    return lambda loc: f"{prefix}.{names.get(str(loc[0]), str(loc[0]))}" if loc else prefix


_LINE_FIELDS: Final = {
    "channelLineId": "OrderItemId",
    "sku": "SellerSKU",
    "title": "Title",
    "quantity": "QuantityOrdered",
    "unitPrice": "ItemPrice",
    "discountAmount": "PromotionDiscount",
    "taxAmount": "ItemTax",
}


def _lines(
    items: Any, money: _MoneyReader, problems: _Problems
) -> tuple[list[dict[str, Any]], list[int], _Charges]:
    """The canonical lines, the index of the item each line comes from, and the shipping charges."""
    charges = _Charges()
    lines: list[dict[str, Any]] = []
    sources: list[int] = []
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        problems.add("OrderItems", "the order has no items")
        return lines, sources, charges
    for index, item in enumerate(items):
        path = f"OrderItems.{index}"
        if not isinstance(item, Mapping):
            problems.add(path, "must be an object")
            continue
        _add_charges(item, path, money, charges)
        item_lines = _item_lines(item, path, money)
        for line in item_lines:
            try:
                OrderLine.model_validate(line)
            except ValidationError as invalid:
                problems.add_validation(invalid, _fields_in(path, _LINE_FIELDS))
        lines += item_lines
        sources += [index] * len(item_lines)
    return lines, sources, charges


def _add_charges(item: Mapping[str, Any], path: str, money: _MoneyReader, charges: _Charges) -> None:
    charges.shipping += money.read(item.get("ShippingPrice"), f"{path}.ShippingPrice")
    tax = money.read(item.get("ShippingTax"), f"{path}.ShippingTax")
    tax_off = money.read(item.get("ShippingDiscountTax"), f"{path}.ShippingDiscountTax", discount=True)
    if tax_off > tax and not money.problems.covers(f"{path}.ShippingTax"):
        money.problems.add(f"{path}.ShippingDiscountTax", "exceeds ShippingTax")
    charges.shipping_tax += tax - tax_off
    charges.shipping_discount += money.read(
        item.get("ShippingDiscount"), f"{path}.ShippingDiscount", discount=True
    )


def _item_lines(item: Mapping[str, Any], path: str, money: _MoneyReader) -> list[dict[str, Any]]:
    """One item -> one canonical line, or two when ItemPrice / QuantityOrdered is not exact."""
    problems = money.problems
    sku = _required_text(item, "SellerSKU", problems, prefix=path)
    quantity = item.get("QuantityOrdered")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        problems.add(f"{path}.QuantityOrdered", "must be an integer")
        quantity = None
    elif quantity < 1:
        problems.add(f"{path}.QuantityOrdered", f"is {quantity}; must be at least 1 (0 is a cancelled item)")
        quantity = None
    price = money.read(item.get("ItemPrice"), f"{path}.ItemPrice", required=True)
    tax = money.read(item.get("ItemTax"), f"{path}.ItemTax")
    tax_off = money.read(item.get("PromotionDiscountTax"), f"{path}.PromotionDiscountTax", discount=True)
    if tax_off > tax and not problems.covers(f"{path}.ItemTax"):
        problems.add(f"{path}.PromotionDiscountTax", "exceeds ItemTax")
    discount = money.read(item.get("PromotionDiscount"), f"{path}.PromotionDiscount", discount=True)
    if sku is None or quantity is None or problems.covers(path):
        return []
    title = _optional_text(item, "Title")
    base = {
        "channelLineId": _optional_text(item, "OrderItemId"),
        "sku": sku,
        "title": html.unescape(title)[:TITLE_MAX].strip() if title else None,
    }
    return [
        {
            **base,
            "quantity": units,
            "unitPrice": unit,
            "discountAmount": share_discount,
            "taxAmount": share_tax,
        }
        for units, unit, share_discount, share_tax in split_line_price(
            price, quantity, discount, tax - tax_off, money.step
        )
    ]


_ORDER_FIELDS: Final = {
    "channelOrderId": "AmazonOrderId",
    "currency": "OrderTotal.CurrencyCode",
    "taxesIncluded": "MarketplaceId",
    "customer": "BuyerInfo",
    "shippingAddress": "ShippingAddress",
    "lines": "OrderItems",
    "shippingPrice": "OrderItems.ShippingPrice",
    "shippingTax": "OrderItems.ShippingTax",
    "orderDiscount": "OrderItems.ShippingDiscount",
    "declaredTotal": "OrderTotal.Amount",
}


def _order_field(loc: tuple[Any, ...], sources: list[int]) -> str:
    """A canonical order's error location -> the SP-API field it comes from."""
    head = str(loc[0]) if loc else ""
    if head == "lines" and len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(sources):
        item = f"OrderItems.{sources[loc[1]]}"
        return f"{item}.{_LINE_FIELDS[str(loc[2])]}" if len(loc) > 2 and str(loc[2]) in _LINE_FIELDS else item
    return _ORDER_FIELDS.get(head, head or "body")


# --- reading fields ---------------------------------------------------------------------------------


def _get(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _optional_text(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, Mapping) else None
    return (value.strip() or None) if isinstance(value, str) else None


def _required_text(data: Any, path: str, problems: _Problems, prefix: str = "") -> str | None:
    value = _get(data, path)
    where = f"{prefix}.{path}" if prefix else path
    if value is None:
        problems.add(where, "missing")
    elif not isinstance(value, str) or not value.strip():
        problems.add(where, "must be a non-empty string")
    else:
        return value.strip()
    return None
