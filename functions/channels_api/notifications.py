"""PUT/GET /channels/{channelId}/notifications: the channel's customer e-mails (on or off, the sender)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED
from shared.dal import channels, email, notification_settings
from shared.errors import Conflict, NotFound
from shared.models.catalog import Identifier
from shared.models.notifications import NotificationSettings, NotificationSettingsIn

router = APIGatewayRouter()

ChannelId = Annotated[Identifier, Path(description="The channel's id, chosen by the retailer")]


class SenderNotVerified(Conflict):
    code = "SENDER_NOT_VERIFIED"


@router.put(
    "/channels/<channelId>/notifications",
    summary="Turn the channel's customer e-mails on or off, and set their sender",
    description="The sender (the address, or its domain) must be verified in Amazon SES first: an "
    "unverified one is 409 `SENDER_NOT_VERIFIED`. The channel's customers are then e-mailed when their "
    "order is confirmed, each shipment ships (with a tracking link) and is delivered, and a refund is "
    "issued.",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def put_notifications(channelId: ChannelId, settings: NotificationSettingsIn) -> NotificationSettings:
    if channels.get(channelId) is None:
        raise NotFound(f"channel {channelId} is not registered")
    if settings.sender is not None and not email.sender_verified(settings.sender):
        address, domain = email.sender_identities(settings.sender)
        raise SenderNotVerified(
            f"{address} cannot send: neither it nor {domain} is verified in Amazon SES; verify one "
            "(SES console, or VerifyEmailIdentity / VerifyDomainIdentity), then try again",
            {"field": "sender", "identities": [address, domain]},
        )
    return notification_settings.put(channelId, settings)


@router.get(
    "/channels/<channelId>/notifications",
    summary="The channel's customer e-mail settings (off unless set)",
    tags=["Channels"],
    security=API_KEY_REQUIRED,
)
def get_notifications(channelId: ChannelId) -> NotificationSettings:
    if channels.get(channelId) is None:
        raise NotFound(f"channel {channelId} is not registered")
    stored = notification_settings.get(channelId)
    return stored or NotificationSettings(channelId=channelId, enabled=False)
