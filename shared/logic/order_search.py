"""The order list's filters: by status, channel and creation time (a keys-only index, newest first,
paginated), or by the number a customer or channel knows the order by (the `byNumber` index), or by
the customer's e-mail (the `byEmail` index)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.dal import orders
from shared.errors import InvalidRequest
from shared.models.order import Order, OrderList, OrderStatus
from shared.models.tracking_view import normalized_email, normalized_number

# One number is shared by a few orders at most (channels reuse numbers across stores): one page.
MAX_NUMBER_MATCHES = 100
# A customer's newest orders, in one page: whoever needs more narrows by date.
MAX_EMAIL_MATCHES = 100


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    channel_id: str | None = None
    created_from: str | None = None
    created_before: str | None = None
    order_number: str | None = None
    email: str | None = None

    def keeps(self, order: Order) -> bool:
        created = order.createdAt
        return (
            (self.status is None or order.status is self.status)
            and (self.email is None or _email_of(order) == normalized_email(self.email))
            and (self.channel_id is None or order.channelId == self.channel_id)
            and (self.created_from is None or created >= self.created_from)
            and (self.created_before is None or created < self.created_before)
        )


def search(wanted: OrderFilter, limit: int, cursor: str | None) -> OrderList:
    if wanted.created_from and wanted.created_before and wanted.created_from >= wanted.created_before:
        message = "createdFrom must be before createdBefore"
        raise InvalidRequest(message, [{"field": "createdBefore", "message": message}])
    if wanted.order_number is not None:
        return _by_number(wanted, limit, cursor)
    if wanted.email is not None:
        return _by_email(wanted, wanted.email, limit, cursor)
    page = orders.list_orders(
        wanted.status,
        wanted.channel_id,
        limit,
        cursor,
        created_from=wanted.created_from,
        created_before=wanted.created_before,
    )
    return OrderList(orders=page.orders, nextCursor=page.cursor)


def _by_number(wanted: OrderFilter, limit: int, cursor: str | None) -> OrderList:
    """Every order whose number or channel order id is `order_number` (as the tracking lookup compares
    them: without '#', case-folded), newest first, in one page."""
    if cursor:
        message = "a search by orderNumber is one page: it takes no cursor"
        raise InvalidRequest(message, [{"field": "cursor", "message": message}])
    number = normalized_number(wanted.order_number)
    if number is None:
        message = "orderNumber must not be blank"
        raise InvalidRequest(message, [{"field": "orderNumber", "message": message}])
    found = [order for order in orders.by_number(number, MAX_NUMBER_MATCHES) if wanted.keeps(order)]
    return OrderList(orders=found[:limit], nextCursor=None)


def _by_email(wanted: OrderFilter, email: str, limit: int, cursor: str | None) -> OrderList:
    """The customer's newest orders (at most MAX_EMAIL_MATCHES) with that e-mail, any case, in one page."""
    if cursor:
        message = "a search by email is one page: it takes no cursor"
        raise InvalidRequest(message, [{"field": "cursor", "message": message}])
    found = [order for order in orders.by_email(email, MAX_EMAIL_MATCHES) if wanted.keeps(order)]
    return OrderList(orders=found[:limit], nextCursor=None)


def _email_of(order: Order) -> str | None:
    return normalized_email(order.customer.email) if order.customer is not None else None
