"""Order queries and cancellation, and signed links to the customer tracking page."""

from __future__ import annotations

import json
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
from shared.errors import InvalidRequest
from shared.logic import cancellation, order_detail, tracking_links
from shared.models.order import OrderList, OrderStatus, OrderView
from shared.models.returns import OrderDetail
from shared.models.tracking_view import TrackingLink, TrackingLinkIn
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


@router.post(
    "/orders/<orderId>/tracking-link",
    summary="A signed, expiring link to the order on the customer tracking page",
    description="For the retailer to send the customer (notifications use the same signing). The link opens "
    "GET /track with the order shown, prices included; it expires after `expiresInDays` (30 unless "
    "given, at most 90). 404 for an unknown or rejected order.",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def tracking_link(orderId: OrderId, request: TrackingLinkIn | None = None) -> TrackingLink:
    correlate_with_order(orderId)
    _body_is_an_object_or_absent()
    days = (request or TrackingLinkIn()).expiresInDays
    return tracking_links.mint(orderId, days, _page_url())


def _body_is_an_object_or_absent() -> None:
    """An optional body is absent, null or an object: Powertools lets e.g. `[null, null]` through as None."""
    raw = router.current_event.body
    if raw and raw.strip() and not isinstance(json.loads(raw), dict | None):
        message = "the body must be a JSON object, or absent (or null) for the defaults"
        raise InvalidRequest(message, [{"field": "body", "message": message}])


def _page_url() -> str:
    """The tracking page beside the route called: same scheme, host and base path (API Gateway's stage
    or a custom domain's mapping, which `requestContext.path` holds and the resource path does not)."""
    event = router.current_event
    scheme = event.headers.get("X-Forwarded-Proto") or event.headers.get("x-forwarded-proto") or "http"
    host = event.headers.get("Host") or event.headers.get("host") or event.request_context.domain_name
    requested = event.request_context.path or event.path
    base = requested[: -len(event.path)] if requested.endswith(event.path) else ""
    return f"{scheme}://{host or 'localhost'}{base.rstrip('/')}{tracking_links.PAGE_PATH}"


app = create_resolver(router)
lambda_handler = api_handler(app)
