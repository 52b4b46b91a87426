"""Reconcile stock with what explains it, straight from the Inventory table.

For every stock bucket: `reserved` is recomputed from the open reservations (what fulfillments not
shipped yet hold), `onHand`, `reserved` and `safetyStock` from the bucket's ledger (the sum of its
deltas), and `available` from the three. Every difference is a drift. With `fix`, each drifted
bucket gets one RECONCILE entry (reason CORRECTION) in the same transaction as its correction:
- reserved: the reservations are the truth; the bucket is set to them;
- onHand and safety stock: the bucket is what the warehouse works with; the entry's deltas record
  the change nobody ledgered, so the ledger sums to the bucket again;
- available: recomputed.
Writes are conditioned on the bucket's `seq` as read: a bucket that changed during the run is
reported, not overwritten (run again).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from shared import config
from shared.clock import now_iso
from shared.dal import stock
from shared.dal.dynamo import TransactionConflict, plain, table, transact
from shared.dal.stock import Bucket, ChangeKind, Why

ACTOR = "cli:reconcile"


@dataclass
class Sums:
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    entries: int = 0
    last_seq: int = 0


@dataclass(frozen=True)
class Drift:
    bucket: Bucket
    problems: tuple[str, ...]
    reserved_held: int  # what the open reservations hold in this bucket
    ledger: Sums
    available_stored: int

    def describe(self) -> str:
        where = f"{self.bucket.sku} at {self.bucket.warehouse_id}"
        if self.bucket.index:
            where += f" (bucket {self.bucket.index})"
        return f"{where}: " + "; ".join(self.problems)


@dataclass
class Report:
    buckets: int = 0
    drifts: list[Drift] = field(default_factory=list)
    fixed: int = 0
    changed_meanwhile: list[Drift] = field(default_factory=list)


def read_everything() -> tuple[list[tuple[Bucket, int]], dict[tuple[str, str, int], int], dict[str, Sums]]:
    """One pass over the table: buckets (with their stored `available`), units held per bucket,
    and ledger sums per ledger partition."""
    buckets: list[tuple[Bucket, int]] = []
    held: dict[tuple[str, str, int], int] = defaultdict(int)
    ledgers: dict[str, Sums] = defaultdict(Sums)
    request: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table(config.inventory_table()).scan(**request)
        for item in map(plain, page["Items"]):
            _take(item, buckets, held, ledgers)
        if "LastEvaluatedKey" not in page:
            return buckets, held, ledgers
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _take(
    item: dict[str, Any],
    buckets: list[tuple[Bucket, int]],
    held: dict[tuple[str, str, int], int],
    ledgers: dict[str, Sums],
) -> None:
    pk, sk = item["pk"], item["sk"]
    if pk.startswith("SKU#") and sk.startswith(stock.LOCATION_PREFIX):
        buckets.append((stock.bucket_of(item), int(item.get("available", 0))))
    elif pk.startswith("RESERVATION#"):
        for line in item["held"]:
            for index, units in line["buckets"]:
                held[(line["sku"], item["warehouseId"], int(index))] += int(units)
    elif pk.startswith("LEDGER#"):
        sums = ledgers[pk]
        sums.on_hand += int(item["onHandDelta"])
        sums.reserved += int(item["reservedDelta"])
        sums.safety_stock += int(item.get("safetyStockDelta", 0))
        sums.entries += 1
        sums.last_seq = max(sums.last_seq, int(item["seq"]))


def find_drifts() -> Report:
    buckets, held, ledgers = read_everything()
    report = Report(buckets=len(buckets))
    for bucket, available in buckets:
        reserved_held = held.pop((bucket.sku, bucket.warehouse_id, bucket.index), 0)
        ledger = ledgers.get(bucket.ledger_pk(), Sums())
        problems = _problems(bucket, available, reserved_held, ledger)
        if problems:
            report.drifts.append(Drift(bucket, tuple(problems), reserved_held, ledger, available))
    for (sku, warehouse_id, index), units in sorted(held.items()):
        orphan = Bucket(sku, warehouse_id, index)
        problem = f"reservations hold {units} units of a bucket that does not exist"
        report.drifts.append(Drift(orphan, (problem,), units, Sums(), 0))
    return report


def _problems(bucket: Bucket, available: int, reserved_held: int, ledger: Sums) -> list[str]:
    problems = []
    if bucket.reserved != reserved_held:
        problems.append(f"reserved is {bucket.reserved}, open reservations hold {reserved_held}")
    if bucket.on_hand != ledger.on_hand:
        problems.append(f"onHand is {bucket.on_hand}, its ledger sums to {ledger.on_hand}")
    if bucket.reserved != ledger.reserved:
        problems.append(f"reserved is {bucket.reserved}, its ledger sums to {ledger.reserved}")
    if bucket.safety_stock != ledger.safety_stock:
        problems.append(f"safetyStock is {bucket.safety_stock}, its ledger sums to {ledger.safety_stock}")
    if bucket.seq != ledger.last_seq or ledger.entries != ledger.last_seq:
        problems.append(
            f"seq is {bucket.seq}, its ledger has {ledger.entries} entries up to {ledger.last_seq}"
        )
    if available != bucket.available:
        problems.append(f"available is {available}, onHand - reserved - safetyStock is {bucket.available}")
    return problems


def fix(report: Report) -> None:
    for drift in report.drifts:
        if not drift.bucket.seq:
            continue  # reservations of a missing bucket: a person must look (nothing to correct)
        try:
            transact(_correction(drift))
        except TransactionConflict:
            report.changed_meanwhile.append(drift)
            continue
        report.fixed += 1


def _correction(drift: Drift) -> list[dict[str, Any]]:
    """The bucket set to the truth and one entry whose deltas bring the ledger's sums to it."""
    was = drift.bucket
    now = replace(was, reserved=drift.reserved_held)
    if now.on_hand < now.reserved:
        now = replace(now, on_hand=now.reserved)  # never below what orders hold
    seq = max(was.seq, drift.ledger.last_seq)
    as_read = replace(was, seq=seq)
    why = Why(ChangeKind.RECONCILE, ACTOR, reason="CORRECTION", note="; ".join(drift.problems)[:1000])
    update, put = stock.bucket_actions(as_read, now, why, now_iso(), condition_seq=was.seq)
    entry = put["Put"]["Item"]
    entry["onHandDelta"] = now.on_hand - drift.ledger.on_hand
    entry["reservedDelta"] = now.reserved - drift.ledger.reserved
    entry["safetyStockDelta"] = now.safety_stock - drift.ledger.safety_stock
    return [update, put]
