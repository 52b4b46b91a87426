"""The retailer's webhook subscriptions: PUT/GET/DELETE /subscriptions/{id}, GET /subscriptions, and
each subscription's deliveries with redelivery of its dead letters."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import subscriptions
from shared.errors import NotFound
from shared.logic import webhooks
from shared.models.catalog import Identifier
from shared.models.subscriptions import (
    DeliveryStatus,
    RedeliverIn,
    RedeliverResult,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionView,
    WebhookDeliveryList,
)

router = APIGatewayRouter()

SubscriptionId = Annotated[Identifier, Path(description="The subscription's id, chosen by the retailer")]
TAGS = ["Webhook subscriptions"]


@router.put(
    "/subscriptions/<subscriptionId>",
    summary="Subscribe a URL to OMS events (or change a subscription)",
    description="Each event of the chosen types (docs/events.md) is POSTed to `url` as JSON, signed per "
    "Standard Webhooks (`webhook-id` is the event id: the same on every retry, so drop repeats), retried on "
    "non-2xx answers and timeouts for about 27 hours (8 attempts), then kept as a dead letter for "
    "`POST /subscriptions/{id}/redeliver`. Without `secret`, a new subscription gets a generated one, "
    "returned in this answer only.",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def put_subscription(
    subscriptionId: SubscriptionId, subscription: Annotated[SubscriptionIn, Body()]
) -> Response[SubscriptionView]:
    stored, created, generated = webhooks.put_subscription(subscriptionId, subscription)
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=stored.view(generated),
    )


@router.get(
    "/subscriptions",
    summary="The webhook subscriptions (without secrets)",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def list_subscriptions(limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> SubscriptionList:
    found, next_cursor = subscriptions.list_page(limit, cursor)
    return SubscriptionList(subscriptions=[s.view() for s in found], nextCursor=next_cursor)


@router.get(
    "/subscriptions/<subscriptionId>",
    summary="A webhook subscription (without its secret)",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def get_subscription(subscriptionId: SubscriptionId) -> SubscriptionView:
    return webhooks.require(subscriptionId).view()


@router.delete(
    "/subscriptions/<subscriptionId>",
    summary="Unsubscribe: no further events; deliveries still queued are cancelled",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def delete_subscription(subscriptionId: SubscriptionId) -> Response[None]:
    if not subscriptions.delete(subscriptionId):
        raise NotFound(f"subscription {subscriptionId} does not exist")
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body=None)


@router.get(
    "/subscriptions/<subscriptionId>/deliveries",
    summary="The subscription's deliveries, newest event first, with every attempt and its result",
    description="`status=FAILED` lists the dead letters. Finished deliveries are kept 30 days.",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def list_deliveries(
    subscriptionId: SubscriptionId,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this status")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> WebhookDeliveryList:
    webhooks.require(subscriptionId)
    found, next_cursor = subscriptions.deliveries_page(subscriptionId, limit, cursor, status)
    return WebhookDeliveryList(deliveries=[d.view() for d in found], nextCursor=next_cursor)


@router.post(
    "/subscriptions/<subscriptionId>/redeliver",
    summary="Deliver again: the deliveries named, or every dead letter",
    description="Each is attempted again from the start of the retry schedule, with the same `webhook-id`. "
    "Without `deliveryIds`, up to 100 dead letters (FAILED) are taken; `more` says whether to call again.",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def redeliver(
    subscriptionId: SubscriptionId, request: Annotated[RedeliverIn | None, Body()] = None
) -> Response[RedeliverResult]:
    result = webhooks.redeliver(subscriptionId, request or RedeliverIn())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result)


app = create_resolver(router)
lambda_handler = api_handler(app)
