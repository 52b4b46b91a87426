"""Backorders that wake on restock.

A BACKORDERED order's workflow waits at AwaitRestock with a task token registered under each SKU
it is short of. Any stock increase of a SKU (a count, an adjustment, an import, a release) calls
`wake`: the orders waiting for it are read oldest first and each one the SKU's available stock can
fill (in turn, counting what the older ones woken take) is taken off the lists and resumed; its
workflow sources it again, and it proceeds or waits again. The wait is the channel's
`backorders.maxWaitDays`, counted from when the order was first backordered; past it the task times
out and the order is CANCELLED with reason BACKORDER_EXPIRED, holding nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared import workflow
from shared.clock import iso_after, now_iso
from shared.dal import backorders, orders, stock
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, OrderCancelled
from shared.models.order import BackorderWait, Order, OrderStatus
from shared.models.steps import ParkedResult, StepOutcome
from shared.observability import count, logger

EXPIRED = "BACKORDER_EXPIRED"


def available_of(sku: str) -> int:
    return sum(location.available for location in stock.locations(sku))


def park(order_id: str, task_token: str) -> ParkedResult:
    """Workflow step AwaitRestock: register the token under the SKUs the order waits for. Stock
    that arrived between sourcing and now would wake nobody, so the step wakes the order itself if
    any of its SKUs has more available than sourcing saw (only more: equal stock would source the
    same way, and wake it forever)."""
    order = orders.require(order_id)
    if order.status is OrderStatus.CANCELLED:
        raise OrderCancelled(f"order {order_id} was cancelled while backordered")
    if order.status is not OrderStatus.BACKORDERED or order.backorder is None:
        raise InvalidTransition(f"order {order_id} is {order.status.value}; it does not wait for stock")
    wait = order.backorder
    units = order.units_by_sku()
    try:
        transact(backorders.register_actions(order_id, wait, units, task_token, previous=wait))
    except TransactionConflict as conflict:
        raise OrderCancelled(f"order {order_id} stopped waiting while registering") from conflict
    if any(available_of(sku) > wait.seenAvailable.get(sku, 0) for sku in wait.skus):
        first = wait.skus[0]
        _wake(backorders.Waiting(order_id, first, units[first], wait.since, task_token, tuple(wait.skus)))
    return ParkedResult(outcome=StepOutcome.PARKED)


def wake(skus: Iterable[str]) -> int:
    """Resume the orders the new stock of `skus` can fill, oldest first; returns how many."""
    woken = 0
    for sku in sorted(set(skus)):
        waiting = backorders.waiting_for(sku)
        if not waiting:
            continue
        left = available_of(sku)
        for order in waiting:
            if order.quantity > left:
                continue  # a younger order needing fewer units may still fit
            if _wake(order):
                left -= order.quantity
                woken += 1
            if left <= 0:
                break
    return woken


def _wake(waiting: backorders.Waiting) -> bool:
    try:
        transact(backorders.claim_actions(waiting))
    except TransactionConflict:
        return False  # woken by someone else, or no longer waiting
    workflow.resume(waiting.token, {"orderId": waiting.order_id, "restocked": waiting.sku})
    count("BackorderWoken")
    logger.info("backorder woken", extra={"order_id": waiting.order_id, "sku": waiting.sku})
    return True


def expiry_reason(wait: BackorderWait) -> str:
    return f"{EXPIRED}: no stock of {', '.join(wait.skus)} since {wait.since}"


def wait_for(
    order: Order, short: list[str], max_wait_days: int, day_seconds: int, seen: dict[str, int]
) -> BackorderWait:
    """The order's wait: since it was first backordered, until the channel's limit after that."""
    since = order.backorder.since if order.backorder else now_iso()
    until = iso_after(since, max_wait_days * day_seconds)
    skus = short or sorted(order.units_by_sku())
    return BackorderWait(since=since, until=until, skus=skus, seenAvailable={s: seen.get(s, 0) for s in skus})
