"""POST /fulfillments/{fulfillmentId}/events: warehouse and carrier callbacks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED, api_handler, create_resolver
from shared.ids import order_id_of_fulfillment
from shared.logic.fulfillment import FulfillmentEventIn, apply_event
from shared.models.order import Fulfillment
from shared.observability import correlate_with_order

router = APIGatewayRouter()


@router.post(
    "/fulfillments/<fulfillmentId>/events",
    summary="Report picking, packing, shipping or delivery of a fulfillment",
    description="Moves the order's workflow on. Repeating the current status is accepted; "
    "an impossible transition is 409.",
    tags=["Fulfillment"],
    security=API_KEY_REQUIRED,
)
def post_event(
    fulfillmentId: Annotated[str, Path(min_length=1, max_length=80)], event: FulfillmentEventIn
) -> Fulfillment:
    correlate_with_order(order_id_of_fulfillment(fulfillmentId))
    return apply_event(fulfillmentId, event)


app = create_resolver(router)
lambda_handler = api_handler(app)
