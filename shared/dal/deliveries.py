"""Deliveries table: each authenticated channel delivery exactly as it arrived, and its result.

Keyed by delivery id so a busy channel's large bodies spread over partitions; the `byChannelShard`
index (ids, times, results; no bodies) lists a channel's deliveries newest first, write-sharded as
the order lists (see shared/dal/sharded.py): delivery ids (ULIDs) order the shards as one list.
"""

from __future__ import annotations

import base64
import hashlib
import re
from itertools import islice
from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from shared import config
from shared.clock import now_iso
from shared.dal import sharded
from shared.dal.dynamo import plain, table
from shared.errors import InvalidRequest
from shared.ids import new_ulid
from shared.models.intake import (
    Delivery,
    DeliveryAttempt,
    DeliveryList,
    DeliveryResult,
    DeliverySource,
    DeliverySummary,
    Outcome,
)

BY_CHANNEL = sharded.ShardedIndex(
    "byChannelShard", attribute="channelShard", listed="channelId", sort_key="deliveryId"
)
# Credentials a caller might send along; never kept.
UNKEPT_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "x-amz-security-token"})
DELIVERY_ID = re.compile(r"^dlv_[0-9A-HJKMNP-TV-Z]{26}$")


def _name() -> str:
    return config.deliveries_table()


def archive(channel_id: str, source: DeliverySource, headers: dict[str, str], body: bytes) -> Delivery:
    delivery = Delivery(
        deliveryId="dlv_" + new_ulid(),
        channelId=channel_id,
        source=source,
        receivedAt=now_iso(),
        headers={name: value for name, value in headers.items() if name.lower() not in UNKEPT_HEADERS},
        body=body,
        bodySha256=hashlib.sha256(body).hexdigest(),
    )
    item: dict[str, Any] = delivery.model_dump(exclude={"result", "fetched", "eventId"})
    item[BY_CHANNEL.attribute] = sharded.sharded(channel_id, delivery.deliveryId)
    table(_name()).put_item(Item=item, ConditionExpression="attribute_not_exists(deliveryId)")
    return delivery


def record_fetched(delivery_id: str, documents: dict[str, bytes]) -> None:
    """Keep the documents fetched from the channel's API to build the order (e.g. SP-API getOrder)."""
    table(_name()).update_item(
        Key={"deliveryId": delivery_id},
        UpdateExpression="SET fetched = :documents",
        ExpressionAttributeValues={":documents": documents},
    )


def record_result(delivery_id: str, result: DeliveryResult, event_id: str | None = None) -> None:
    """What became of the delivery, and the channel event id it carried (one write for both).

    The first result is what the delivery did when it arrived and is never overwritten: a later
    processing (a replay) is appended to `replays` with its own time.
    """
    at = now_iso()
    values: dict[str, Any] = {":result": result.model_dump(mode="json", exclude_none=True), ":at": at}
    update = "SET #result = :result, processedAt = :at"
    if event_id is not None:
        update += ", eventId = :event"
        values[":event"] = event_id
    try:
        table(_name()).update_item(
            Key={"deliveryId": delivery_id},
            UpdateExpression=update,
            ConditionExpression="attribute_not_exists(#result)",
            ExpressionAttributeNames={"#result": "result"},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        _record_replay(delivery_id, DeliveryAttempt(**result.model_dump(), at=at))


def record_invalid(delivery_id: str, invalid: InvalidRequest) -> None:
    """The delivery was refused with 400: why, as the client was told."""
    errors = invalid.details if isinstance(invalid.details, list) else None
    record_result(delivery_id, DeliveryResult(outcome=Outcome.INVALID, reason=invalid.message, errors=errors))


def _record_replay(delivery_id: str, attempt: DeliveryAttempt) -> None:
    table(_name()).update_item(
        Key={"deliveryId": delivery_id},
        UpdateExpression="SET replays = list_append(if_not_exists(replays, :none), :attempt)",
        ExpressionAttributeValues={
            ":attempt": [attempt.model_dump(mode="json", exclude_none=True)],
            ":none": [],
        },
    )


def get(delivery_id: str) -> Delivery | None:
    if not DELIVERY_ID.match(delivery_id):
        return None
    item = table(_name()).get_item(Key={"deliveryId": delivery_id}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    item = _unbinary(item)
    return Delivery.model_validate(plain(item))


def list_for_channel(channel_id: str, limit: int, cursor: str | None) -> DeliveryList:
    """Newest first, merged from every shard of the channel's index entries (ids, times, results)."""
    after = {"deliveryId": _decode_cursor(cursor)} if cursor else None
    entries = sharded.merged_keys(_name(), BY_CHANNEL, channel_id, per_query=limit, after=after)
    found = list(islice(entries, limit + 1))
    summaries = [DeliverySummary.model_validate(plain(item)) for item in found[:limit]]
    next_cursor = _encode_cursor(summaries[-1].deliveryId) if len(found) > limit else None
    return DeliveryList(deliveries=summaries, nextCursor=next_cursor)


def backfill_channel_shards() -> int:
    """Give the deliveries archived before the index was sharded their key in it; how many."""
    scan: dict[str, Any] = {
        "FilterExpression": Attr("channelId").exists() & Attr(BY_CHANNEL.attribute).not_exists(),
        "ProjectionExpression": "deliveryId, channelId",
    }
    written = 0
    while True:
        page = table(_name()).scan(**scan)
        for item in page["Items"]:
            table(_name()).update_item(
                Key={"deliveryId": item["deliveryId"]},
                UpdateExpression=f"SET {BY_CHANNEL.attribute} = :shard",
                ConditionExpression="attribute_exists(deliveryId)",
                ExpressionAttributeValues={":shard": sharded.sharded(item["channelId"], item["deliveryId"])},
            )
        written += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return written
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _encode_cursor(delivery_id: str) -> str:
    return base64.urlsafe_b64encode(delivery_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        delivery_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # binascii.Error, or not ASCII / UTF-8
        raise InvalidRequest("cursor is not valid", {"field": "cursor"}) from exc
    if not DELIVERY_ID.match(delivery_id):
        raise InvalidRequest("cursor is not valid", {"field": "cursor"})
    return delivery_id


def _unbinary(value: Any) -> Any:
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, dict):
        return {k: _unbinary(v) for k, v in value.items()}
    return value
