"""POST /webhooks/{channelId}: orders from sales channels (signature-authenticated, no API key)."""

from __future__ import annotations

import base64
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import api_handler, create_resolver
from shared.logic import intake
from shared.models.catalog import Identifier
from shared.models.order import WebhookReceipt

router = APIGatewayRouter()


def _raw_body() -> bytes:
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@router.post(
    "/webhooks/<channelId>",
    summary="Receive an order from a sales channel",
    description=(
        "For channels of type `api` the body is the canonical order, signed per the Standard Webhooks "
        "spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`). 202 when the order is new, "
        "200 with the same orderId when the delivery or the channel order was already received."
    ),
    tags=["Webhooks"],
)
def receive(channelId: Annotated[Identifier, Path()]) -> Response[WebhookReceipt]:
    receipt = intake.receive(
        channelId, dict(router.current_event.headers), _raw_body(), router.lambda_context
    )
    return Response(
        status_code=202 if receipt.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=WebhookReceipt(orderId=receipt.orderId, status=receipt.status),
    )


app = create_resolver(router)
lambda_handler = api_handler(app)
