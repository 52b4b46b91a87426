"""PUT/GET /channels/{channelId}: register a sales channel; GET its archived deliveries.
PUT/GET /tracking-providers/{providerId}: the same for carrier tracking providers.
PUT/GET /channels/{channelId}/notifications: the channel's customer e-mails (`notifications.py`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.channels_api import notifications
from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import channels, deliveries, tracking_providers
from shared.errors import NotFound
from shared.models.catalog import ChannelList, ChannelSettings, ChannelView, Identifier
from shared.models.intake import DeliveryList, DeliveryView
from shared.models.tracking import (
    TrackingProvider,
    TrackingProviderIn,
    TrackingProviderList,
    TrackingProviderView,
    archive_key,
)

router = APIGatewayRouter()

ChannelId = Annotated[Identifier, Path(description="The channel's id, chosen by the retailer")]


@router.put(
    "/channels/<channelId>",
    summary="Register or update a sales channel",
    description="A channel keeps the type it was registered with: another type is 409, naming it.",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def put_channel(
    channelId: ChannelId, channel: Annotated[ChannelSettings, Body(discriminator="type")]
) -> Response[ChannelView]:
    stored, created = channels.put(channelId, channel)
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=stored.public_view(),
    )


@router.get(
    "/channels",
    summary="The registered channels (without their secrets)",
    description="In no particular order; every page but the last is full, and `nextCursor` is null "
    "on the last.",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def list_channels(limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> ChannelList:
    found, next_cursor = channels.list_page(limit, cursor)
    return ChannelList(channels=[channel.public_view() for channel in found], nextCursor=next_cursor)


@router.get(
    "/channels/<channelId>",
    summary="A registered channel (without its secret)",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def get_channel(channelId: ChannelId) -> ChannelView:
    channel = channels.get(channelId)
    if channel is None:
        raise NotFound(f"channel {channelId} is not registered")
    return channel.public_view()


@router.get(
    "/channels/<channelId>/deliveries",
    summary="The channel's archived deliveries, newest first, with what became of each",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def list_deliveries(
    channelId: ChannelId,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> DeliveryList:
    _require(channelId)
    return deliveries.list_for_channel(channelId, limit, cursor)


@router.get(
    "/channels/<channelId>/deliveries/<deliveryId>",
    summary="One archived delivery: its headers and exact body",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def get_delivery(
    channelId: ChannelId, deliveryId: Annotated[str, Path(min_length=1, max_length=64)]
) -> DeliveryView:
    delivery = deliveries.get(deliveryId)
    if delivery is None or delivery.channelId != channelId:
        raise NotFound(f"delivery {deliveryId} of channel {channelId} does not exist")
    return delivery.view()


def _require(channel_id: str) -> None:
    if channels.get(channel_id) is None:
        raise NotFound(f"channel {channel_id} is not registered")


ProviderId = Annotated[Identifier, Path(description="The tracking provider's id, chosen by the retailer")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=64)]


@router.put(
    "/tracking-providers/<providerId>",
    summary="Register or update a carrier tracking provider (EasyPost or AfterShip)",
    description="Point the provider's webhook at `POST /tracking/{providerId}/webhooks` with the same "
    "secret. A provider keeps its type (another is 409); a new secret leaves the old one valid for 24 hours.",
    tags=["Tracking"],
    security=API_KEY_REQUIRED,
)
def put_tracking_provider(
    providerId: ProviderId, provider: TrackingProviderIn
) -> Response[TrackingProviderView]:
    stored, created = tracking_providers.put(providerId, provider)
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=_provider_view(stored),
    )


@router.get(
    "/tracking-providers",
    summary="The registered tracking providers (without their secrets)",
    tags=["Tracking"],
    security=API_KEY_REQUIRED,
)
def list_tracking_providers(
    limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None
) -> TrackingProviderList:
    found, next_cursor = tracking_providers.list_page(limit, cursor)
    return TrackingProviderList(providers=[_provider_view(p) for p in found], nextCursor=next_cursor)


@router.get(
    "/tracking-providers/<providerId>",
    summary="A registered tracking provider (without its secret)",
    tags=["Tracking"],
    security=API_KEY_REQUIRED,
)
def get_tracking_provider(providerId: ProviderId) -> TrackingProviderView:
    return _provider_view(_require_provider(providerId))


@router.get(
    "/tracking-providers/<providerId>/deliveries",
    summary="The provider's archived deliveries, newest first, with what became of each",
    tags=["Tracking"],
    security=API_KEY_REQUIRED,
)
def list_provider_deliveries(
    providerId: ProviderId, limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None
) -> DeliveryList:
    _require_provider(providerId)
    return deliveries.list_for_channel(archive_key(providerId), limit, cursor)


@router.get(
    "/tracking-providers/<providerId>/deliveries/<deliveryId>",
    summary="One archived delivery of the provider: its headers and exact body",
    tags=["Tracking"],
    security=API_KEY_REQUIRED,
)
def get_provider_delivery(providerId: ProviderId, deliveryId: DeliveryId) -> DeliveryView:
    delivery = deliveries.get(deliveryId)
    if delivery is None or delivery.channelId != archive_key(providerId):
        raise NotFound(f"delivery {deliveryId} of tracking provider {providerId} does not exist")
    return delivery.view()


def _require_provider(provider_id: str) -> TrackingProvider:
    provider = tracking_providers.get(provider_id)
    if provider is None:
        raise NotFound(f"tracking provider {provider_id} is not registered")
    return provider


def _provider_view(provider: TrackingProvider) -> TrackingProviderView:
    view = provider.public_view()
    return view.model_copy(update={"webhookUrl": f"/tracking/{provider.providerId}/webhooks"})


app = create_resolver(router, notifications.router)
lambda_handler = api_handler(app)
