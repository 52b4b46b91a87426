"""GET /health, GET /openapi.json (the whole API, assembled from every API function's router) and
GET /swagger, the Swagger UI page that shows it."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_SCHEME,
    API_TITLE,
    API_VERSION,
    STAFF_TOKEN_SCHEME,
    ErrorEnvelope,
    api_handler,
    create_resolver,
)
from shared.swagger_ui import DOCUMENT_PATH, PAGE_PATH, swagger_page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme

router = APIGatewayRouter()


def security_schemes() -> dict[str, SecurityScheme]:
    """How the document describes `shared.api.API_KEY_REQUIRED`. Here, not in shared/api.py, and
    imported when the document is first asked for: the OpenAPI models take long to import (most of
    this function's cold start), and only the document needs them."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer  # noqa: PLC0415

    return {
        API_KEY_SCHEME: APIKey(name="x-api-key", in_=APIKeyIn.header),
        STAFF_TOKEN_SCHEME: HTTPBearer(
            bearerFormat="JWT",
            description="An access token of the staff user pool (Amazon Cognito; locally the runtime's pool "
            "on moto's Cognito), as the console signs in.",
        ),
    }


API_DESCRIPTION = (
    "Orders from sales channels, from webhook to delivered. Errors are always "
    '`{"error": {"code", "message", "details"}}`; client mistakes are 4xx. '
    "Operations marked with the apiKey scheme need the `x-api-key` header, or a staff member's access "
    "token as `Authorization: Bearer` (staffToken: the stack's Cognito user pool); "
    "webhooks are authenticated by their signature instead. "
    f"This document and its Swagger UI page ({PAGE_PATH}) are public, as are the customer tracking "
    "page (/track) and its lookup."
)


@router.get("/health", summary="Liveness", tags=["Meta"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@cache
def openapi_document() -> dict[str, Any]:
    # Imported here, not at module level: /health must not pay for every API module at cold start.
    from functions.analytics_api.handler import router as analytics  # noqa: PLC0415
    from functions.channels_api.handler import router as channels  # noqa: PLC0415
    from functions.channels_api.notifications import router as channel_notifications  # noqa: PLC0415
    from functions.fulfillment_events.handler import router as fulfillment  # noqa: PLC0415
    from functions.intake.handler import router as intake  # noqa: PLC0415
    from functions.inventory_api.handler import router as inventory  # noqa: PLC0415
    from functions.orders_api.handler import router as orders  # noqa: PLC0415
    from functions.returns_api.handler import router as returns  # noqa: PLC0415
    from functions.sourcing_api.handler import router as sourcing  # noqa: PLC0415
    from functions.subscriptions_api.handler import router as subscriptions  # noqa: PLC0415
    from functions.tracking_page.handler import router as tracking_page  # noqa: PLC0415
    from functions.tracking_webhooks.handler import router as tracking_webhooks  # noqa: PLC0415

    whole = create_resolver(
        router,
        channels,
        channel_notifications,
        intake,
        orders,
        fulfillment,
        inventory,
        sourcing,
        returns,
        tracking_webhooks,
        tracking_page,
        subscriptions,
        analytics,
    )
    schema = whole.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes=security_schemes(),
    )
    return with_documented_outcomes(json.loads(schema))


# Success statuses other than 200, which Powertools cannot infer from a handler's return type.
OTHER_SUCCESSES = {
    ("put", "/channels/{channelId}"): {"201": "The channel was registered (200: updated)."},
    ("put", "/warehouses/{warehouseId}"): {"201": "The warehouse was created (200: updated)."},
    ("put", "/tracking-providers/{providerId}"): {"201": "The provider was registered (200: updated)."},
    ("post", "/inventory/{sku}/locations/{warehouseId}/adjustments"): {
        "201": "Applied (200 with `Idempotent-Replayed: true`: applied before with this key)."
    },
    ("post", "/orders/{orderId}/returns"): {
        "201": "Authorized (200 with `Idempotent-Replayed: true`: authorized before with this key)."
    },
    ("put", "/subscriptions/{subscriptionId}"): {
        "201": "Subscribed; a generated `secret` is in this answer only (200: updated)."
    },
    ("post", "/subscriptions/{subscriptionId}/redeliver"): {"202": "Queued for delivery (see each outcome)."},
    ("delete", "/subscriptions/{subscriptionId}"): {"204": "Unsubscribed."},
    ("post", "/webhooks/{channelId}"): {
        "202": "The order is new; its workflow has started (200: already received, same orderId)."
    },
}
WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def with_documented_outcomes(document: dict[str, Any]) -> dict[str, Any]:
    """Declare what the API really answers: the error envelope on 4XX/5XX instead of Powertools'
    default 422 (this API answers validation errors with 400), the other success statuses, and the
    webhook's signed body, which its handler reads raw so that the signature is checked first."""
    schemas = document["components"]["schemas"]
    schemas["ErrorEnvelope"] = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs"))
    del schemas["ErrorEnvelope"]["$defs"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.pop("422", None)
            for status, description in OTHER_SUCCESSES.get((method, path), {}).items():
                if status == "204":  # no content: it replaces the 200 Powertools infers
                    responses.pop("200", None)
                    responses[status] = {"description": description}
                    continue
                responses[status] = {**responses["200"], "description": description}
            responses["4XX"] = {
                "description": "The request cannot be served as sent; see error.code",
                **error,
            }
            responses["5XX"] = {
                "description": "The OMS failed, or is busy (503: retry); nothing was half-written",
                **error,
            }
    _document_webhook(document["paths"]["/webhooks/{channelId}"]["post"], schemas)
    return document


def _document_webhook(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    from shared.models.order import CanonicalOrder  # noqa: PLC0415 - as the routers: for the document only

    order_schema = CanonicalOrder.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(order_schema.pop("$defs", {}))
    schemas["CanonicalOrder"] = order_schema
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CanonicalOrder"}}},
    }
    operation["parameters"] += [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
        for name in WEBHOOK_HEADERS
    ]


@router.get(DOCUMENT_PATH, summary="This API's OpenAPI document", tags=["Meta"])
def openapi() -> dict[str, Any]:
    return openapi_document()


@router.get(
    PAGE_PATH,
    summary="Swagger UI for this API's OpenAPI document",
    description="A page for a browser, which it opens without an API key; "
    "trying an operation out needs one (Authorize).",
    tags=["Meta"],
    responses={200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def swagger() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_page(API_TITLE))


app = create_resolver(router)
lambda_handler = api_handler(app)


if __name__ == "__main__":  # `make openapi` writes docs/openapi.json
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))
