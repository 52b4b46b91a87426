"""Write-sharded list indexes: one list's index entries spread over SHARDS partition key values.

A list index keyed by one value (a status, a channel, every order) is one DynamoDB partition, which
takes about 1,000 write units/s, and DynamoDB cannot split it for heat: its sort key `createdKey`
("<createdAt>#<id>") grows with time, so every new entry lands at the same end. Each entry's
partition key is therefore `<value>#<shard>`, the shard chosen from the item's id, so an item stays
in one shard for life and a status change moves its entry between partitions of the same shard.

A page reads every shard at once (one Query each, newest first, at most a page each) and merges them
by `createdKey`, which orders the items of all shards as one list. The cursor is the last returned
key, with the list's unsharded value as before sharding: the next page starts every shard below it,
so no item is skipped or repeated, also when items arrive between pages.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from shared.dal.dynamo import (
    CREATED_KEY_ATTRIBUTES,
    Page,
    batch_get,
    client,
    decode_cursor,
    encode_cursor,
    read_page,
    table,
)

# 10,000 new orders/s on one channel, each changing status about 5 times, writes a status's
# partitions 20,000 times/s (an entry enters with one put and leaves with one delete): 625 write
# units/s per shard of 1,000, with room for bursts. A page costs one Query per shard (0.5 read units
# each for keys-only entries), so more shards make every list page dearer.
SHARDS = 32
SHARD_WIDTH = 2  # digits: "#07" sorts and reads the same everywhere
Key = dict[str, Any]


@dataclass(frozen=True)
class ShardedIndex:
    """A GSI whose partition key `attribute` holds "<value>#<shard>" and whose sort key orders the
    entries of every shard as one list (`createdKey`, "<createdAt>#<id>", unless told). A cursor
    names the list by `listed`, the attribute its unsharded value comes from."""

    name: str
    attribute: str
    listed: str
    sort_key: str = "createdKey"


@dataclass(frozen=True)
class Created:
    """Bounds on `createdKey`: `start` inclusive, `before` exclusive (no key equals a bare time)."""

    start: str | None = None
    before: str | None = None


# The list indexes of the Orders and Returns tables (the same on both); a cursor names its list by
# the attribute it named before sharding, so a cursor given out before still reads on.
BY_STATUS = ShardedIndex("byStatusShard", attribute="statusShard", listed="status")
BY_CHANNEL = ShardedIndex("byChannelShard", attribute="channelShard", listed="channelId")
BY_CREATION = ShardedIndex("byCreation", attribute="listPartition", listed="listPartition")


def shard_of(item_id: str) -> int:
    return zlib.crc32(item_id.encode()) % SHARDS


def sharded(value: str, item_id: str) -> str:
    """The partition key value of the item's entry in the list of `value`."""
    return f"{value}#{shard_of(item_id):0{SHARD_WIDTH}d}"


def shard_values(value: str) -> list[str]:
    return [f"{value}#{shard:0{SHARD_WIDTH}d}" for shard in range(SHARDS)]


def list_keys(everything: str, item_id: str, status: str, channel_id: str) -> dict[str, str]:
    """An item's partition key values in the three list indexes, all in the shard of its id;
    `everything` is the unfiltered list's value."""
    return {
        BY_CREATION.attribute: sharded(everything, item_id),
        BY_STATUS.attribute: sharded(status, item_id),
        BY_CHANNEL.attribute: sharded(channel_id, item_id),
    }


# Kept across invocations, so its threads are made once per process.
_pool = ThreadPoolExecutor(max_workers=SHARDS, thread_name_prefix="shard")


def _request(
    table_name: str, index: ShardedIndex, partition: str, created: Created, newest_first: bool
) -> dict[str, Any]:
    """A Query of one shard, with string expressions: the pool's threads share one client, and only
    expressions built from conditions use state of their own (see shared/aws.py)."""
    condition = "#p = :p"
    names, values = {"#p": index.attribute}, {":p": partition}
    if created.start or created.before:
        names["#c"] = index.sort_key
    if created.start and created.before:
        condition += " AND #c BETWEEN :start AND :before"
        values |= {":start": created.start, ":before": created.before}
    elif created.start:
        condition += " AND #c >= :start"
        values[":start"] = created.start
    elif created.before:
        condition += " AND #c < :before"
        values[":before"] = created.before
    return {
        "TableName": table_name,
        "IndexName": index.name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": not newest_first,
    }


def _shard_keys(
    query: Callable[..., dict[str, Any]], request: dict[str, Any], first: dict[str, Any]
) -> Iterator[Key]:
    """One shard's keys in index order: the first page read already, the rest read when reached."""
    page = first
    while True:
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        page = read_page(query, {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]})


def merged_keys(
    table_name: str,
    index: ShardedIndex,
    value: str,
    *,
    created: Created = Created(),
    newest_first: bool = True,
    per_query: int | None = None,
    after: Mapping[str, str] | None = None,
) -> Iterator[Key]:
    """Every entry of the list of `value` in sort key order across all shards, from below (newest
    first) or above `after` (the table's and the sort key's values) when given. The first Query of every
    shard runs at once; a shard is read further only when the merge reaches its end."""
    query = client().query
    requests = []
    for partition in shard_values(value):
        request = _request(table_name, index, partition, created, newest_first)
        if per_query:
            request["Limit"] = per_query
        if after:
            request["ExclusiveStartKey"] = {**after, index.attribute: partition}
        requests.append(request)
    firsts = list(_pool.map(lambda request: read_page(query, request), requests))
    streams = [_shard_keys(query, request, first) for request, first in zip(requests, firsts, strict=True)]
    return heapq.merge(*streams, key=lambda key: str(key[index.sort_key]), reverse=newest_first)


def newest_page(
    table_name: str,
    index: ShardedIndex,
    value: str,
    *,
    limit: int,
    cursor: str | None,
    keep: Callable[[dict[str, Any]], bool],
    created: Created = Created(),
) -> Page:
    """Up to `limit` items of the list of `value`, newest first, from the cursor on: keys merged from
    every shard, their items read by BatchGetItem and filtered by `keep` on the items themselves, so
    an index entry lagging behind a change never lists an item where it no longer belongs."""
    after = None
    if cursor:
        start = decode_cursor(cursor, {*CREATED_KEY_ATTRIBUTES, index.listed}, {index.listed: value})
        after = {name: start[name] for name in CREATED_KEY_ATTRIBUTES}
    keys = merged_keys(table_name, index, value, created=created, per_query=limit, after=after)
    found: list[tuple[Key, dict[str, Any]]] = []
    while len(found) < limit and (chunk := list(islice(keys, limit))):
        items = batch_get(table_name, chunk)
        found += [(key, item) for key in chunk if (item := items.get((key["pk"], key["sk"]))) and keep(item)]
    returned = found[:limit]
    more = len(found) > limit or next(keys, None) is not None
    if not returned or not more:
        return Page([item for _, item in returned], None)
    last = returned[-1][0]
    return Page(
        [item for _, item in returned],
        encode_cursor({**{name: last[name] for name in CREATED_KEY_ATTRIBUTES}, index.listed: value}),
    )


# -- items written before sharding ----------------------------------------------------------------
# They have `listPartition` = the unsharded value and no shard attributes, so the sharded indexes do
# not hold them until `backfill` gives them their keys (`python -m cli shard-backfill`).

BACKFILL_ATTEMPTS = 5


def backfill(table_name: str, id_attribute: str, everything: str) -> int:
    """Give every listed item that lacks them its list keys; how many items were written. Items
    written since sharding have them; `channelShard` is the one only creation writes."""
    scan: dict[str, Any] = {
        "FilterExpression": Attr(BY_CREATION.attribute).exists() & Attr(BY_CHANNEL.attribute).not_exists(),
        "ConsistentRead": True,
    }
    written = 0
    while True:
        page = table(table_name).scan(**scan)
        written += sum(_give_list_keys(table_name, item, id_attribute, everything) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return written
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _give_list_keys(table_name: str, item: dict[str, Any], id_attribute: str, everything: str) -> int:
    """Conditioned on the status read, so a status change meanwhile is never undone: then the item
    is read again and its keys computed from its new status."""
    key = {"pk": item["pk"], "sk": item["sk"]}
    for _ in range(BACKFILL_ATTEMPTS):
        keys = list_keys(everything, str(item[id_attribute]), str(item["status"]), str(item["channelId"]))
        try:
            table(table_name).update_item(
                Key=key,
                UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in keys),
                ConditionExpression="#status = :read",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":read": item["status"], **{f":{n}": v for n, v in keys.items()}},
            )
            return 1
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        item = table(table_name).get_item(Key=key, ConsistentRead=True).get("Item") or {}
        if "status" not in item:
            return 0
    raise RuntimeError(f"{key} kept changing status: run the backfill again")
