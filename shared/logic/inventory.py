"""What the retailer does to stock: counts, adjustments (once per idempotency key), and reading
stock and its ledger."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.clock import now_iso
from shared.dal import inventory, ledger, stock
from shared.dal.stock import ChangeKind, Why
from shared.errors import NotFound, OmsError
from shared.logic import backorders
from shared.logic.once import once_per_key
from shared.models.catalog import InventoryView, StockLevel
from shared.models.inventory import (
    AdjustmentIn,
    AdjustmentResult,
    CountError,
    CountOutcome,
    CountResult,
    CountRow,
    CountsIn,
    CountsResult,
    InventoryBySku,
    LedgerEntry,
    LedgerPage,
    SkuSettings,
    SkuSettingsIn,
)
from shared.observability import count

# An adjustment's key is remembered this long: a client retrying a day later still applies it once.
MAX_SKUS_PER_READ = 100
COUNT_WORKERS = 4


def count_stock(
    sku: str, warehouse_id: str, on_hand: int, safety_stock: int | None, actor: str
) -> StockLevel:
    why = Why(ChangeKind.COUNT, actor, reason="CYCLE_COUNT")
    counted = inventory.count_stock(sku, warehouse_id, on_hand, why, safety_stock).location
    backorders.wake([sku])
    return inventory.level_of(counted)


def set_settings(sku: str, settings: SkuSettingsIn, actor: str) -> SkuSettings:
    """Spread the SKU's stock over `buckets` items per location from now on, and rebalance each
    location now (its reservations stay in their buckets until they ship or are released); keep the
    low-stock threshold the event publisher compares with."""
    buckets = settings.buckets
    stock.put_settings(sku, buckets, settings.lowStockThreshold, now_iso())
    why = Why(ChangeKind.REBALANCE, actor, reason="SETTINGS")
    levels = [
        inventory.level_of(inventory.change_stock(sku, found.warehouse_id, lambda f: f.on_hand, why).location)
        for found in stock.locations(sku)
    ]
    return SkuSettings(
        sku=sku, buckets=buckets, lowStockThreshold=settings.lowStockThreshold, locations=levels
    )


def count_many(request: CountsIn, actor: str) -> CountsResult:
    """Apply absolute counts row by row, each in its own transaction with its ledger entry (kind
    IMPORT, reason CYCLE_COUNT): a row the OMS refuses (an unknown warehouse, a count below what
    is reserved) is reported and the others are applied regardless. Repeating a request is safe:
    a row already applied is UNCHANGED. Rows are applied a few at a time (each waits on DynamoDB)."""
    with ThreadPoolExecutor(max_workers=COUNT_WORKERS) as pool:
        results = list(
            pool.map(
                lambda n: _count_row(n, request.counts[n], request.reference, actor),
                range(len(request.counts)),
            )
        )
        restocked = sorted({r.sku for r in results if r.outcome is CountOutcome.APPLIED})
        list(pool.map(lambda sku: backorders.wake([sku]), restocked))
    tally = Counter(r.outcome for r in results)
    return CountsResult(
        results=results,
        applied=tally[CountOutcome.APPLIED],
        unchanged=tally[CountOutcome.UNCHANGED],
        refused=tally[CountOutcome.REFUSED],
    )


def _count_row(index: int, row: CountRow, reference: str | None, actor: str) -> CountResult:
    why = Why(ChangeKind.IMPORT, actor, reason="CYCLE_COUNT", reference=reference)
    identity = {"index": index, "sku": row.sku, "warehouseId": row.warehouseId}
    try:
        change = inventory.count_stock(row.sku, row.warehouseId, row.onHand, why, row.safetyStock)
    except OmsError as refused:
        error = CountError(code=refused.code, message=refused.message)
        return CountResult(**identity, outcome=CountOutcome.REFUSED, error=error)
    outcome = CountOutcome.APPLIED if change.entries else CountOutcome.UNCHANGED
    return CountResult(**identity, outcome=outcome, location=inventory.level_of(change.location))


def adjust_once(
    sku: str,
    warehouse_id: str,
    idempotency_key: str,
    adjustment: AdjustmentIn,
    *,
    actor: str,
    lambda_context: Any,
) -> tuple[AdjustmentResult, bool]:
    """Apply an adjustment unless one with this key was applied to this location; returns the
    result (the first one's, for a repeat) and whether it was applied now."""
    stored, applied_now = once_per_key(
        "adjustment of this location",
        {"sku": sku, "warehouseId": warehouse_id, "key": idempotency_key},
        ("adjustment", adjustment.model_dump(mode="json")),
        lambda: _adjust(sku, warehouse_id, adjustment, actor).model_dump(mode="json"),
        lambda_context,
    )
    if applied_now and adjustment.delta > 0:
        backorders.wake([sku])
    return AdjustmentResult.model_validate(stored), applied_now


def _adjust(sku: str, warehouse_id: str, adjustment: AdjustmentIn, actor: str) -> AdjustmentResult:
    why = Why(
        ChangeKind.ADJUSTMENT,
        actor,
        reason=adjustment.reason.value,
        reference=adjustment.reference,
        note=adjustment.note,
    )
    change = inventory.adjust_stock(sku, warehouse_id, adjustment.delta, why)
    count("StockAdjusted")
    return AdjustmentResult(
        entries=[LedgerEntry.model_validate(entry) for entry in change.entries],
        location=inventory.level_of(change.location),
    )


def view_of(sku: str) -> InventoryView | None:
    levels = inventory.stock_of(sku)
    if not levels:
        return None
    return InventoryView(
        sku=sku,
        onHand=sum(level.onHand for level in levels),
        reserved=sum(level.reserved for level in levels),
        safetyStock=sum(level.safetyStock for level in levels),
        available=sum(level.available for level in levels),
        locations=levels,
    )


def views_of(skus: list[str]) -> InventoryBySku:
    views = [(sku, view_of(sku)) for sku in skus]
    return InventoryBySku(
        inventory=[view for _, view in views if view is not None],
        unknown=[sku for sku, view in views if view is None],
    )


def ledger_page(sku: str, warehouse_id: str | None, limit: int, cursor: str | None) -> LedgerPage:
    located = stock.locations(sku)
    if warehouse_id is not None and not any(loc.warehouse_id == warehouse_id for loc in located):
        raise NotFound(f"SKU {sku} was never stocked at {warehouse_id}")
    if not located:
        raise NotFound(f"SKU {sku} is not stocked anywhere")
    read = ledger.page(sku, warehouse_id, located, limit, cursor)
    return LedgerPage(
        sku=sku,
        warehouseId=warehouse_id,
        entries=[LedgerEntry.model_validate(entry) for entry in read.entries],
        nextCursor=read.cursor,
    )
