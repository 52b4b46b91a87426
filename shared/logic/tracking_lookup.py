"""POST /track/lookup: find the order a customer proves with its number and e-mail or postal code, or
with a signed link, and show it as they may see it.

No oracle: an unknown number, a known number with the wrong e-mail or postal code, and a rejected
order all raise the same NotFound (same status, code and message); nothing says which part was wrong.
"""

from __future__ import annotations

from shared.dal import orders
from shared.dal import returns as returns_dal
from shared.errors import NotFound
from shared.logic import tracking_links, tracking_view
from shared.models.order import Order, OrderStatus
from shared.models.tracking_view import (
    TrackingLookupIn,
    TrackingView,
    normalized_email,
    normalized_number,
    postal_codes_match,
)

NO_MATCH = "no order matches this order number with this e-mail address or postal code"
# Orders that may share one number: one per store or channel that numbers its orders alike, a few at
# most; the newest this many are compared.
MOST_NAMESAKES = 50


def not_found() -> NotFound:
    return NotFound(NO_MATCH)


def proves(order: Order, lookup: TrackingLookupIn) -> bool:
    """Whether the lookup's e-mail or postal code is the order's."""
    if order.status is OrderStatus.REJECTED or order.customer is None or order.shippingAddress is None:
        return False
    if lookup.email is not None:
        return normalized_email(lookup.email) == normalized_email(order.customer.email)
    address = order.shippingAddress
    return postal_codes_match(lookup.postalCode, address.postalCode, address.country)


def matching_order(lookup: TrackingLookupIn) -> Order:
    number = normalized_number(lookup.orderNumber)
    if number is None:
        raise not_found()
    for candidate in orders.by_number(number, MOST_NAMESAKES):  # newest first
        if number in orders.lookup_numbers(candidate) and proves(candidate, lookup):
            return candidate
    raise not_found()


def look_up(lookup: TrackingLookupIn) -> TrackingView:
    if lookup.token is not None:
        link = tracking_links.verified(lookup.token)
        return _view(link.order_id, with_prices=True, link_expires_at=tracking_links.iso_of(link.expires_at))
    return _view(matching_order(lookup).orderId, with_prices=False)


def _view(order_id: str, *, with_prices: bool, link_expires_at: str | None = None) -> TrackingView:
    try:
        order = orders.view(order_id)
    except NotFound:
        raise not_found() from None
    if order.status is OrderStatus.REJECTED:
        raise not_found()
    _, found = returns_dal.of_order(order_id)
    return tracking_view.public_view(order, found, with_prices=with_prices, link_expires_at=link_expires_at)
