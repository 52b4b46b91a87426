"""POST /tracking/{providerId}/webhooks: carrier tracking events from EasyPost or AfterShip
(signature-authenticated, no API key)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import api_handler, create_resolver, raw_body
from shared.logic import tracking
from shared.models.catalog import Identifier
from shared.models.tracking import TrackingReceipt

router = APIGatewayRouter()


@router.post(
    "/tracking/<providerId>/webhooks",
    summary="Receive a carrier tracking event from a tracking provider",
    description=(
        "`easypost` providers send `tracker.created`/`tracker.updated` events signed with "
        "`X-Hmac-Signature: hmac-sha256-hex=<hex>`; `aftership` providers send `tracking_update` "
        "webhooks signed with `aftership-hmac-sha256` (base64). Bodies are limited to 256 KiB. Every "
        "authenticated delivery is archived before it is read. The tracker is matched to the shipment by "
        "carrier and tracking number (from the SHIPPED callback); `delivered` delivers the fulfillment, "
        "`return_to_sender` and `failure` flag the order for attention. 200 with the outcome, also for a "
        "duplicate, a stale event or a tracker of no known shipment (kept in the archive)."
    ),
    tags=["Webhooks"],
)
def receive(providerId: Annotated[Identifier, Path()]) -> TrackingReceipt:
    return tracking.receive(
        providerId, dict(router.current_event.headers), raw_body(router), router.lambda_context
    )


app = create_resolver(router)
lambda_handler = api_handler(app)
