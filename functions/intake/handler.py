"""POST /webhooks/{channelId}: orders from sales channels (signature-authenticated, no API key),
and POST /channels/{channelId}/replay: archived deliveries processed again (API key)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED, api_handler, create_resolver, raw_body
from shared.logic import intake, replay
from shared.models.catalog import Identifier
from shared.models.intake import Outcome, ReplayReport, ReplayRequest, WebhookReceipt

router = APIGatewayRouter()


@router.post(
    "/webhooks/<channelId>",
    summary="Receive a delivery from a sales channel",
    description=(
        "The body and its signature are the channel's own: `api` channels send the canonical order "
        "signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); "
        "`shopify` channels sign with `X-Shopify-Hmac-Sha256` (topics orders/create, orders/cancelled); "
        "`woocommerce` channels with `X-WC-Webhook-Signature` (order.created, order.updated). "
        "Bodies are limited to 256 KiB. Every authenticated delivery is archived before it is "
        "interpreted. 202 when it created an order; 200 for anything else it meant (a duplicate, a "
        "cancellation, an acknowledged ping or unpaid order), with the outcome."
    ),
    tags=["Webhooks"],
)
def receive(channelId: Annotated[Identifier, Path()]) -> Response[WebhookReceipt]:
    receipt = intake.receive(
        channelId, dict(router.current_event.headers), raw_body(router), router.lambda_context
    )
    return Response(
        status_code=202 if receipt.outcome is Outcome.CREATED else 200,
        content_type=content_types.APPLICATION_JSON,
        body=receipt,
    )


@router.post(
    "/channels/<channelId>/replay",
    summary="Process archived deliveries again",
    description=(
        "For deliveries that failed (e.g. refused with 400 before a fix). Never creates a duplicate: "
        "an event already applied or a channel order already held answers DUPLICATE."
    ),
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def replay_deliveries(channelId: Annotated[Identifier, Path()], request: ReplayRequest) -> ReplayReport:
    return replay.replay(channelId, request.deliveryIds, router.lambda_context)


app = create_resolver(router)
lambda_handler = api_handler(app)
