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
from shared.errors import InvalidRequest
from shared.logic import cancellation, order_detail, order_search, tracking_links, workflow_view
from shared.logic.order_search import OrderFilter
from shared.models.order import OrderList, OrderStatus, OrderView
from shared.models.returns import OrderDetail
from shared.models.tracking_view import TrackingLink, TrackingLinkIn
from shared.models.workflow_view import WorkflowView
from shared.observability import correlate_with_order

router = APIGatewayRouter()

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


# A day (2026-12-01) or a UTC time (2026-12-01T09:30:00Z, seconds and milliseconds optional).
CREATED_AT_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z)?$"
# An address as orders keep it (shared.models.order.Email), blanks around it allowed.
EMAIL_QUERY_PATTERN = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"
CreatedAt = Annotated[str | None, Query(pattern=CREATED_AT_PATTERN, max_length=32)]


@router.get(
    "/orders",
    summary="Orders, newest first",
    description="Filtered by `status`, `channelId` and creation time (`createdFrom` inclusive, "
    "`createdBefore` exclusive: a day `2026-12-01` or a UTC time `2026-12-01T09:30:00Z`), paginated; or "
    "every order whose number or channel order id is `orderNumber` (as the tracking page compares "
    "them: without '#', any case), in one page, the other filters applied to them; or the newest 100 "
    "orders of the customer whose e-mail is `email` (any case), in one page, the other filters applied.",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def list_orders(
    *,
    status: Annotated[OrderStatus | None, Query()] = None,
    channelId: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    createdFrom: CreatedAt = None,
    createdBefore: CreatedAt = None,
    orderNumber: Annotated[str | None, Query(min_length=1, max_length=256, pattern=r"[^#\s]")] = None,
    email: Annotated[str | None, Query(max_length=254, pattern=EMAIL_QUERY_PATTERN)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> OrderList:
    wanted = OrderFilter(status, channelId, createdFrom, createdBefore, orderNumber, email)
    return order_search.search(wanted, limit, cursor)


@router.get(
    "/orders/<orderId>",
    summary="An order with its fulfillments, returns, refunds and timeline",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def get_order(orderId: OrderId) -> OrderDetail:
    correlate_with_order(orderId)
    return order_detail.detail(orderId)


@router.get(
    "/orders/<orderId>/workflow",
    summary="The order's workflow: the state machine and the path its execution took",
    description="The state machine's definition (ASL), the execution's status, and every state it entered "
    "in order, with times, which states wait for a task token and where a failure happened, from the "
    "execution's history. `execution` is null and `path` empty when no execution was started "
    "(an order rejected at intake). 404 for an unknown order.",
    tags=["Orders"],
    security=API_KEY_REQUIRED,
)
def get_workflow(orderId: OrderId) -> WorkflowView:
    correlate_with_order(orderId)
    return workflow_view.view(orderId)


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
