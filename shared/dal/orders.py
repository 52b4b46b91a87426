"""Orders table: orders, their timelines and fulfillments, and (channel, channel order id) claims.

Keys: order `ORDER#<id>`/`ORDER`; timeline `ORDER#<id>`/`EVENT#<at>#<status>`;
fulfillment `ORDER#<id>`/`FULFILLMENT#<fid>`; claim `CHANNELORDER#<channel>#<channel order id>`/`CLAIM`;
the channel order id's entry in the `byNumber` index, when it differs from the order number,
`ORDER#<id>`/`TRACKING#NUMBER`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared import config
from shared.clock import now_iso
from shared.dal import sharded
from shared.dal.dynamo import (
    TransactionConflict,
    batch_get,
    in_list_condition,
    plain,
    status_update,
    table,
    to_item,
    to_value,
    transact,
)
from shared.errors import InvalidTransition, NotFound
from shared.models.geo import Location
from shared.models.order import (
    ORDER_TRANSITIONS,
    Order,
    OrderStatus,
    OrderView,
    TimelineEntry,
    statuses_leading_to,
)
from shared.models.sourcing import SourcingPlan
from shared.models.tracking import Attention
from shared.models.tracking_view import normalized_email, normalized_number

ORDER_SK = "ORDER"
# The sourcing plan is its own item: written once, it keeps the order item small, and the order item
# is rewritten on every fulfillment change.
SOURCING_SK = "SOURCING"
LIST_PARTITION = "ORDERS"
# The list indexes, write-sharded (see shared/dal/sharded.py).
BY_STATUS, BY_CHANNEL, BY_CREATION = sharded.BY_STATUS, sharded.BY_CHANNEL, sharded.BY_CREATION
INDEX_BY_NUMBER = "byNumber"
INDEX_BY_EMAIL = "byEmail"
# The second entry of an order in `byNumber` (its channel order id), when the number differs from it.
# It sorts after every other item of the order, so no range read of the order's items meets it.
NUMBER_SK = "TRACKING#NUMBER"


def order_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": ORDER_SK}


def claim_key(channel_id: str, channel_order_id: str) -> dict[str, str]:
    return {"pk": f"CHANNELORDER#{channel_id}#{channel_order_id}", "sk": "CLAIM"}


class DuplicateChannelOrder(Exception):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"channel order already received as {order_id}")
        self.order_id = order_id


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    cursor: str | None


def table_name() -> str:
    return config.orders_table()


def sourcing_put(order_id: str, plan: SourcingPlan) -> dict[str, Any]:
    item = to_item(plan, pk=f"ORDER#{order_id}", sk=SOURCING_SK)
    return {"Put": {"TableName": table_name(), "Item": item}}


def timeline_put(order_id: str, status: str, at: str, reason: str | None) -> dict[str, Any]:
    entry = TimelineEntry(status=status, at=at, reason=reason)
    item = to_item(entry, pk=f"ORDER#{order_id}", sk=f"EVENT#{at}#{status}")
    return {"Put": {"TableName": table_name(), "Item": item}}


def attention_action(order_id: str, attention: Attention) -> dict[str, Any]:
    """Flag an existing order for someone to look at (a carrier exception); the status stays."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": order_key(order_id),
            "UpdateExpression": "SET attention = :attention",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":attention": to_value(attention)},
        }
    }


def transition_actions(
    order_id: str,
    target: OrderStatus,
    reason: str | None = None,
    at: str | None = None,
    sets: Mapping[str, BaseModel | Sequence[BaseModel]] | None = None,
) -> list[dict[str, Any]]:
    """Move an order to `target` only from a status that may lead there, and record it in the timeline;
    `sets` are models (or lists of them) to store on the order in the same write."""
    at = at or now_iso()
    condition, from_values = in_list_condition("#status", statuses_leading_to(target), "from")
    assignments = ["#status = :to", "statusShard = :toShard", "updatedAt = :at", "statusReason = :reason"]
    values: dict[str, Any] = {**from_values, ":to": target.value, ":at": at, ":reason": reason}
    values[":toShard"] = sharded.sharded(target.value, order_id)
    for name, value in (sets or {}).items():
        assignments.append(f"{name} = :{name}")
        values[f":{name}"] = to_value(value)
    update = status_update(
        table_name(), order_key(order_id), "SET " + ", ".join(assignments), condition, values
    )
    return [update, timeline_put(order_id, target.value, at, reason)]


def status_check_action(order_id: str, status: OrderStatus) -> dict[str, Any]:
    """A transaction action that only holds while the order is in `status`."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": order_key(order_id),
            "ConditionExpression": "#status = :expected",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":expected": status.value},
        }
    }


@dataclass(frozen=True)
class Snapshot:
    """An order and its fulfillments as read together; `revision` counts the writes that changed
    its fulfillments, so a write made from this snapshot can require that none came between."""

    order: Order
    revision: int
    fulfillments: list[dict[str, Any]]


def snapshot(order_id: str) -> Snapshot:
    # Keys sort EVENT# < FULFILLMENT# < ORDER < SOURCING: one query reads the fulfillments and the order.
    items = _items_of(order_id, sk_between=("FULFILLMENT#", ORDER_SK))
    order = next((i for i in items if i["sk"] == ORDER_SK), None)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return Snapshot(
        order=Order.model_validate(order),
        revision=int(order.get("revision", 0)),
        fulfillments=[i for i in items if i["sk"].startswith("FULFILLMENT#")],
    )


def advance_actions(
    read: Snapshot, target: OrderStatus, label: str, reason: str, at: str
) -> list[dict[str, Any]]:
    """Record a change of the order's fulfillments: the status becomes `target` (perhaps the same),
    the revision moves on, and the timeline says what happened. Conditioned on the status and
    revision read, so two changes made from one snapshot never both land (the second re-reads).
    A timeline entry is labelled by the new status when it changed, else by `label`."""
    order_id, current = read.order.orderId, read.order.status
    if target is not current and target not in ORDER_TRANSITIONS[current]:
        raise invalid_transition(order_id, target)
    sets = ["revision = :next", "updatedAt = :at"]
    values: dict[str, Any] = {":next": read.revision + 1, ":at": at, ":read": current.value}
    if target is not current:
        sets += ["#status = :to", "statusShard = :toShard", "statusReason = :reason"]
        values |= {
            ":to": target.value,
            ":toShard": sharded.sharded(target.value, order_id),
            ":reason": reason,
        }
    condition = "#status = :read AND " + (
        "revision = :revision" if read.revision else "attribute_not_exists(revision)"
    )
    if read.revision:
        values[":revision"] = read.revision
    update = status_update(table_name(), order_key(order_id), "SET " + ", ".join(sets), condition, values)
    entry = target.value if target is not current else label
    return [update, timeline_put(order_id, entry, at, reason)]


def list_keys(order: Order) -> dict[str, str]:
    return sharded.list_keys(LIST_PARTITION, order.orderId, order.status.value, order.channelId)


def create(order: Order) -> None:
    """Store a new order and claim its (channel, channel order id), or raise DuplicateChannelOrder."""
    claim = {**claim_key(order.channelId, order.channelOrderId), "orderId": order.orderId}
    created_key = f"{order.createdAt}#{order.orderId}"
    numbers = lookup_numbers(order)
    item = to_item(
        order,
        **order_key(order.orderId),
        **list_keys(order),
        createdKey=created_key,
        **({"lookupNumber": numbers[0]} if numbers else {}),
        **({"lookupEmail": hashed} if (hashed := lookup_email(order)) else {}),
    )
    actions = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": claim,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": {"TableName": table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
        timeline_put(order.orderId, OrderStatus.RECEIVED.value, order.createdAt, None),
    ]
    if order.status is not OrderStatus.RECEIVED:  # rejected at intake
        actions.append(timeline_put(order.orderId, order.status.value, order.createdAt, order.statusReason))
    if len(numbers) > 1:
        second = {"pk": f"ORDER#{order.orderId}", "sk": NUMBER_SK, "lookupNumber": numbers[1]}
        actions.append({"Put": {"TableName": table_name(), "Item": second | {"createdKey": created_key}}})
    try:
        transact(actions)
    except TransactionConflict as conflict:
        if not conflict.failed(0):
            raise
        existing = table(table_name()).get_item(
            Key=claim_key(order.channelId, order.channelOrderId), ConsistentRead=True
        )
        raise DuplicateChannelOrder(existing["Item"]["orderId"]) from conflict


def set_location(order_id: str, location: Location) -> None:
    """Store where the shipping address was located, while the order is RECEIVED."""
    try:
        table(table_name()).update_item(
            Key=order_key(order_id),
            UpdateExpression="SET #location = :location",
            ConditionExpression="#status = :received",
            ExpressionAttributeNames={"#location": "location", "#status": "status"},
            ExpressionAttributeValues={
                ":location": to_value(location),
                ":received": OrderStatus.RECEIVED.value,
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise invalid_transition(order_id, OrderStatus.RECEIVED) from error


def claimed_order_id(channel_id: str, channel_order_id: str) -> str | None:
    """The OMS order holding this channel order, if any."""
    claim = table(table_name()).get_item(Key=claim_key(channel_id, channel_order_id), ConsistentRead=True)
    return claim["Item"]["orderId"] if "Item" in claim else None


def get(order_id: str) -> Order | None:
    item = table(table_name()).get_item(Key=order_key(order_id), ConsistentRead=True).get("Item")
    return Order.model_validate(plain(item)) if item else None


def require(order_id: str) -> Order:
    order = get(order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


def _items_of(order_id: str, sk_between: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    condition = Key("pk").eq(f"ORDER#{order_id}")
    query: dict[str, Any] = {
        "KeyConditionExpression": condition & Key("sk").between(*sk_between) if sk_between else condition,
        "ConsistentRead": True,
    }
    while True:
        page = table(table_name()).query(**query)
        items.extend(plain(page["Items"]))
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def view(order_id: str) -> OrderView:
    items = _items_of(order_id)
    order = next((i for i in items if i["sk"] == ORDER_SK), None)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return OrderView.model_validate(
        {
            **order,
            "sourcing": next((i for i in items if i["sk"] == SOURCING_SK), None),
            "fulfillments": [i for i in items if i["sk"].startswith("FULFILLMENT#")],
            "timeline": [i for i in items if i["sk"].startswith("EVENT#")],
        }
    )


def transition(
    order_id: str,
    target: OrderStatus,
    reason: str | None = None,
    sets: Mapping[str, BaseModel | Sequence[BaseModel]] | None = None,
) -> None:
    """Change the status (and store `sets`); InvalidTransition names the current status when it may not."""
    try:
        transact(transition_actions(order_id, target, reason, sets=sets))
    except TransactionConflict as conflict:
        if conflict.failed(0):
            raise invalid_transition(order_id, target) from conflict
        raise


def restock_token(order_id: str) -> str | None:
    """The task token a backordered order's workflow waits for a restock with, if it waits."""
    item = (
        table(table_name())
        .get_item(Key=order_key(order_id), ProjectionExpression="restockToken", ConsistentRead=True)
        .get("Item")
    )
    return str(item["restockToken"]) if item and "restockToken" in item else None


def update_while(
    order_id: str, status: OrderStatus, sets: Mapping[str, BaseModel | Sequence[BaseModel]]
) -> None:
    """Store `sets` on the order while it is in `status` (InvalidTransition otherwise)."""
    assignments = [f"{name} = :{name}" for name in sets] + ["updatedAt = :at"]
    values = {f":{name}": to_value(value) for name, value in sets.items()}
    values |= {":at": now_iso(), ":expected": status.value}
    try:
        table(table_name()).update_item(
            Key=order_key(order_id),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression="#status = :expected",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise invalid_transition(order_id, status) from error


def invalid_transition(order_id: str, target: OrderStatus) -> InvalidTransition:
    current = require(order_id).status
    return InvalidTransition(
        f"order {order_id} is {current.value} and cannot become {target.value}",
        {"orderId": order_id, "status": current.value, "requested": target.value},
    )


def _index_for(status: OrderStatus | None, channel_id: str | None) -> tuple[sharded.ShardedIndex, str]:
    """The index to read and the list's value in it."""
    if channel_id is not None:
        return BY_CHANNEL, channel_id
    if status is not None:
        return BY_STATUS, status.value
    return BY_CREATION, LIST_PARTITION


def list_orders(
    status: OrderStatus | None,
    channel_id: str | None,
    limit: int,
    cursor: str | None,
    *,
    created_from: str | None = None,
    created_before: str | None = None,
) -> OrderPage:
    """Newest first, from a keys-only GSI's shards (never a scan) and BatchGetItem; the status is
    checked on the orders themselves (see `newest_page`), the creation time in the key condition."""
    index, value = _index_for(status, channel_id)
    page = sharded.newest_page(
        table_name(),
        index,
        value,
        limit=limit,
        cursor=cursor,
        keep=lambda item: status is None or item.get("status") == status.value,
        created=sharded.Created(created_from, created_before),
    )
    return OrderPage([Order.model_validate(item) for item in page.items], page.cursor)


def created_in(channel_id: str, created_from: str, created_before: str, most: int) -> list[Order] | None:
    """A channel's orders created in [created_from, created_before), oldest first, read from the
    byChannelShard index (never a scan); None when there are more than `most`."""
    keys = sharded.merged_keys(
        table_name(),
        BY_CHANNEL,
        channel_id,
        created=sharded.Created(created_from, created_before),
        newest_first=False,
        per_query=most + 1,
    )
    wanted = list(islice(keys, most + 1))
    if len(wanted) > most:
        return None
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), 100):
        found |= batch_get(table_name(), wanted[start : start + 100])
    return [Order.model_validate(found[(k["pk"], k["sk"])]) for k in wanted if (k["pk"], k["sk"]) in found]


def lookup_numbers(order: Order) -> list[str]:
    """What a customer may look the order up by, normalized: its number, then its channel order id
    when that normalizes differently (each is one `byNumber` entry: a key holds one value)."""
    numbers = [normalized_number(order.orderNumber), normalized_number(order.channelOrderId)]
    return list(dict.fromkeys(n for n in numbers if n is not None))


def lookup_email(order: Order) -> str | None:
    """The order's `byEmail` key: a SHA-256 of its customer's case-folded e-mail (None without one)."""
    return email_key(order.customer.email) if order.customer is not None else None


def email_key(email: str) -> str | None:
    folded = normalized_email(email)
    return hashlib.sha256(folded.encode()).hexdigest() if folded else None


def by_number(number: str, most: int) -> list[Order]:
    """The orders (at most `most`, newest first) whose number or channel order id normalizes to
    `number`, read from the keys-only byNumber index (never a scan) and one BatchGetItem."""
    return _by_lookup(INDEX_BY_NUMBER, Key("lookupNumber").eq(number), most)


def by_email(email: str, most: int) -> list[Order]:
    """The orders (at most `most`, newest first) of the customer with that e-mail (any case), read
    from the keys-only byEmail index and one BatchGetItem."""
    key = email_key(email)
    return _by_lookup(INDEX_BY_EMAIL, Key("lookupEmail").eq(key), most) if key else []


def _by_lookup(index: str, condition: Any, most: int) -> list[Order]:
    query: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ScanIndexForward": False,
        "Limit": most,
    }
    order_ids: list[str] = []
    while len(order_ids) < most:
        page = table(table_name()).query(**query)
        order_ids += [str(key["pk"]).removeprefix("ORDER#") for key in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    wanted = list(dict.fromkeys(order_ids))[:most]
    found = batch_get(table_name(), [order_key(order_id) for order_id in wanted]) if wanted else {}
    keys = [(order_key(order_id)["pk"], ORDER_SK) for order_id in wanted]
    return [Order.model_validate(found[key]) for key in keys if key in found]


def order_ids(created_from: str | None = None, created_before: str | None = None) -> Iterator[str]:
    """Every order's id (created in [created_from, created_before) when given), oldest first, from the
    byCreation index's shards (keys only; for the analytics backfill)."""
    created = sharded.Created(created_from, created_before)
    keys = sharded.merged_keys(table_name(), BY_CREATION, LIST_PARTITION, created=created, newest_first=False)
    for key in keys:
        yield str(key["pk"]).removeprefix("ORDER#")


def backfill_list_keys() -> int:
    """Give the orders stored before the list indexes were sharded their keys in them."""
    return sharded.backfill(table_name(), "orderId", LIST_PARTITION)
