"""POST /orders/{id}/cancel: stop what has not shipped, and let the workflow give the stock back.

Before anything shipped the whole order is cancelled. After part of it shipped only the unshipped
fulfillments are: the order goes on for what shipped, and the timeline says what was cancelled.
"""

from __future__ import annotations

from typing import Any

from shared import workflow
from shared.clock import now_iso
from shared.dal import backorders, fulfillments, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import Conflict
from shared.logic.fulfillment import statuses_after, timeline_label
from shared.models.order import (
    ORDER_TRANSITIONS,
    UNSHIPPED_FULFILLMENT,
    FulfillmentStatus,
    OrderStatus,
    OrderView,
    derive_order_status,
)
from shared.observability import count, logger

CANCEL_REASON = "cancelled on request"
ATTEMPTS = 3
Item = dict[str, Any]


def cancel(order_id: str, reason: str | None = None) -> OrderView:
    for _ in range(ATTEMPTS):
        read = orders.snapshot(order_id)
        if read.order.status is OrderStatus.CANCELLED:
            return orders.view(order_id)
        _refuse_if_too_late(read)
        unshipped = _unshipped(read)
        try:
            transact(_cancel_actions(read, unshipped, reason or CANCEL_REASON))
        except TransactionConflict:
            continue  # a fulfillment or the order moved on meanwhile (e.g. one just shipped): read again
        count("OrderCancelled" if len(unshipped) == len(read.fulfillments) else "OrderPartiallyCancelled")
        _stop_waiting_workflow(order_id, {item["fulfillmentId"] for item in unshipped})
        _stop_waiting_for_stock(read)
        return orders.view(order_id)
    raise Conflict(f"order {order_id} kept changing while cancelling; retry")


def cancellable(order_id: str) -> bool:
    """Whether a cancellation could still change the order (it failed only because of a race)."""
    return _refusal(orders.snapshot(order_id)) is None


def _unshipped(read: orders.Snapshot) -> list[Item]:
    return [f for f in read.fulfillments if FulfillmentStatus(f["status"]) in UNSHIPPED_FULFILLMENT]


def _refuse_if_too_late(read: orders.Snapshot) -> None:
    refusal = _refusal(read)
    if refusal is not None:
        raise refusal


def _refusal(read: orders.Snapshot) -> Conflict | None:
    """Why the order cannot be cancelled any more, if it cannot: nothing is left unshipped, or it
    ended before any fulfillment existed."""
    order_id, status = read.order.orderId, read.order.status
    if read.fulfillments and not _unshipped(read):
        return Conflict(
            f"order {order_id} is {status.value}; nothing is left to cancel, start a return instead",
            {"orderId": order_id, "status": status.value, "next": "return"},
        )
    if OrderStatus.CANCELLED not in ORDER_TRANSITIONS[status] and not read.fulfillments:
        return Conflict(
            f"order {order_id} already ended as {status.value}",
            {"orderId": order_id, "status": status.value},
        )
    return None


def _cancel_actions(read: orders.Snapshot, unshipped: list[Item], reason: str) -> list[dict[str, Any]]:
    at = now_iso()
    cancelled = {item["fulfillmentId"]: FulfillmentStatus.CANCELLED for item in unshipped}
    target = (
        derive_order_status(statuses_after(read, cancelled)) if read.fulfillments else OrderStatus.CANCELLED
    )
    if target is not OrderStatus.CANCELLED:
        reason += ": " + "; ".join(_describe(item) for item in unshipped) + "; the rest ships as planned"
    label = timeline_label(FulfillmentStatus.CANCELLED)
    return [
        *orders.advance_actions(read, target, label, reason, at),
        *(fulfillments.cancel_action(item, at) for item in unshipped),
        *backorders.forget_actions(
            read.order.orderId, read.order.backorder if not read.fulfillments else None
        ),
    ]


def _describe(item: Item) -> str:
    lines = ", ".join(f"{line['sku']} x{line['quantity']}" for line in item["lines"])
    return f"fulfillment {item['fulfillmentId']} from {item['warehouseId']} cancelled ({lines})"


def _stop_waiting_for_stock(read: orders.Snapshot) -> None:
    """A backordered order's workflow waits for a restock: fail that task, so it ends CANCELLED.
    (Its registrations went in the cancellation's transaction, so no restock can wake it now.)"""
    if read.order.status is not OrderStatus.BACKORDERED:
        return
    token = orders.restock_token(read.order.orderId)
    if token:
        workflow.fail(token, "OrderCancelled", f"order {read.order.orderId} was cancelled while backordered")


def _stop_waiting_workflow(order_id: str, cancelled: set[str]) -> None:
    """Fail the task the workflow parked on each cancelled fulfillment, so it releases that
    fulfillment's stock. Read after our write: a token parked before the cancellation is seen here;
    a step that parks after it sees CANCELLED and ends that fulfillment's branch itself."""
    for item in fulfillments.of_order(order_id):
        token = item.get("waitToken")
        if token and item["fulfillmentId"] in cancelled:
            workflow.fail(token, "OrderCancelled", f"fulfillment {item['fulfillmentId']} was cancelled")
            logger.info("waiting workflow told to cancel", extra={"fulfillment_id": item["fulfillmentId"]})
