"""GET /health and GET /openapi.json (the whole API, assembled from every API function's router)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.channels_api.handler import router as channels
from functions.fulfillment_events.handler import router as fulfillment
from functions.intake.handler import router as intake
from functions.inventory_api.handler import router as inventory
from functions.orders_api.handler import router as orders
from shared.api import (
    API_KEY_REQUIRED,
    API_TITLE,
    API_VERSION,
    SECURITY_SCHEMES,
    api_handler,
    create_resolver,
)

router = APIGatewayRouter()

API_DESCRIPTION = (
    "Orders from sales channels, from webhook to delivered. Errors are always "
    '`{"error": {"code", "message", "details"}}`; client mistakes are 4xx. '
    "Operations marked with the apiKey scheme need the `x-api-key` header; "
    "webhooks are authenticated by their signature instead."
)


@router.get("/health", summary="Liveness", tags=["Meta"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@cache
def openapi_document() -> dict[str, Any]:
    whole = create_resolver(router, channels, intake, orders, fulfillment, inventory)
    schema = whole.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
    )
    return json.loads(schema)


@router.get("/openapi.json", summary="This API's OpenAPI document", tags=["Meta"], security=API_KEY_REQUIRED)
def openapi() -> dict[str, Any]:
    return openapi_document()


app = create_resolver(router)
lambda_handler = api_handler(app)


if __name__ == "__main__":  # `make openapi` writes docs/openapi.json
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))
