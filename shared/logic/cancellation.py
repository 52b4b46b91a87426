"""POST /orders/{id}/cancel: stop an order that has not shipped, and let its workflow clean up."""

from __future__ import annotations

from shared import workflow
from shared.clock import now_iso
from shared.dal import fulfillments, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import Conflict
from shared.models.order import (
    ORDER_TRANSITIONS,
    OrderStatus,
    OrderView,
)
from shared.observability import count, logger

SHIPPED_OR_LATER = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
CANCEL_REASON = "cancelled on request"


def cancel(order_id: str, reason: str | None = None) -> OrderView:
    order = orders.require(order_id)
    if order.status is OrderStatus.CANCELLED:
        return orders.view(order_id)
    _refuse_if_too_late(order_id, order.status)
    held = fulfillments.of_order(order_id)
    at = now_iso()
    actions = orders.transition_actions(order_id, OrderStatus.CANCELLED, reason or CANCEL_REASON, at)
    actions += [fulfillments.cancel_action(item, at) for item in held]
    try:
        transact(actions)
    except TransactionConflict as conflict:
        # The order or a fulfillment moved on meanwhile (e.g. it just shipped): say what it is now.
        _refuse_if_too_late(order_id, orders.require(order_id).status)
        raise Conflict(f"order {order_id} changed while cancelling; retry") from conflict
    count("OrderCancelled")
    _stop_waiting_workflow(order_id)
    return orders.view(order_id)


def _refuse_if_too_late(order_id: str, status: OrderStatus) -> None:
    if status in SHIPPED_OR_LATER:
        raise Conflict(
            f"order {order_id} is {status.value}; it can no longer be cancelled, start a return instead",
            {"orderId": order_id, "status": status.value, "next": "return"},
        )
    if status is not OrderStatus.CANCELLED and OrderStatus.CANCELLED not in ORDER_TRANSITIONS[status]:
        raise Conflict(
            f"order {order_id} already ended as {status.value}",
            {"orderId": order_id, "status": status.value},
        )


def _stop_waiting_workflow(order_id: str) -> None:
    """If the workflow is parked on a fulfillment, fail its task so it releases the stock and ends.

    Read after our write: a token parked before the cancellation is seen here; a step that runs
    after it sees CANCELLED and ends the workflow itself.
    """
    for item in fulfillments.of_order(order_id):
        token = item.get("waitToken")
        if token:
            workflow.fail(token, "OrderCancelled", f"order {order_id} was cancelled")
            logger.info("waiting workflow told to cancel", extra={"order_id": order_id})
