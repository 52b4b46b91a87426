"""Reading stock ledgers, newest first, across a SKU's buckets (see `shared/dal/stock.py`).

Each bucket has its own ledger partition, so a page merges them: it reads up to `limit` entries
from each partition below where the cursor left it, keeps the newest `limit`, and the cursor records
per partition the lowest entry number returned. Entries written later than the first page are not
in later pages (they are newer than the page being read).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal import stock
from shared.dal.dynamo import invalid_cursor, plain, table
from shared.dal.stock import Location


@dataclass(frozen=True)
class LedgerRead:
    entries: list[dict[str, Any]]
    cursor: str | None


def _partition(warehouse_id: str, index: int) -> str:
    return f"{warehouse_id}#{index}"


def _encode(scope: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(scope, sort_keys=True).encode()).decode().rstrip("=")


def _decode(cursor: str, sku: str, warehouse_id: str | None, known: set[str]) -> dict[str, int]:
    try:
        scope = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(scope, dict) or set(scope) != {"sku", "warehouseId", "below"}:
        raise invalid_cursor()
    below = scope["below"]
    if scope["sku"] != sku or scope["warehouseId"] != warehouse_id or not isinstance(below, dict):
        raise invalid_cursor()
    if not set(below) <= known or not all(type(v) is int and v > 1 for v in below.values()):
        raise invalid_cursor()
    return below


def page(
    sku: str, warehouse_id: str | None, located: list[Location], limit: int, cursor: str | None
) -> LedgerRead:
    """Up to `limit` entries of the SKU's ledger (one warehouse's, if given), newest first."""
    buckets = [
        b for loc in located for b in loc.buckets if b.seq and warehouse_id in (None, loc.warehouse_id)
    ]
    tops = {_partition(b.warehouse_id, b.index): b.seq + 1 for b in buckets}
    below = _decode(cursor, sku, warehouse_id, set(tops)) if cursor else tops
    found: dict[str, list[dict[str, Any]]] = {}
    for partition, upper in below.items():
        warehouse, index = partition.rsplit("#", 1)
        reply = table(config.inventory_table()).query(
            KeyConditionExpression=Key("pk").eq(stock.ledger_pk(sku, warehouse, int(index)))
            & Key("sk").lt(stock.seq_key(upper)),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        found[partition] = [plain(item) for item in reply["Items"]]
    returned = _newest(found, limit)
    remaining = dict(below)
    for entry in returned:
        remaining[_partition(entry["warehouseId"], int(entry["bucket"]))] = int(entry["seq"])
    remaining = {partition: seq for partition, seq in remaining.items() if seq > 1}
    next_cursor = (
        _encode({"sku": sku, "warehouseId": warehouse_id, "below": remaining}) if remaining else None
    )
    return LedgerRead(returned, next_cursor)


def _newest(found: dict[str, list[dict[str, Any]]], limit: int) -> list[dict[str, Any]]:
    """Merge partitions (each newest first by its own entry numbers) by time: within a partition
    the order is always its numbers', so the cursor's "below this number" loses nothing."""
    heads = [(-_time_order(entries[0]), partition, 0) for partition, entries in found.items() if entries]
    heapq.heapify(heads)
    merged: list[dict[str, Any]] = []
    while heads and len(merged) < limit:
        _, partition, position = heapq.heappop(heads)
        merged.append(found[partition][position])
        if position + 1 < len(found[partition]):
            heapq.heappush(heads, (-_time_order(found[partition][position + 1]), partition, position + 1))
    return merged


def _time_order(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["at"]).timestamp()
