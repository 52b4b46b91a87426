"""Stock of a SKU in a warehouse (a "location"), spread over one or more bucket items, and its ledger.

Keys (Inventory table):
- `SKU#<sku>`/`LOC#<warehouse>` is bucket 0 of a location; `LOC#<warehouse>#<k>` bucket k. A SKU
  has one bucket per location unless its settings ask for more (a hot SKU): each bucket is its own
  item, so each takes its own share of DynamoDB's writes per item.
- `SKU#<sku>`/`SETTINGS` the SKU's settings (`buckets`, `lowStockThreshold`); `SKU#<sku>`/`STOCKLEVEL` the
  level the event publisher last announced (`shared/dal/stock_levels.py`).
- `LEDGER#<sku>#<warehouse>#<k>`/`<seq>` bucket k's ledger: one entry per change of the bucket,
  written in the same transaction, with the deltas and the figures it left.

A bucket holds `onHand`, `reserved`, `safetyStock`, `available` (= onHand - reserved - safetyStock)
and `seq`, the number of ledger entries written for it. Every write of a bucket is conditioned on
its `seq` as read and writes entry `seq + 1`: the ledger's figures are exact, and summing a
location's ledger gives its onHand and reserved.

Units are spread evenly: a count, an adjustment or a settings change rebalances the location, every
bucket keeping what it has reserved and getting an even share of the rest and of the safety stock.
Then every bucket's `available` has the sign of the location's, so what the buckets can give
(each down to 0, by a condition) is exactly what the location can: max(0, onHand - reserved -
safetyStock). A release into a location below its safety stock rebalances it too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal.dynamo import plain, table

LOCATION_PREFIX = "LOC#"
SETTINGS_SK = "SETTINGS"
SEQ_DIGITS = 12


class ChangeKind(StrEnum):
    """What changed a bucket: the ledger's `kind`."""

    COUNT = "COUNT"  # PUT of onHand (and safety stock)
    ADJUSTMENT = "ADJUSTMENT"
    IMPORT = "IMPORT"
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    COMMIT = "COMMIT"  # shipped: the units left the building
    REBALANCE = "REBALANCE"  # units moved between a location's buckets (settings changed)
    RECONCILE = "RECONCILE"
    RETURN = "RETURN"  # resellable units a customer sent back, on hand again
    RETURN_DAMAGED = "RETURN_DAMAGED"  # units sent back damaged: recorded, not restocked (no deltas)


@dataclass(frozen=True)
class Why:
    """Who or what made a change, why, and for which order or reference: copied to every ledger
    entry the change writes."""

    kind: ChangeKind
    actor: str
    reason: str | None = None
    orderId: str | None = None
    fulfillmentId: str | None = None
    reference: str | None = None
    note: str | None = None

    def fields(self) -> dict[str, str]:
        given = {
            "kind": self.kind.value,
            "actor": self.actor,
            "reason": self.reason,
            "orderId": self.orderId,
            "fulfillmentId": self.fulfillmentId,
            "reference": self.reference,
            "note": self.note,
        }
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True)
class Bucket:
    """One stock item as read; `seq` 0 means it does not exist yet."""

    sku: str
    warehouse_id: str
    index: int
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    seq: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.safety_stock

    def key(self) -> dict[str, str]:
        return bucket_key(self.sku, self.warehouse_id, self.index)

    def ledger_pk(self) -> str:
        return ledger_pk(self.sku, self.warehouse_id, self.index)


@dataclass(frozen=True)
class Location:
    """A SKU's stock in one warehouse: its buckets, index order."""

    sku: str
    warehouse_id: str
    buckets: tuple[Bucket, ...]

    @property
    def on_hand(self) -> int:
        return sum(b.on_hand for b in self.buckets)

    @property
    def reserved(self) -> int:
        return sum(b.reserved for b in self.buckets)

    @property
    def safety_stock(self) -> int:
        return sum(b.safety_stock for b in self.buckets)

    @property
    def available(self) -> int:
        """What can be promised: what the buckets can give, each down to 0."""
        return sum(max(0, b.available) for b in self.buckets)

    @property
    def exists(self) -> bool:
        return any(b.seq for b in self.buckets)

    def bucket(self, index: int) -> Bucket:
        return next(b for b in self.buckets if b.index == index)


def _name() -> str:
    return config.inventory_table()


def bucket_key(sku: str, warehouse_id: str, index: int) -> dict[str, str]:
    suffix = f"#{index}" if index else ""
    return {"pk": f"SKU#{sku}", "sk": f"{LOCATION_PREFIX}{warehouse_id}{suffix}"}


def ledger_pk(sku: str, warehouse_id: str, index: int) -> str:
    return f"LEDGER#{sku}#{warehouse_id}#{index}"


def seq_key(seq: int) -> str:
    return str(seq).zfill(SEQ_DIGITS)


def bucket_of(item: dict[str, Any]) -> Bucket:
    return Bucket(
        sku=item["sku"],
        warehouse_id=item["warehouseId"],
        index=int(item.get("bucket", 0)),
        on_hand=int(item["onHand"]),
        reserved=int(item["reserved"]),
        safety_stock=int(item.get("safetyStock", 0)),
        seq=int(item.get("seq", 0)),
    )


def locations_of_items(items: list[dict[str, Any]]) -> list[Location]:
    """Bucket items grouped into locations, in warehouse order."""
    grouped: dict[tuple[str, str], list[Bucket]] = {}
    for item in items:
        bucket = bucket_of(item)
        grouped.setdefault((bucket.sku, bucket.warehouse_id), []).append(bucket)
    return [
        Location(sku, warehouse_id, tuple(sorted(buckets, key=lambda b: b.index)))
        for (sku, warehouse_id), buckets in sorted(grouped.items())
    ]


def locations(sku: str) -> list[Location]:
    """Every location of a SKU, as read now (one strongly consistent Query)."""
    page = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"SKU#{sku}") & Key("sk").begins_with(LOCATION_PREFIX),
        ConsistentRead=True,
    )
    return locations_of_items([plain(item) for item in page["Items"]])


def location_and_buckets(sku: str, warehouse_id: str) -> tuple[Location, int]:
    """One location as read now (empty buckets if it was never stocked) and the SKU's bucket
    count, from one Query of the SKU's partition (its buckets and its settings)."""
    page = table(_name()).query(KeyConditionExpression=Key("pk").eq(f"SKU#{sku}"), ConsistentRead=True)
    items = [plain(item) for item in page["Items"]]
    settings = [item for item in items if item["sk"] == SETTINGS_SK]
    count = int(settings[0]["buckets"]) if settings else 1
    stocked = [item for item in items if item["sk"].startswith(LOCATION_PREFIX)]
    for found in locations_of_items(stocked):
        if found.warehouse_id == warehouse_id:
            return found, count
    return Location(sku, warehouse_id, tuple(Bucket(sku, warehouse_id, i) for i in range(count))), count


def location(sku: str, warehouse_id: str) -> Location:
    """One location as read now (empty buckets if it was never stocked)."""
    return location_and_buckets(sku, warehouse_id)[0]


# -- settings --------------------------------------------------------------------------------------


def put_settings(sku: str, buckets: int, low_stock_threshold: int, at: str) -> None:
    item = {
        "pk": f"SKU#{sku}",
        "sk": SETTINGS_SK,
        "sku": sku,
        "buckets": buckets,
        "lowStockThreshold": low_stock_threshold,
        "updatedAt": at,
    }
    table(_name()).put_item(Item=item)


# -- figures after a change --------------------------------------------------------------------------


def _shares(total: int, count: int) -> list[int]:
    """`total` split over `count` as evenly as whole units allow, the larger shares first."""
    base, extra = divmod(total, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def balanced(found: Location, on_hand: int, safety_stock: int, count: int) -> Location:
    """The location with `on_hand` and `safety_stock` in total, spread over `count` buckets (more
    if buckets beyond `count` still hold reservations): each keeps its reservations and gets an even
    share of the unreserved units and of the safety stock. Requires on_hand >= reserved."""
    existing = {b.index: b for b in found.buckets}
    indexes = sorted(set(range(count)) | {i for i, b in existing.items() if b.reserved})
    spread = range(count)
    unreserved = _shares(on_hand - found.reserved, count)
    safety = _shares(safety_stock, count)
    buckets = []
    for index in indexes:
        before = existing.get(index, Bucket(found.sku, found.warehouse_id, index))
        free = unreserved[index] if index in spread else 0
        held_back = safety[index] if index in spread else 0
        buckets.append(replace(before, on_hand=before.reserved + free, safety_stock=held_back))
    buckets += [replace(b, on_hand=0, safety_stock=0) for i, b in existing.items() if i not in indexes]
    return Location(found.sku, found.warehouse_id, tuple(sorted(buckets, key=lambda b: b.index)))


def mixed(found: Location) -> bool:
    """Some bucket can give units while another is below its safety share: the location would
    promise more than it has beyond its safety stock."""
    return any(b.available > 0 for b in found.buckets) and any(b.available < 0 for b in found.buckets)


def with_changes(found: Location, changes: dict[int, tuple[int, int]]) -> Location:
    """The location after adding (onHand, reserved) deltas to some buckets, rebalanced if that
    left it mixed."""
    buckets = tuple(
        replace(b, on_hand=b.on_hand + changes[b.index][0], reserved=b.reserved + changes[b.index][1])
        if b.index in changes
        else b
        for b in found.buckets
    )
    after = Location(found.sku, found.warehouse_id, buckets)
    if mixed(after):
        return balanced(after, after.on_hand, after.safety_stock, len(after.buckets))
    return after


# -- writes ------------------------------------------------------------------------------------------


def write_actions(before: Location, after: Location, why: Why, at: str) -> list[dict[str, Any]]:
    """Per bucket that changed: its update, conditioned on its `seq` as read, and its ledger entry.
    Figures are set as computed from the read, so the entry's figures are the bucket's."""
    actions: list[dict[str, Any]] = []
    old = {b.index: b for b in before.buckets}
    for bucket in after.buckets:
        was = old.get(bucket.index, Bucket(bucket.sku, bucket.warehouse_id, bucket.index))
        if (bucket.on_hand, bucket.reserved, bucket.safety_stock) == (
            was.on_hand,
            was.reserved,
            was.safety_stock,
        ) and (was.seq or bucket.index):
            continue  # unchanged (bucket 0 of a new location is written even at zero: it is stocked)
        if bucket.reserved < 0 or bucket.on_hand < bucket.reserved:
            raise ValueError(
                f"bucket {bucket.key()} would hold {bucket.on_hand} with {bucket.reserved} reserved"
            )
        actions += bucket_actions(was, bucket, why, at)
    return actions


def bucket_actions(
    was: Bucket, now: Bucket, why: Why, at: str, condition_seq: int | None = None
) -> list[dict[str, Any]]:
    """The bucket's update to `now` and its ledger entry number `was.seq + 1`. The update is
    conditioned on the bucket's seq being `was.seq` (or `condition_seq`, when reconciling a bucket
    whose seq and ledger disagree), or on the bucket not existing for a new one."""
    seq = was.seq + 1
    values: dict[str, Any] = {
        ":onHand": now.on_hand,
        ":reserved": now.reserved,
        ":safety": now.safety_stock,
        ":available": now.available,
        ":seq": seq,
        ":sku": now.sku,
        ":wh": now.warehouse_id,
        ":bucket": now.index,
        ":at": at,
    }
    expected = was.seq if condition_seq is None else condition_seq
    if expected:
        condition = "seq = :was"
        values[":was"] = expected
    elif condition_seq is None:
        condition = "attribute_not_exists(pk)"
    else:
        condition = "attribute_not_exists(seq)"
    update = {
        "Update": {
            "TableName": _name(),
            "Key": now.key(),
            "UpdateExpression": (
                "SET onHand = :onHand, reserved = :reserved, safetyStock = :safety, available = :available, "
                "seq = :seq, sku = :sku, warehouseId = :wh, #bucket = :bucket, updatedAt = :at"
            ),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#bucket": "bucket"},  # a reserved word
            "ExpressionAttributeValues": values,
        }
    }
    entry = {
        "pk": now.ledger_pk(),
        "sk": seq_key(seq),
        "sku": now.sku,
        "warehouseId": now.warehouse_id,
        "bucket": now.index,
        "seq": seq,
        "at": at,
        **why.fields(),
        "onHandDelta": now.on_hand - was.on_hand,
        "reservedDelta": now.reserved - was.reserved,
        "safetyStockDelta": now.safety_stock - was.safety_stock,
        "onHand": now.on_hand,
        "reserved": now.reserved,
        "safetyStock": now.safety_stock,
        "available": now.available,
    }
    put = {"Put": {"TableName": _name(), "Item": entry, "ConditionExpression": "attribute_not_exists(pk)"}}
    return [update, put]


def ledger_items(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledger entries among a transaction's actions, as written."""
    return [a["Put"]["Item"] for a in actions if "Put" in a and a["Put"]["Item"]["pk"].startswith("LEDGER#")]
