"""Returns: authorization under the channel's policy, the warehouse's receipt, and queries."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import returns as returns_dal
from shared.ids import order_id_of_return
from shared.logic import returns
from shared.models.inventory import IDEMPOTENCY_KEY_PATTERN
from shared.models.returns import (
    Return,
    ReturnAuthorization,
    ReturnEventIn,
    ReturnIn,
    ReturnList,
    ReturnStatus,
)
from shared.observability import correlate_with_order

router = APIGatewayRouter()

OrderId = Annotated[str, Path(min_length=1, max_length=64)]
ReturnId = Annotated[str, Path(min_length=1, max_length=80)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Your unique id for this return request (e.g. a UUID): a retry with the same key "
        "authorizes once and gets the first answer; the same key with another body is 409",
    ),
]


@router.post(
    "/orders/<orderId>/returns",
    summary="Authorize a return under the channel's return policy",
    description="Per SKU, within what was delivered less what earlier returns hold, inside the window "
    "counted from each delivery. 201 with the return, its deadline and the refund expected if "
    "everything comes back resellable; 200 with `Idempotent-Replayed: true` for a repeat; 422 naming "
    "each policy reason (OUTSIDE_WINDOW, NON_RETURNABLE, MORE_THAN_DELIVERED, NOT_DELIVERED, "
    "NOT_ON_ORDER, ORDER_CANCELLED).",
    tags=["Returns"],
    security=API_KEY_REQUIRED,
)
def authorize_return(
    orderId: OrderId, request: ReturnIn, idempotency_key: IdempotencyKey
) -> Response[ReturnAuthorization]:
    correlate_with_order(orderId)
    answer, created = returns.authorize_once(orderId, idempotency_key, request, router.lambda_context)
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=answer,
        headers={} if created else {"Idempotent-Replayed": "true"},
    )


@router.get("/returns", summary="Returns, newest first", tags=["Returns"], security=API_KEY_REQUIRED)
def list_returns(
    status: Annotated[ReturnStatus | None, Query()] = None,
    channelId: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ReturnList:
    found, next_cursor = returns.list_returns(status, channelId, limit, cursor)
    return ReturnList(returns=found, nextCursor=next_cursor)


@router.get(
    "/returns/<returnId>",
    summary="A return: lines, receipt, refund, exchange and timeline",
    tags=["Returns"],
    security=API_KEY_REQUIRED,
)
def get_return(returnId: ReturnId) -> Return:
    correlate_with_order(order_id_of_return(returnId))
    return returns_dal.require(returnId)


@router.post(
    "/returns/<returnId>/events",
    summary="The receiving warehouse reports what came back",
    description="RECEIVED, once per return (a second is 409): per SKU the units and their condition. "
    "Resellable units go back on hand at the warehouse; damaged ones are recorded; the refund (or the "
    "exchange) follows for what came back.",
    tags=["Returns"],
    security=API_KEY_REQUIRED,
)
def post_return_event(returnId: ReturnId, event: ReturnEventIn) -> Return:
    correlate_with_order(order_id_of_return(returnId))
    return returns.receive(returnId, event)


app = create_resolver(router)
lambda_handler = api_handler(app)
