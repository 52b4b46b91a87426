"""Order queries and cancellation."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import orders
from shared.logic import cancellation, order_detail
from shared.models.order import OrderList, OrderStatus, OrderView
from shared.models.returns import OrderDetail
from shared.observability import correlate_with_order

router = APIGatewayRouter()

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/orders", summary="Orders, newest first", tags=["Orders"], security=API_KEY_REQUIRED)
def list_orders(
    status: Annotated[OrderStatus | None, Query()] = None,
    channelId: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> OrderList:
    page = orders.list_orders(status, channelId, limit, cursor)
    return OrderList(orders=page.orders, nextCursor=page.cursor)


@router.get(
    "/orders/<orderId>",
    summary="An order with its fulfillments, returns, refunds and timeline",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def get_order(orderId: OrderId) -> OrderDetail:
    correlate_with_order(orderId)
    return order_detail.detail(orderId)


@router.post(
    "/orders/<orderId>/cancel",
    summary="Cancel an order that has not shipped",
    description="Releases reserved stock and ends the order's workflow as CANCELLED. 409 once shipped.",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def cancel_order(orderId: OrderId) -> OrderView:
    correlate_with_order(orderId)
    return cancellation.cancel(orderId)


app = create_resolver(router)
lambda_handler = api_handler(app)
