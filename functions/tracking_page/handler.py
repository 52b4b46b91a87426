"""GET /track, the customer tracking page, and POST /track/lookup, the lookup it makes: an order number
with the order's e-mail or postal code, or a signed link's token. Both are public (no API key); the
lookup is throttled (the blueprint's Route.throttle)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.tracking_page.page import SECURITY_HEADERS, page, page_headers
from shared.api import api_handler, create_resolver
from shared.logic import tracking_lookup
from shared.models.tracking_view import TrackingLookupIn, TrackingView

router = APIGatewayRouter()


@router.get(
    "/track",
    summary="The customer tracking page",
    description="A page for a browser, which opens it without an API key; `?token=` (a signed link from "
    "POST /orders/{orderId}/tracking-link) opens its order at once.",
    tags=["Tracking"],
    responses={200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def tracking_page(
    token: Annotated[str | None, Query(max_length=256, description="A signed link's token")] = None,
) -> Response[str]:
    del token  # read by the page's script, which sends it to POST /track/lookup
    return Response(
        status_code=200, content_type="text/html; charset=utf-8", body=page(), headers=page_headers()
    )


@router.post(
    "/track/lookup",
    summary="Look an order up as its customer",
    description="With `orderNumber` and the order's `email` or `postalCode`: the order's shipments "
    "(stage, carrier, tracking, checkpoints), open returns, the destination city, no prices. With a "
    "signed link's `token`: the same with prices. 404 for any pair that does not match (the same answer "
    "whichever part is wrong); 401 LINK_INVALID or LINK_EXPIRED for a bad token; 429 when throttled.",
    tags=["Tracking"],
)
def look_up(request: TrackingLookupIn) -> TrackingView:
    return tracking_lookup.look_up(request)


app = create_resolver(router)
_resolve = api_handler(app)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The API entry point, with the page's security headers on every answer, errors included."""
    response = _resolve(event, context)
    if "multiValueHeaders" in response or "headers" not in response:
        response.setdefault("multiValueHeaders", {}).update({k: [v] for k, v in SECURITY_HEADERS.items()})
    else:
        response["headers"].update(SECURITY_HEADERS)
    return response
