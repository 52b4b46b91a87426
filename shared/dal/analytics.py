"""The Analytics table: daily counters per scope, write-sharded, and what each order last contributed.

- `pk` = `<scope>#<shard>` (scope `ALL`, `CH#<channel>`, `WH#<warehouse>`, `CH#<channel>#WH#<warehouse>`,
  `CTRY#<country>`, `CELL#<lat>#<lon>`; shard `00`..`15`, `ALL` `00`..`31`), `sk` = `DAY#<yyyy-mm-dd>`: a
  scope's counters on a day are the sum of its shards' items. Counters only ever ADD, so any shard
  takes any change: each transaction picks one at random, and a scope's day takes up to its number
  of shards times the write units one item would. The per-SKU counters are in their own item,
  `DAY#<day>#SKU` (FAMILIES), so a status change, most of the writes, does not pay for the size a
  large catalog gives them (an update costs its item's size).
- `pk` = `ORDER#<orderId>`, `sk` = `CONTRIB`: the order's contribution as last applied (JSON,
  compressed), and a revision.

A period of a scope is one Query per shard (every family of every day of the period), run at once,
whatever the number of orders. Orders' new contributions replace their old ones in one transaction:
the counters get the (combined) difference and each order's record its new contribution, each record
conditioned on the revision read, so two aggregators working on one order never both apply theirs
(the loser reads again).
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared import config
from shared.dal.dynamo import client, table, transact

CONTRIB_SK = "CONTRIB"
DAY_PREFIX = "DAY#"
# A day's counters by family, each family its own item (`DAY#<day><suffix>`): a write touches only
# the items of the families it changes, and costs their size. The per-SKU counters grow with the
# catalog, and are written once per order and per return, so the status changes (most writes) do not
# pay for them. (Splitting further costs more: each item written costs at least its 1 KB.)
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (("#SKU", ("us|", "rs|")),)
LAST_FAMILY = "#~"  # sorts after every family's suffix
KEY_ATTRIBUTES = frozenset({"pk", "sk"})
# At 10,000 orders/s the aggregator makes about one transaction per batch of 10 events, each writing
# every scope its orders touch (docs/benchmarks.md section 8): spread over 16 shards a scope takes
# under a partition's 1,000 write units/s, and `ALL`, which every order writes, over 32. A period
# costs one Query per shard.
COUNTER_SHARDS = 16
ALL_SHARDS = 32
SHARD_WIDTH = 2
MOST_ACTIONS = 100  # TransactWriteItems


def table_name() -> str:
    return config.analytics_table()


def _record_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": CONTRIB_SK}


def shards_of(scope: str) -> int:
    return ALL_SHARDS if scope == "ALL" else COUNTER_SHARDS


def shard_key(scope: str, shard: int) -> str:
    return f"{scope}#{shard:0{SHARD_WIDTH}d}"


def scope_of_key(pk: str) -> str:
    """The scope of a counters item's partition key (its shard suffix dropped)."""
    return pk[: -(SHARD_WIDTH + 1)]


Stored = dict[str, dict[str, str]]
Delta = dict[tuple[str, str], dict[str, Decimal]]


@dataclass(frozen=True)
class Applied:
    """An order's contribution as last applied (as stored) and its record's revision (0: none)."""

    stored: Stored
    revision: int


@dataclass(frozen=True)
class Replacement:
    """An order's new contribution (as stored) in place of the one applied at `revision`."""

    order_id: str
    new: Stored
    revision: int


def applied(order_id: str) -> Applied:
    item = table(table_name()).get_item(Key=_record_key(order_id), ConsistentRead=True).get("Item")
    if not item:
        return Applied({}, 0)
    if "appliedZ" in item:
        return Applied(json.loads(zlib.decompress(bytes(item["appliedZ"].value))), int(item["revision"]))
    return Applied(json.loads(item["applied"]), int(item["revision"]))  # written before compression


def _compressed(stored: Stored) -> bytes:
    """A contribution as the record keeps it: its JSON compressed (a write costs a unit per KB, and
    the counter names repeat per scope)."""
    return zlib.compress(json.dumps(stored, sort_keys=True, separators=(",", ":")).encode(), level=9)


def families(changes: dict[str, Decimal]) -> Iterator[tuple[str, dict[str, Decimal]]]:
    """A day's changes split by the item they go to: the sort key suffix and its counters."""
    split: dict[str, dict[str, Decimal]] = {}
    for counter, amount in changes.items():
        suffix = next((suffix for suffix, prefixes in FAMILIES if counter.startswith(prefixes)), "")
        split.setdefault(suffix, {})[counter] = amount
    yield from sorted(split.items())


def items_touched(delta: Delta) -> int:
    """How many counter items adding `delta` writes (one transaction action each)."""
    return sum(1 for changes in delta.values() for _ in families(changes))


def _add_action(pk: str, sk: str, changes: dict[str, Decimal]) -> dict[str, Any]:
    names = {f"#c{i}": counter for i, counter in enumerate(changes)}
    values = {f":c{i}": amount for i, amount in enumerate(changes.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(changes)))
    return {
        "Update": {
            "TableName": table_name(),
            "Key": {"pk": pk, "sk": sk},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _record_action(replacement: Replacement) -> dict[str, Any]:
    values: dict[str, Any] = {":applied": _compressed(replacement.new), ":next": replacement.revision + 1}
    condition = "attribute_not_exists(pk)"
    if replacement.revision:
        condition, values[":revision"] = "revision = :revision", replacement.revision
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _record_key(replacement.order_id),
            "UpdateExpression": "SET appliedZ = :applied, revision = :next REMOVE applied",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def write(replacements: Sequence[Replacement], delta: Delta) -> None:
    """Record each order's new contribution and add their combined `delta` to the counters (on one
    shard), in one transaction conditioned on each revision read (TransactionConflict when another
    writer got to one of them first). At most MOST_ACTIONS records and items together."""
    draw = random.randrange(ALL_SHARDS)
    actions = [_record_action(r) for r in replacements]
    for (scope, day), changes in sorted(delta.items()):
        pk = shard_key(scope, draw % shards_of(scope))
        for suffix, counters in families(changes):
            actions.append(_add_action(pk, DAY_PREFIX + day + suffix, counters))
    transact(actions)


@dataclass
class Period:
    """A scope's counters for each day of a period, and what reading them cost."""

    days: dict[str, dict[str, Decimal]]
    queries: int
    items: int


# Kept across invocations, so its threads are made once per process.
_pool = ThreadPoolExecutor(max_workers=ALL_SHARDS, thread_name_prefix="counters")


def _shard_period(pk: str, first_day: str, last_day: str) -> Period:
    # String expressions: the pool's threads share one client (see shared/dal/sharded.py).
    query: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": pk,
            ":first": DAY_PREFIX + first_day,
            ":last": DAY_PREFIX + last_day + LAST_FAMILY,
        },
    }
    days: dict[str, dict[str, Decimal]] = {}
    queries = items = 0
    while True:
        page = client().query(**query)
        queries += 1
        for item in page["Items"]:
            items += 1
            _add_into(days.setdefault(item["sk"][len(DAY_PREFIX) :][:10], {}), _counters(item))
        if "LastEvaluatedKey" not in page:
            return Period(days, queries, items)
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _counters(item: dict[str, Any]) -> dict[str, Decimal]:
    return {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES and isinstance(v, Decimal)}


def _add_into(total: dict[str, Decimal], counters: dict[str, Decimal]) -> None:
    for k, v in counters.items():
        total[k] = total.get(k, Decimal(0)) + v


def period(scope: str, first_day: str, last_day: str) -> Period:
    """Every day of [first_day, last_day] with counters in `scope`: one Query per shard (per MB of
    its items), all at once."""
    shards = [shard_key(scope, shard) for shard in range(shards_of(scope))]
    reads = list(_pool.map(lambda pk: _shard_period(pk, first_day, last_day), shards))
    days: dict[str, dict[str, Decimal]] = {}
    for read in reads:
        for day, counters in read.days.items():
            _add_into(days.setdefault(day, {}), counters)
    return Period(days, sum(r.queries for r in reads), sum(r.items for r in reads))


def every_item() -> Iterator[dict[str, Any]]:
    """The whole table (for the backfill's reset and for tests): a Scan, never on a request path."""
    request: dict[str, Any] = {}
    while True:
        page = table(table_name()).scan(**request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_everything() -> int:
    """Empty the table (the backfill's --reset); returns how many items were deleted."""
    deleted = 0
    with table(table_name()).batch_writer() as batch:
        for item in list(every_item()):
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
    return deleted


def counters_by_key() -> dict[tuple[str, str], dict[str, Decimal]]:
    """Every scope's non-zero counters per day, summed over its shards and items (what a backfill and
    live aggregation must agree on): (scope, day) -> counters."""
    found: dict[tuple[str, str], dict[str, Decimal]] = {}
    for item in every_item():
        if str(item["sk"]).startswith(DAY_PREFIX):
            day = item["sk"][len(DAY_PREFIX) :][:10]
            _add_into(found.setdefault((scope_of_key(item["pk"]), day), {}), _counters(item))
    return {
        key: nonzero
        for key, counters in found.items()
        if (nonzero := {k: v for k, v in counters.items() if v != 0})
    }
