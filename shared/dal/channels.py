"""Channels table: one item per registered sales channel."""

from __future__ import annotations

from shared import config
from shared.clock import now_iso
from shared.dal.dynamo import plain, table, to_item
from shared.models.catalog import Channel, ChannelIn


def _name() -> str:
    return config.channels_table()


def get(channel_id: str) -> Channel | None:
    item = table(_name()).get_item(Key={"channelId": channel_id}, ConsistentRead=True).get("Item")
    return Channel.model_validate(plain(item)) if item else None


def put(channel_id: str, data: ChannelIn) -> tuple[Channel, bool]:
    """Create or replace a channel; returns it and whether it is new."""
    existing = get(channel_id)
    now = now_iso()
    channel = Channel(
        channelId=channel_id,
        type=data.type,
        name=data.name,
        webhookSecret=data.webhookSecret,
        createdAt=existing.createdAt if existing else now,
        updatedAt=now,
    )
    table(_name()).put_item(Item=to_item(channel))
    return channel, existing is None
