"""Returns table: each return, and per order the account of what its returns hold.

Keys: return `ORDER#<order id>`/`RETURN#<return id>` (its timeline inline: a return has a handful of
events); account `ORDER#<order id>`/`ACCOUNT`: how many returns the order has (the next return's
number) and, per delivered fulfillment and SKU, the units authorized for return in returns that did
not expire (attribute `U#<fulfillment id>#<sku>`). Authorizing conditions the account on the count
read and each unit total on staying within what was delivered, so two returns authorized at once
can never take the same units. Return ids embed the order id (`<order>-R<n>`): one read finds both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.clock import now_iso
from shared.dal import sharded
from shared.dal.dynamo import plain, status_update, table, to_item
from shared.errors import NotFound
from shared.ids import order_id_of_return
from shared.models.returns import Return, ReturnStatus, ReturnTimelineEntry

ACCOUNT_SK = "ACCOUNT"
LIST_PARTITION = "RETURNS"
# The list indexes, write-sharded (see shared/dal/sharded.py).
BY_STATUS, BY_CHANNEL, BY_CREATION = sharded.BY_STATUS, sharded.BY_CHANNEL, sharded.BY_CREATION

Item = dict[str, Any]


def table_name() -> str:
    return config.returns_table()


def key(order_id: str, return_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": f"RETURN#{return_id}"}


def account_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": ACCOUNT_SK}


def units_attribute(fulfillment_id: str, sku: str) -> str:
    return f"U#{fulfillment_id}#{sku}"


def of_order(order_id: str) -> tuple[Item | None, list[Return]]:
    """The order's account and its returns, oldest first, in one query."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(f"ORDER#{order_id}"),
        "ConsistentRead": True,
    }
    items: list[Item] = []
    while True:
        page = table(table_name()).query(**query)
        items += plain(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    account = next((i for i in items if i["sk"] == ACCOUNT_SK), None)
    returns = [Return.model_validate(i) for i in items if i["sk"].startswith("RETURN#")]
    return account, sorted(returns, key=lambda r: r.createdAt)


def get_item(return_id: str) -> Item | None:
    order_id = order_id_of_return(return_id)
    if order_id is None:
        return None
    item = table(table_name()).get_item(Key=key(order_id, return_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def require_item(return_id: str) -> Item:
    item = get_item(return_id)
    if item is None:
        raise NotFound(f"return {return_id} does not exist")
    return item


def require(return_id: str) -> Return:
    return Return.model_validate(require_item(return_id))


def authorize_actions(
    found: Return, account_count: int, units: Mapping[str, tuple[int, int]]
) -> list[dict[str, Any]]:
    """The new return and the account's update. `units`: attribute -> (units added, the most the
    attribute may hold before adding them: delivered minus added)."""
    names = {"#count": "returnCount"}
    values: dict[str, Any] = {":one": 1, ":zero": 0}
    sets = ["#count = if_not_exists(#count, :zero) + :one"]
    conditions = ["#count = :read" if account_count else "attribute_not_exists(#count)"]
    if account_count:
        values[":read"] = account_count
    for index, (attribute, (added, most_before)) in enumerate(sorted(units.items())):
        names[f"#u{index}"] = attribute
        values |= {f":add{index}": added, f":most{index}": most_before}
        sets.append(f"#u{index} = if_not_exists(#u{index}, :zero) + :add{index}")
        conditions.append(f"(attribute_not_exists(#u{index}) OR #u{index} <= :most{index})")
    account = {
        "Update": {
            "TableName": table_name(),
            "Key": account_key(found.orderId),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    item = to_item(
        found,
        **key(found.orderId, found.returnId),
        createdKey=f"{found.createdAt}#{found.returnId}",
        **list_keys(found),
    )
    put = {
        "Put": {"TableName": table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    }
    return [account, put]


def list_keys(found: Return) -> dict[str, str]:
    return sharded.list_keys(LIST_PARTITION, found.returnId, found.status.value, found.channelId)


def give_back_action(order_id: str, units: Mapping[str, int]) -> dict[str, Any]:
    """Units a return no longer holds (it expired, or fewer came back): returnable again."""
    names = {f"#u{i}": attribute for i, attribute in enumerate(sorted(units))}
    values = {f":sub{i}": units[attribute] for i, attribute in enumerate(sorted(units))}
    sets = [f"#u{i} = #u{i} - :sub{i}" for i in range(len(names))]
    conditions = [f"#u{i} >= :sub{i}" for i in range(len(names))]
    return {
        "Update": {
            "TableName": table_name(),
            "Key": account_key(order_id),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def change_action(
    item: Item,
    allowed: Sequence[ReturnStatus],
    *,
    status: ReturnStatus | None = None,
    reason: str | None = None,
    sets: Mapping[str, Any] | None = None,
    removes: Sequence[str] = (),
    entry: str | None = None,
    at: str | None = None,
    extra_condition: str | None = None,
    extra_values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Update a return while its status is one of `allowed`: a new status (with its reason), other
    attributes, and a timeline entry (named `entry`, else the new status)."""
    at = at or now_iso()
    names: dict[str, str] = {}
    values: dict[str, Any] = {":at": at, **(extra_values or {})}
    assignments = ["updatedAt = :at"]
    if status is not None:
        assignments += ["#status = :to", "statusShard = :toShard", "statusReason = :reason"]
        values |= {":to": status.value, ":reason": reason}
        values[":toShard"] = sharded.sharded(status.value, item["returnId"])
    for index, (name, value) in enumerate((sets or {}).items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        assignments.append(f"#s{index} = :s{index}")
    label = entry or (status.value if status else None)
    if label:
        timeline = ReturnTimelineEntry(status=label, at=at, reason=reason)
        values |= {":entry": [timeline.model_dump(exclude_none=True)], ":none": []}
        assignments.append("timeline = list_append(if_not_exists(timeline, :none), :entry)")
    expression = "SET " + ", ".join(assignments)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    allowed_names = [f":allowed{i}" for i in range(len(allowed))]
    values |= {n: s.value for n, s in zip(allowed_names, allowed, strict=True)}
    condition = f"#status IN ({', '.join(allowed_names)})"
    if extra_condition:
        condition += f" AND {extra_condition}"
    action = status_update(
        table_name(), key(item["orderId"], item["returnId"]), expression, condition, values
    )
    action["Update"]["ExpressionAttributeNames"].update(names)
    return action


def list_returns(
    status: ReturnStatus | None, channel_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Return], str | None]:
    """Newest first, from a keys-only index's shards (never a scan); a status filter with a channel
    is checked on the returns themselves."""
    if channel_id is not None:
        index, value = BY_CHANNEL, channel_id
    elif status is not None:
        index, value = BY_STATUS, status.value
    else:
        index, value = BY_CREATION, LIST_PARTITION
    page = sharded.newest_page(
        table_name(),
        index,
        value,
        limit=limit,
        cursor=cursor,
        keep=lambda item: status is None or item.get("status") == status.value,
    )
    return [Return.model_validate(item) for item in page.items], page.cursor


def backfill_list_keys() -> int:
    """Give the returns stored before the list indexes were sharded their keys in them."""
    return sharded.backfill(table_name(), "returnId", LIST_PARTITION)
