"""Channels table: one item per registered sales channel, plus one claim per Amazon seller and
marketplace (`AMAZON#<sellerId>#<marketplaceId>`), so a notification finds exactly one channel."""

from __future__ import annotations

from typing import Any, Protocol

from boto3.dynamodb.conditions import Attr

from shared import config, settings_cache
from shared.clock import iso_in, now_iso
from shared.dal.dynamo import TransactionConflict, plain, scan_page, table, to_item, transact
from shared.errors import Conflict
from shared.models.catalog import (
    SECRET_ROTATION_GRACE_SECONDS,
    AmazonChannelIn,
    AmazonSettings,
    Channel,
    ChannelSettings,
)

# Not found is not kept: a channel registered a moment ago must take its orders at once.
_cached: settings_cache.SettingsCache[Channel] = settings_cache.SettingsCache("channels", keep_missing=False)


def _name() -> str:
    return config.channels_table()


def _amazon_claim_id(settings: AmazonSettings) -> str:
    # '#' cannot occur in a channel id, so claims never collide with channels.
    return f"AMAZON#{settings.sellerId}#{settings.marketplaceId}"


def get(channel_id: str) -> Channel | None:
    """The channel, as read at most `SETTINGS_CACHE_SECONDS` ago (`shared.settings_cache`). Every
    order reads it several times: the cache's fill is an eventually consistent read (half the read
    units; a second's lag more on a value up to the TTL old anyway)."""
    return _cached.get(channel_id, lambda: read(channel_id, consistent=False))


def read(channel_id: str, *, consistent: bool = True) -> Channel | None:
    """The channel as stored now (what a write builds on)."""
    item = table(_name()).get_item(Key={"channelId": channel_id}, ConsistentRead=consistent).get("Item")
    return Channel.model_validate(plain(item)) if item else None


def list_page(limit: int, cursor: str | None) -> tuple[list[Channel], str | None]:
    """Registered channels in table order, by a Scan of `limit` items; the Amazon claims are skipped."""
    page = scan_page(_name(), ["channelId"], Attr("type").exists(), limit, cursor)
    return [Channel.model_validate(item) for item in page.items], page.cursor


def for_amazon_seller(seller_id: str, marketplace_id: str) -> Channel | None:
    key = {"channelId": f"AMAZON#{seller_id}#{marketplace_id}"}
    claim = table(_name()).get_item(Key=key, ConsistentRead=True).get("Item")
    return get(claim["claimedBy"]) if claim else None


def put(channel_id: str, data: ChannelSettings) -> tuple[Channel, bool]:
    """Create or replace a channel; returns it and whether it is new.

    A channel keeps its type: replacing it with another type is refused (409), by a condition on the
    write, so a concurrent registration cannot slip in between. A changed webhook secret leaves the
    old one valid for a grace period (deliveries signed before the change are still being retried).
    An Amazon seller and marketplace belong to one channel only.
    """
    existing = read(channel_id)
    now = now_iso()
    settings = data.model_dump()
    channel = Channel(
        **settings,
        channelId=channel_id,
        createdAt=existing.createdAt if existing else now,
        updatedAt=now,
        **rotation(existing, settings.get("webhookSecret")),
    )
    amazon = data.amazon if isinstance(data, AmazonChannelIn) else None
    try:
        transact([_put_keeping_type(channel), *_claim_actions(channel_id, amazon, existing)])
    except TransactionConflict as conflict:
        refusal = _refusal(conflict, channel, amazon)
        if refusal is None:
            raise
        raise refusal from conflict
    finally:
        _cached.forget(channel_id)
    _cached.remember(channel_id, Channel.model_validate(plain(to_item(channel))))  # as a read returns it
    return channel, existing is None


def _put_keeping_type(channel: Channel) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": _name(),
            "Item": to_item(channel),
            "ConditionExpression": "attribute_not_exists(channelId) OR #type = :type",
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": {":type": channel.type.value},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _claim_actions(
    channel_id: str, amazon: AmazonSettings | None, existing: Channel | None
) -> list[dict[str, Any]]:
    """Claim the channel's Amazon seller and marketplace; give up the one it had before."""
    actions: list[dict[str, Any]] = []
    new_claim = _amazon_claim_id(amazon) if amazon else None
    old_claim = _amazon_claim_id(existing.amazon) if existing and existing.amazon else None
    if new_claim:
        actions.append(
            {
                "Put": {
                    "TableName": _name(),
                    "Item": {"channelId": new_claim, "claimedBy": channel_id},
                    "ConditionExpression": "attribute_not_exists(channelId) OR claimedBy = :me",
                    "ExpressionAttributeValues": {":me": channel_id},
                }
            }
        )
    if old_claim and old_claim != new_claim:
        actions.append({"Delete": {"TableName": _name(), "Key": {"channelId": old_claim}}})
    return actions


def _refusal(
    conflict: TransactionConflict, channel: Channel, amazon: AmazonSettings | None
) -> Conflict | None:
    """Why the channel's write was cancelled, as the client's conflict (None: not a condition of ours)."""
    current = conflict.items[0] if conflict.failed(0) else None
    if current is not None:
        return Conflict(
            f"channel {channel.channelId} is a {current['type']} channel; its type cannot change "
            "(register another channel for another type)",
            {"channelId": channel.channelId, "type": current["type"], "requested": channel.type.value},
        )
    if conflict.failed(1) and amazon is not None:
        return Conflict(
            f"Amazon seller {amazon.sellerId} in marketplace {amazon.marketplaceId} "
            "is already registered as another channel",
            {"sellerId": amazon.sellerId, "marketplaceId": amazon.marketplaceId},
        )
    return None


class _SecretHolder(Protocol):
    @property
    def webhookSecret(self) -> str | None: ...
    @property
    def previousWebhookSecret(self) -> str | None: ...
    @property
    def previousSecretValidUntil(self) -> str | None: ...


def rotation(existing: _SecretHolder | None, new_secret: str | None) -> dict[str, str | None]:
    """The previous-secret fields after `new_secret` replaces what `existing` had: a changed secret
    stays valid for the grace period, an unchanged one keeps the rotation already under way."""
    if existing is None or existing.webhookSecret is None:
        return {}
    if existing.webhookSecret == new_secret:
        return {
            "previousWebhookSecret": existing.previousWebhookSecret,
            "previousSecretValidUntil": existing.previousSecretValidUntil,
        }
    return {
        "previousWebhookSecret": existing.webhookSecret,
        "previousSecretValidUntil": iso_in(SECRET_ROTATION_GRACE_SECONDS),
    }
