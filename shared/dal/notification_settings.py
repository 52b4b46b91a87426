"""A channel's customer e-mail settings, on an item of their own in the Channels table
(`NOTIFICATIONS#<channelId>`: '#' cannot occur in a channel id), so registering the channel again
(`PUT /channels/{channelId}`, which replaces the channel's item) keeps them; the channel list skips
them, as it skips the Amazon claims (they have no `type`)."""

from __future__ import annotations

from shared import config, settings_cache
from shared.clock import now_iso
from shared.dal.dynamo import TransactionConflict, plain, table, to_item, transact
from shared.errors import NotFound
from shared.models.notifications import NotificationSettings, NotificationSettingsIn

PREFIX = "NOTIFICATIONS#"
# None (no settings: the defaults) is kept too: settings made a moment ago are as late as changed ones.
_cached: settings_cache.SettingsCache[NotificationSettings] = settings_cache.SettingsCache(
    "notification settings", keep_missing=True
)


def _key(channel_id: str) -> dict[str, str]:
    return {"channelId": f"{PREFIX}{channel_id}"}


def get(channel_id: str) -> NotificationSettings | None:
    """The settings, as read at most `SETTINGS_CACHE_SECONDS` ago (`shared.settings_cache`)."""
    return _cached.get(channel_id, lambda: _read(channel_id))


def _read(channel_id: str) -> NotificationSettings | None:
    item = table(config.channels_table()).get_item(Key=_key(channel_id), ConsistentRead=True).get("Item")
    if not item:
        return None
    return NotificationSettings.model_validate({**plain(item), "channelId": channel_id})


def put(channel_id: str, settings: NotificationSettingsIn) -> NotificationSettings:
    """Store the settings of a registered channel (NotFound otherwise, checked in the same write)."""
    stored = NotificationSettings(**settings.model_dump(), channelId=channel_id, updatedAt=now_iso())
    name = config.channels_table()
    try:
        transact(
            [
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"channelId": channel_id},
                        "ConditionExpression": "attribute_exists(#type)",
                        "ExpressionAttributeNames": {"#type": "type"},
                    }
                },
                {"Put": {"TableName": name, "Item": to_item(stored, **_key(channel_id))}},
            ]
        )
    except TransactionConflict as conflict:
        if conflict.failed(0):
            raise NotFound(f"channel {channel_id} is not registered") from conflict
        raise
    finally:
        _cached.forget(channel_id)
    return stored
