"""The Analytics table: daily counters per scope, and what each order last contributed to them.

- `pk` = scope (`ALL`, `CH#<channel>`, `WH#<warehouse>`, `CH#<channel>#WH#<warehouse>`, `CTRY#<country>`,
  `CELL#<lat>#<lon>`), `sk` = `DAY#<yyyy-mm-dd>`: one item per scope and day, its counters as numbers.
  A period is one Query (`sk` between two days), whatever the number of orders.
- `pk` = `ORDER#<orderId>`, `sk` = `CONTRIB`: the order's contribution as last applied, and a revision.

An order's new contribution replaces its old one in one transaction: the counters get the difference
(ADD) and the record the new contribution, conditioned on the revision read, so two aggregators
working on one order never both apply theirs (the loser reads again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal.dynamo import table, transact

CONTRIB_SK = "CONTRIB"
DAY_PREFIX = "DAY#"
KEY_ATTRIBUTES = frozenset({"pk", "sk"})


def table_name() -> str:
    return config.analytics_table()


def _record_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": CONTRIB_SK}


Stored = dict[str, dict[str, str]]
Delta = dict[tuple[str, str], dict[str, Decimal]]


def applied(order_id: str) -> tuple[Stored, int]:
    """The order's contribution as last applied (as stored) and the record's revision (0: none)."""
    item = table(table_name()).get_item(Key=_record_key(order_id), ConsistentRead=True).get("Item")
    if not item:
        return {}, 0
    return json.loads(item["applied"]), int(item["revision"])


def _add_action(scope: str, day: str, changes: dict[str, Decimal]) -> dict[str, Any]:
    names = {f"#c{i}": counter for i, counter in enumerate(changes)}
    values = {f":c{i}": amount for i, amount in enumerate(changes.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(changes)))
    return {
        "Update": {
            "TableName": table_name(),
            "Key": {"pk": scope, "sk": DAY_PREFIX + day},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _record_action(order_id: str, new: Stored, revision: int) -> dict[str, Any]:
    values: dict[str, Any] = {":applied": json.dumps(new, sort_keys=True), ":next": revision + 1}
    condition = "attribute_not_exists(pk)"
    if revision:
        condition, values[":revision"] = "revision = :revision", revision
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _record_key(order_id),
            "UpdateExpression": "SET applied = :applied, revision = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def write(order_id: str, new: Stored, delta: Delta, revision: int) -> None:
    """Record `new` as the order's contribution and add `delta` to the counters, in one transaction
    conditioned on the revision read (TransactionConflict when another writer got there first)."""
    actions = [_record_action(order_id, new, revision)]
    actions += [_add_action(scope, day, changes) for (scope, day), changes in sorted(delta.items())]
    transact(actions)


@dataclass
class Period:
    """A scope's counters for each day of a period, and what reading them cost."""

    days: dict[str, dict[str, Decimal]]
    queries: int
    items: int


def period(scope: str, first_day: str, last_day: str) -> Period:
    """Every day of [first_day, last_day] with counters in `scope`: one Query per MB of them."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(scope)
        & Key("sk").between(DAY_PREFIX + first_day, DAY_PREFIX + last_day)
    }
    days: dict[str, dict[str, Decimal]] = {}
    queries = 0
    while True:
        page = table(table_name()).query(**query)
        queries += 1
        for item in page["Items"]:
            days[item["sk"][len(DAY_PREFIX) :]] = {
                k: Decimal(v) for k, v in item.items() if k not in KEY_ATTRIBUTES and isinstance(v, Decimal)
            }
        if "LastEvaluatedKey" not in page:
            return Period(days, queries, len(days))
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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
    """Every scope-and-day item's non-zero counters (what a backfill and live aggregation must agree on)."""
    found = {}
    for item in every_item():
        if not str(item["sk"]).startswith(DAY_PREFIX):
            continue
        counters = {
            k: v for k, v in item.items() if k not in KEY_ATTRIBUTES and isinstance(v, Decimal) and v != 0
        }
        if counters:
            found[(item["pk"], item["sk"])] = counters
    return found
