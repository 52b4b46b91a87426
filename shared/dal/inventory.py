"""Inventory table: warehouses, stock levels, what each fulfillment holds, and daily loads.

Keys: warehouse `WAREHOUSE`/`<id>`; stock and its ledger in `shared/dal/stock.py`; reservation
`RESERVATION#<order id>`/`<fulfillment id>` (the units one shipment holds: per SKU, which buckets
of its warehouse and how many); load `LOAD#<warehouse>`/`<day>`.
Every stock change goes through `stock.write_actions`: conditioned on what was read, with its ledger
entry, so DynamoDB, not the code, guarantees stock never goes below zero and every unit is accounted for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Attr, Key

from shared import config, settings_cache
from shared.clock import now_iso
from shared.dal import stock
from shared.dal.dynamo import (
    TransactionConflict,
    encode_cursor,
    pause_before_retry,
    plain,
    scan_page,
    table,
    to_item,
    transact,
)
from shared.dal.stock import ChangeKind, Location, Why
from shared.errors import Conflict, NotFound, TransientError
from shared.models.catalog import StockLevel, Warehouse, WarehouseIn

WAREHOUSE_PK = "WAREHOUSE"
T = TypeVar("T")
# Warehouses are created and replaced, never deleted: one that exists goes on existing. Not found is
# not kept (a warehouse created a moment ago takes its stock at once).
_warehouses: settings_cache.SettingsCache[tuple[Warehouse, ...]] = settings_cache.SettingsCache(
    "warehouses", keep_missing=False
)
_existing: settings_cache.SettingsCache[bool] = settings_cache.SettingsCache(
    "warehouse exists", keep_missing=False
)


@dataclass(frozen=True)
class Reservation:
    """Units of one SKU one fulfillment holds in its warehouse, and from which buckets."""

    order_id: str
    sku: str
    warehouse_id: str
    quantity: int
    # The shipment the units are held for (one per warehouse in an order's plan).
    fulfillment_id: str
    buckets: tuple[tuple[int, int], ...] = ()  # (bucket index, units)


def _name() -> str:
    return config.inventory_table()


def reservation_key(order_id: str, fulfillment_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{order_id}", "sk": fulfillment_id}


def put_warehouse(warehouse_id: str, data: WarehouseIn) -> tuple[Warehouse, bool]:
    """Create or replace a warehouse; returns it and whether it is new (told by the write itself)."""
    warehouse = Warehouse(warehouseId=warehouse_id, updatedAt=now_iso(), **data.model_dump())
    try:
        replaced = table(_name()).put_item(
            Item=to_item(warehouse, pk=WAREHOUSE_PK, sk=warehouse_id), ReturnValues="ALL_OLD"
        )
    finally:
        _warehouses.forget(WAREHOUSE_PK)
    return warehouse, "Attributes" not in replaced


def list_warehouses() -> list[Warehouse]:
    """Every warehouse, as read at most `SETTINGS_CACHE_SECONDS` ago (`shared.settings_cache`)."""
    return list(_warehouses.get(WAREHOUSE_PK, lambda: tuple(_read_warehouses())) or ())


def _read_warehouses() -> list[Warehouse]:
    # Warehouses are few (tens): one partition, read whole.
    page = table(_name()).query(KeyConditionExpression=Key("pk").eq(WAREHOUSE_PK), ConsistentRead=True)
    return [Warehouse.model_validate(plain(item)) for item in page["Items"]]


def level_of(location: Location) -> StockLevel:
    return StockLevel(
        sku=location.sku,
        warehouseId=location.warehouse_id,
        onHand=location.on_hand,
        reserved=location.reserved,
        safetyStock=location.safety_stock,
        available=location.available,
        buckets=len(location.buckets),
    )


# -- counted stock and adjustments ---------------------------------------------------------------------

ATTEMPTS = 8


def retrying(write: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """Run a read-then-write until its transaction is not cancelled by a concurrent change of the
    same items, with a short random pause between attempts."""
    for attempt in range(attempts):
        try:
            return write()
        except TransactionConflict as conflict:
            if any(
                reason not in ("ConditionalCheckFailed", "TransactionConflict", "None")
                for reason in conflict.reasons
            ):
                raise
            pause_before_retry(attempt)
    raise TransientError(f"{what} kept changing during {attempts} attempts")


def _require_warehouse(warehouse_id: str) -> None:
    # A (cached) read, not a ConditionCheck in the stock transaction: that would cost every stock
    # change 2 write units on the one `WAREHOUSE` partition, and warehouses are never deleted.
    if not warehouse_exists(warehouse_id):
        raise NotFound(f"warehouse {warehouse_id} does not exist")


@dataclass(frozen=True)
class StockChange:
    location: Location  # as the change left it
    entries: list[dict[str, Any]]  # the ledger entries it wrote


def count_stock(
    sku: str, warehouse_id: str, on_hand: int, why: Why, safety_stock: int | None = None
) -> StockChange:
    """Set the counted stock (and the safety stock, if given); refused (409) below what is already
    reserved, or for an unknown warehouse (404)."""
    return change_stock(sku, warehouse_id, lambda found: on_hand, why, safety_stock)


def adjust_stock(sku: str, warehouse_id: str, delta: int, why: Why) -> StockChange:
    """Add `delta` (negative: remove) to the counted stock; 409 if it would go below reserved."""
    return change_stock(sku, warehouse_id, lambda found: found.on_hand + delta, why)


def change_stock(
    sku: str,
    warehouse_id: str,
    on_hand_of: Callable[[Location], int],
    why: Why,
    safety_stock: int | None = None,
) -> StockChange:
    def write() -> StockChange:
        found, buckets = stock.location_and_buckets(sku, warehouse_id)
        on_hand = on_hand_of(found)
        if on_hand < found.reserved:
            raise Conflict(
                f"onHand cannot go below the {found.reserved} units already reserved (it would be {on_hand})",
                {
                    "sku": sku,
                    "warehouseId": warehouse_id,
                    "onHand": found.on_hand,
                    "reserved": found.reserved,
                },
            )
        safety = found.safety_stock if safety_stock is None else safety_stock
        after = stock.balanced(found, on_hand, safety, buckets)
        writes = stock.write_actions(found, after, why, now_iso())
        if not writes:
            return StockChange(found, [])  # already so (its warehouse existed when it was stocked)
        _require_warehouse(warehouse_id)
        transact(writes)
        return StockChange(after, stock.ledger_items(writes))

    return retrying(write, f"stock of {sku} at {warehouse_id}")


class AlreadyApplied(Exception):
    """The change was made before (its marker, written in the same transaction, exists)."""


def receive_returned(
    sku: str, warehouse_id: str, units: int, *, resellable: bool, why: Why, marker: dict[str, Any]
) -> StockChange:
    """Units a customer sent back: resellable ones on hand again (rebalanced over the buckets),
    damaged ones recorded by a ledger entry with no deltas. `marker` is written in the same
    transaction and fails it when the change was applied before (AlreadyApplied)."""

    def write() -> StockChange:
        found, buckets = stock.location_and_buckets(sku, warehouse_id)
        at = now_iso()
        if resellable:
            after = stock.balanced(found, found.on_hand + units, found.safety_stock, buckets)
            writes = stock.write_actions(found, after, why, at)
        else:
            after = found
            first = found.buckets[0] if found.buckets else stock.Bucket(sku, warehouse_id, 0)
            writes = stock.bucket_actions(first, first, why, at)
        _require_warehouse(warehouse_id)
        try:
            transact([marker, *writes])
        except TransactionConflict as conflict:
            if conflict.failed(0):
                raise AlreadyApplied(f"{sku} at {warehouse_id}") from conflict
            raise
        return StockChange(after, stock.ledger_items(writes))

    return retrying(write, f"stock of {sku} at {warehouse_id}")


def warehouse_exists(warehouse_id: str) -> bool:
    """Whether it exists: a yes is kept for `SETTINGS_CACHE_SECONDS` (`shared.settings_cache`)."""
    return bool(_existing.get(warehouse_id, lambda: _read_exists(warehouse_id) or None))


def _read_exists(warehouse_id: str) -> bool:
    item = table(_name()).get_item(Key={"pk": WAREHOUSE_PK, "sk": warehouse_id}, ConsistentRead=True)
    return "Item" in item


def stock_of(sku: str) -> list[StockLevel]:
    return [level_of(found) for found in stock.locations(sku)]


def list_stock(limit: int, cursor: str | None) -> tuple[list[StockLevel], str | None]:
    """Stock per location in table order, by a Scan of `limit` bucket items (warehouses,
    reservations, ledgers and settings are skipped). A location whose buckets the page cut is read
    whole, and the cursor moves past all of it."""
    wanted = Attr("pk").begins_with("SKU#") & Attr("sk").begins_with(stock.LOCATION_PREFIX)
    page = scan_page(_name(), ["pk", "sk"], wanted, limit, cursor)
    items = page.items
    next_cursor = page.cursor
    if items and next_cursor:
        last = items[-1]
        rest = [
            plain(item)
            for item in table(_name()).query(
                KeyConditionExpression=Key("pk").eq(last["pk"])
                & Key("sk").begins_with(f"{stock.LOCATION_PREFIX}{last['warehouseId']}#"),
                ConsistentRead=True,
            )["Items"]
            if item["sk"] > last["sk"]
        ]
        if rest:
            items = items + rest
            next_cursor = encode_cursor({"pk": rest[-1]["pk"], "sk": rest[-1]["sk"]})
    located = stock.locations_of_items(items)
    order = {(item["sku"], item["warehouseId"]): n for n, item in enumerate(items)}
    located.sort(key=lambda loc: order[(loc.sku, loc.warehouse_id)])
    return [level_of(loc) for loc in located], next_cursor


# -- reservations --------------------------------------------------------------------------------------


def reservations_of(order_id: str, fulfillment_id: str | None = None) -> list[Reservation]:
    """What the order holds, or only what it holds for one fulfillment."""
    page = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"RESERVATION#{order_id}"), ConsistentRead=True
    )
    held = []
    for item in map(plain, page["Items"]):
        if fulfillment_id is not None and item["sk"] != fulfillment_id:
            continue
        for line in item["held"]:
            held.append(
                Reservation(
                    order_id,
                    line["sku"],
                    item["warehouseId"],
                    int(line["quantity"]),
                    item["sk"],
                    tuple((int(b), int(q)) for b, q in line["buckets"]),
                )
            )
    return held


def pick_buckets(found: Location, quantity: int) -> tuple[tuple[int, int], ...]:
    """Where to take `quantity` units from: one bucket that has them all, chosen at random so that
    concurrent orders spread over a hot SKU's buckets; else the fullest buckets first."""
    whole = [b for b in found.buckets if b.available >= quantity]
    if whole:
        return ((random.choice(whole).index, quantity),)
    taken: list[tuple[int, int]] = []
    needed = quantity
    for bucket in sorted(found.buckets, key=lambda b: -b.available):
        if needed == 0 or bucket.available <= 0:
            break
        take = min(needed, bucket.available)
        taken.append((bucket.index, take))
        needed -= take
    if needed:
        raise ValueError(f"{found.sku} at {found.warehouse_id} has {found.available}, not {quantity}")
    return tuple(taken)


def reserve_actions(
    order_id: str,
    fulfillment_id: str,
    warehouse_id: str,
    *,
    lines: Iterable[tuple[str, int]],
    read: dict[str, list[Location]],
    at: str,
) -> list[dict[str, Any]]:
    """Hold one shipment's units at its warehouse: per SKU, the buckets' updates (conditioned on
    what was `read`) with their ledger entries, then the reservation item."""
    why = Why(ChangeKind.RESERVE, "workflow:ReserveInventory", orderId=order_id, fulfillmentId=fulfillment_id)
    actions: list[dict[str, Any]] = []
    held = []
    for sku, quantity in lines:
        found = next(loc for loc in read[sku] if loc.warehouse_id == warehouse_id)
        buckets = pick_buckets(found, quantity)
        after = stock.with_changes(found, {index: (0, units) for index, units in buckets})
        actions += stock.write_actions(found, after, why, at)
        held.append({"sku": sku, "quantity": quantity, "buckets": [list(b) for b in buckets]})
    item: dict[str, Any] = {**reservation_key(order_id, fulfillment_id), "orderId": order_id}
    item |= {"warehouseId": warehouse_id, "fulfillmentId": fulfillment_id, "held": held, "at": at}
    actions.append(
        {"Put": {"TableName": _name(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    )
    return actions


def _consume_actions(
    held: list[Reservation], kind: ChangeKind, actor: str, on_hand_too: bool
) -> list[dict[str, Any]]:
    at = now_iso()
    actions: list[dict[str, Any]] = []
    for fulfillment_id in sorted({r.fulfillment_id for r in held}):
        actions.append(
            {
                "Delete": {
                    "TableName": _name(),
                    "Key": reservation_key(held[0].order_id, fulfillment_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
    for r in held:
        why = Why(kind, actor, orderId=r.order_id, fulfillmentId=r.fulfillment_id)
        found = stock.location(r.sku, r.warehouse_id)
        changes = {index: (-units if on_hand_too else 0, -units) for index, units in r.buckets}
        actions += stock.write_actions(found, stock.with_changes(found, changes), why, at)
    return actions


def release_actions(held: list[Reservation], actor: str) -> list[dict[str, Any]]:
    """Give held stock back. Deleting the reservation in the same transaction makes it happen once.
    Reads the stock now: run it again (re-reading) when the transaction is cancelled."""
    return _consume_actions(held, ChangeKind.RELEASE, actor, on_hand_too=False)


def commit_actions(held: list[Reservation], actor: str) -> list[dict[str, Any]]:
    """Stock left the building: onHand and reserved both drop; available is unchanged."""
    return _consume_actions(held, ChangeKind.COMMIT, actor, on_hand_too=True)


def sku_known(sku: str) -> bool:
    page = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"SKU#{sku}") & Key("sk").begins_with(stock.LOCATION_PREFIX),
        Limit=1,
    )
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
