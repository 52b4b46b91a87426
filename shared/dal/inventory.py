"""Inventory table: warehouses, stock per SKU and warehouse, and what each order holds.

Keys: warehouse `WAREHOUSE`/`<id>`; stock `SKU#<sku>`/`LOC#<warehouse>`;
reservation `RESERVATION#<order id>`/`<sku>#<warehouse>`.
Stock keeps `available` (= onHand - reserved) as its own attribute, so a reservation is one
conditional decrement and DynamoDB, not the code, guarantees stock never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from shared import config
from shared.clock import now_iso
from shared.dal.dynamo import TransactionConflict, plain, scan_page, table, to_item, transact
from shared.errors import Conflict, NotFound
from shared.models.catalog import StockLevel, Warehouse, WarehouseIn

WAREHOUSE_PK = "WAREHOUSE"


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sku: str
    warehouse_id: str
    quantity: int
    # The shipment the units are held for (one per warehouse in an order's plan).
    fulfillment_id: str


def _name() -> str:
    return config.inventory_table()


def stock_key(sku: str, warehouse_id: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": f"LOC#{warehouse_id}"}


def reservation_key(order_id: str, sku: str, warehouse_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{order_id}", "sk": f"{sku}#{warehouse_id}"}


def put_warehouse(warehouse_id: str, data: WarehouseIn) -> tuple[Warehouse, bool]:
    """Create or replace a warehouse; returns it and whether it is new (told by the write itself)."""
    warehouse = Warehouse(warehouseId=warehouse_id, updatedAt=now_iso(), **data.model_dump())
    replaced = table(_name()).put_item(
        Item=to_item(warehouse, pk=WAREHOUSE_PK, sk=warehouse_id), ReturnValues="ALL_OLD"
    )
    return warehouse, "Attributes" not in replaced


def list_warehouses() -> list[Warehouse]:
    # Warehouses are few (tens): one partition, read whole.
    page = table(_name()).query(KeyConditionExpression=Key("pk").eq(WAREHOUSE_PK), ConsistentRead=True)
    return [Warehouse.model_validate(plain(item)) for item in page["Items"]]


def set_on_hand(sku: str, warehouse_id: str, on_hand: int) -> StockLevel:
    """Set the counted stock; refused (409) below what is already reserved, or for an unknown warehouse."""
    update = {
        "Update": {
            "TableName": _name(),
            "Key": stock_key(sku, warehouse_id),
            "UpdateExpression": (
                "SET onHand = :n, reserved = if_not_exists(reserved, :zero), "
                "available = :n - if_not_exists(reserved, :zero), sku = :sku, warehouseId = :wh"
            ),
            "ConditionExpression": "attribute_not_exists(reserved) OR reserved <= :n",
            "ExpressionAttributeValues": {":n": on_hand, ":zero": 0, ":sku": sku, ":wh": warehouse_id},
        }
    }
    warehouse_exists = {
        "ConditionCheck": {
            "TableName": _name(),
            "Key": {"pk": WAREHOUSE_PK, "sk": warehouse_id},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    try:
        transact([warehouse_exists, update])
    except TransactionConflict as conflict:
        if conflict.failed(0):
            raise NotFound(f"warehouse {warehouse_id} does not exist") from conflict
        if conflict.failed(1):
            level = stock_at(sku, warehouse_id)
            raise Conflict(
                f"onHand cannot be set below the {level.reserved if level else 0} units already reserved",
                {"sku": sku, "warehouseId": warehouse_id, "reserved": level.reserved if level else 0},
            ) from conflict
        raise
    level = stock_at(sku, warehouse_id)
    assert level is not None
    return level


def stock_at(sku: str, warehouse_id: str) -> StockLevel | None:
    item = table(_name()).get_item(Key=stock_key(sku, warehouse_id), ConsistentRead=True).get("Item")
    return StockLevel.model_validate(plain(item)) if item else None


def stock_of(sku: str) -> list[StockLevel]:
    page = table(_name()).query(KeyConditionExpression=Key("pk").eq(f"SKU#{sku}"), ConsistentRead=True)
    return [StockLevel.model_validate(plain(item)) for item in page["Items"]]


def list_stock(limit: int, cursor: str | None) -> tuple[list[StockLevel], str | None]:
    """Stock records in table order, by a Scan of `limit` items; warehouses and reservations are skipped."""
    page = scan_page(_name(), ["pk", "sk"], Attr("pk").begins_with("SKU#"), limit, cursor)
    return [StockLevel.model_validate(item) for item in page.items], page.cursor


def reservations_of(order_id: str, fulfillment_id: str | None = None) -> list[Reservation]:
    """What the order holds, or only what it holds for one fulfillment."""
    page = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"RESERVATION#{order_id}"), ConsistentRead=True
    )
    held = [
        Reservation(order_id, item["sku"], item["warehouseId"], int(item["quantity"]), item["fulfillmentId"])
        for item in page["Items"]
    ]
    return [r for r in held if fulfillment_id is None or r.fulfillment_id == fulfillment_id]


def _stock_update(r: Reservation, expression: str, condition: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": _name(),
        "Key": stock_key(r.sku, r.warehouse_id),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {":q": r.quantity},
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def reserve_actions(reservations: list[Reservation]) -> list[dict[str, Any]]:
    """Hold stock: available drops, reserved rises; refused if any SKU lacks the quantity."""
    actions = []
    for r in reservations:
        actions.append(
            _stock_update(r, "SET available = available - :q, reserved = reserved + :q", "available >= :q")
        )
        item: dict[str, Any] = {**reservation_key(r.order_id, r.sku, r.warehouse_id), "sku": r.sku}
        item |= {"warehouseId": r.warehouse_id, "quantity": r.quantity, "orderId": r.order_id}
        item["fulfillmentId"] = r.fulfillment_id
        actions.append(
            {"Put": {"TableName": _name(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
        )
    return actions


def _consume_actions(reservations: list[Reservation], stock_expression: str) -> list[dict[str, Any]]:
    actions = []
    for r in reservations:
        actions.append(
            {
                "Delete": {
                    "TableName": _name(),
                    "Key": reservation_key(r.order_id, r.sku, r.warehouse_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
        actions.append(_stock_update(r, stock_expression))
    return actions


def release_actions(reservations: list[Reservation]) -> list[dict[str, Any]]:
    """Give held stock back. Deleting the reservation in the same transaction makes it happen once."""
    return _consume_actions(reservations, "SET available = available + :q, reserved = reserved - :q")


def commit_actions(reservations: list[Reservation]) -> list[dict[str, Any]]:
    """Stock left the building: onHand and reserved both drop; available is unchanged."""
    return _consume_actions(reservations, "SET onHand = onHand - :q, reserved = reserved - :q")


def sku_known(sku: str) -> bool:
    page = table(_name()).query(KeyConditionExpression=Key("pk").eq(f"SKU#{sku}"), Limit=1)
    return bool(page["Items"])


# -- orders taken per warehouse and day (for daily capacities) --------------------------------------
# `LOAD#<warehouse>`/`<YYYY-MM-DD>` (UTC) counts the orders whose plan used the warehouse that day.
# Counted in the reservation's transaction; a later cancellation does not give the slot back (the
# warehouse planned for the order that day).


def load_key(warehouse_id: str, day: str) -> dict[str, str]:
    return {"pk": f"LOAD#{warehouse_id}", "sk": day}


def count_order_action(warehouse_id: str, day: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": _name(),
            "Key": load_key(warehouse_id, day),
            "UpdateExpression": "ADD orders :one SET warehouseId = :wh",
            "ExpressionAttributeValues": {":one": 1, ":wh": warehouse_id},
        }
    }


def orders_taken(warehouse_ids: list[str], day: str) -> dict[str, int]:
    """How many orders each warehouse took on `day` (0 for those with none)."""
    taken = dict.fromkeys(warehouse_ids, 0)
    for warehouse_id in warehouse_ids:  # warehouses with a capacity are few: one read each
        item = table(_name()).get_item(Key=load_key(warehouse_id, day), ConsistentRead=True).get("Item")
        if item:
            taken[warehouse_id] = int(item["orders"])
    return taken
