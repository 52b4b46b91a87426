"""Backordered orders waiting for stock, found per SKU through a key (Inventory table).

`BACKORDER#<sku>`/`<since>#<order id>`: one item per SKU an order waits for, sorted oldest first,
holding the task token its workflow waits with (also on the order, as `restockToken`). Whoever
wakes an order deletes all its items and the order's token in one transaction conditioned on the
token: an order is woken once per wait, and a woken order re-registers (with a new token) if it
still cannot be filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal import orders
from shared.dal.dynamo import plain, table, to_value
from shared.models.order import BackorderWait, OrderStatus

PAGE = 100


@dataclass(frozen=True)
class Waiting:
    order_id: str
    sku: str
    quantity: int
    since: str
    token: str
    skus: tuple[str, ...]  # every SKU the order is registered under


def _name() -> str:
    return config.inventory_table()


def key(sku: str, since: str, order_id: str) -> dict[str, str]:
    return {"pk": f"BACKORDER#{sku}", "sk": f"{since}#{order_id}"}


def register_actions(
    order_id: str, wait: BackorderWait, quantities: dict[str, int], token: str, previous: BackorderWait | None
) -> list[dict[str, Any]]:
    """Wait for `wait.skus` with `token`: the order's token and wait (while it is BACKORDERED), one
    item per SKU, and the items of SKUs an earlier wait listed and this one does not removed."""
    update = {
        "Update": {
            "TableName": orders.table_name(),
            "Key": orders.order_key(order_id),
            "UpdateExpression": "SET restockToken = :token, backorder = :wait",
            "ConditionExpression": "#status = :backordered",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":token": token,
                ":wait": to_value(wait),
                ":backordered": OrderStatus.BACKORDERED.value,
            },
        }
    }
    actions: list[dict[str, Any]] = [update]
    for sku in wait.skus:
        item: dict[str, Any] = {**key(sku, wait.since, order_id), "orderId": order_id, "sku": sku}
        item |= {"quantity": quantities[sku], "since": wait.since, "token": token, "skus": list(wait.skus)}
        actions.append({"Put": {"TableName": _name(), "Item": item}})
    stale = set(previous.skus) - set(wait.skus) if previous else set()
    actions += [
        {"Delete": {"TableName": _name(), "Key": key(sku, wait.since, order_id)}} for sku in sorted(stale)
    ]
    return actions


def waiting_for(sku: str) -> list[Waiting]:
    """The orders waiting for `sku`, oldest first (the first page: at most PAGE)."""
    reply = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"BACKORDER#{sku}"), Limit=PAGE, ConsistentRead=True
    )
    return [
        Waiting(
            item["orderId"],
            item["sku"],
            int(item["quantity"]),
            item["since"],
            item["token"],
            tuple(item["skus"]),
        )
        for item in map(plain, reply["Items"])
    ]


def claim_actions(waiting: Waiting) -> list[dict[str, Any]]:
    """Take the order off every list it waits on, only if it still waits with the token read."""
    take_token = {
        "Update": {
            "TableName": orders.table_name(),
            "Key": orders.order_key(waiting.order_id),
            "UpdateExpression": "REMOVE restockToken",
            "ConditionExpression": "restockToken = :token",
            "ExpressionAttributeValues": {":token": waiting.token},
        }
    }
    deletes = [
        {"Delete": {"TableName": _name(), "Key": key(sku, waiting.since, waiting.order_id)}}
        for sku in waiting.skus
    ]
    return [take_token, *deletes]


def forget_actions(order_id: str, wait: BackorderWait | None) -> list[dict[str, Any]]:
    """Remove the order's registrations (it was cancelled or expired); the order's own update
    (its status change) removes `restockToken` itself."""
    if wait is None:
        return []
    return [{"Delete": {"TableName": _name(), "Key": key(sku, wait.since, order_id)}} for sku in wait.skus]
