"""PUT/GET /channels/{channelId}: register a sales channel and its webhook secret."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED, api_handler, create_resolver
from shared.dal import channels
from shared.errors import NotFound
from shared.models.catalog import ChannelIn, ChannelView, Identifier

router = APIGatewayRouter()

ChannelId = Annotated[Identifier, Path(description="The channel's id, chosen by the retailer")]


@router.put(
    "/channels/<channelId>",
    summary="Register or update a sales channel",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def put_channel(channelId: ChannelId, channel: ChannelIn) -> Response[ChannelView]:
    stored, created = channels.put(channelId, channel)
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=stored.public_view(),
    )


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


app = create_resolver(router)
lambda_handler = api_handler(app)
