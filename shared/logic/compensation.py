"""Workflow steps that end things: give back what is held, and record how the order ended.

- Compensate (a step outside the fulfillments failed for good): everything the order holds is
  released, its unshipped fulfillments fail with it, and the order is FAILED.
- ReleaseCancelledFulfillment / ReleaseFailedFulfillment (one fulfillment's branch ended early):
  only that fulfillment's stock is released; a failed one is marked FAILED and the order's status
  follows from its fulfillments, so the rest of the order goes on.
- ConcludeOrder (every fulfillment ended): the order's outcome, read from its status.
"""

from __future__ import annotations

from typing import Any

from shared.clock import now_iso
from shared.dal import backorders as backorder_waits_dal
from shared.dal import fulfillments, inventory, orders
from shared.dal.dynamo import TransactionConflict, pause_before_retry, transact
from shared.errors import InvalidTransition, TransientError
from shared.logic import backorders
from shared.logic.fulfillment import change_actions
from shared.models.order import (
    ENDED_FULFILLMENT,
    UNSHIPPED_FULFILLMENT,
    FulfillmentStatus,
    OrderStatus,
)
from shared.models.steps import CompensationResult, ConclusionResult, StepOutcome
from shared.observability import count, logger

MAX_CAUSE_LENGTH = 1000
ATTEMPTS = 8
ACTOR = "workflow:Compensate"


def describe(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown failure"
    cause = str(error.get("Cause") or "")
    return f"{error.get('Error', 'Error')}: {cause}"[:MAX_CAUSE_LENGTH]


def release_reservations(order_id: str, fulfillment_id: str | None = None) -> int:
    """Release what the order (or one of its fulfillments) holds; safe to repeat, since each
    reservation is deleted as it is released."""
    for attempt in range(ATTEMPTS):
        held = inventory.reservations_of(order_id, fulfillment_id)
        if not held:
            return 0
        try:
            transact(inventory.release_actions(held, ACTOR))
        except TransactionConflict:
            pause_before_retry(attempt)  # someone changed that stock or this reservation: read again
            continue
        backorders.wake(r.sku for r in held)
        return sum(r.quantity for r in held)
    raise TransientError(f"reservations of {order_id} kept changing")


def compensate(
    order_id: str, outcome: StepOutcome, error: dict[str, Any] | None, fulfillment_id: str | None = None
) -> CompensationResult:
    if outcome is StepOutcome.EXPIRED:
        return _expire_backorder(order_id)
    if fulfillment_id is not None:
        return _compensate_fulfillment(order_id, fulfillment_id, outcome, error)
    released = release_reservations(order_id)
    if outcome is StepOutcome.FAILED:
        _mark_failed(order_id, describe(error))
    logger.info("compensated", extra={"released_units": released, "outcome": outcome})
    return CompensationResult(outcome=outcome, releasedUnits=released)


def _mark_failed(order_id: str, cause: str) -> None:
    """The order FAILED, with every fulfillment it had not shipped, in one transaction."""
    for attempt in range(ATTEMPTS):
        read = orders.snapshot(order_id)
        at = now_iso()
        unshipped = [f for f in read.fulfillments if FulfillmentStatus(f["status"]) in UNSHIPPED_FULFILLMENT]
        try:
            actions = orders.advance_actions(read, OrderStatus.FAILED, OrderStatus.FAILED.value, cause, at)
        except InvalidTransition as refused:
            # Already ended (e.g. cancelled or failed by an earlier attempt): keep that outcome.
            logger.warning("order not marked FAILED", extra={"reason": refused.message})
            return
        actions += [fulfillments.advance_action(f, FulfillmentStatus.FAILED, at) for f in unshipped]
        try:
            transact(actions)
        except TransactionConflict:
            pause_before_retry(attempt)
            continue
        count("OrderFailed")
        return
    raise TransientError(f"order {order_id} kept changing while marking it FAILED")


def _compensate_fulfillment(
    order_id: str, fulfillment_id: str, outcome: StepOutcome, error: dict[str, Any] | None
) -> CompensationResult:
    failed_with = (
        _fail_fulfillment(order_id, fulfillment_id, describe(error)) if outcome is StepOutcome.FAILED else 0
    )
    released = failed_with + release_reservations(order_id, fulfillment_id)
    logger.info(
        "fulfillment compensated",
        extra={"fulfillment_id": fulfillment_id, "released_units": released, "outcome": outcome},
    )
    return CompensationResult(outcome=outcome, releasedUnits=released, fulfillmentId=fulfillment_id)


def _fail_fulfillment(order_id: str, fulfillment_id: str, cause: str) -> int:
    """Mark one fulfillment FAILED (unless it already ended), the order's status following, and give
    back what it holds, in one transaction: the order never shows the failure with the stock held.
    Returns the units released."""
    for attempt in range(ATTEMPTS):
        read = orders.snapshot(order_id)
        item = next(f for f in read.fulfillments if f["fulfillmentId"] == fulfillment_id)
        if FulfillmentStatus(item["status"]) in ENDED_FULFILLMENT:
            return 0
        reason = f"fulfillment {fulfillment_id} from {item['warehouseId']} failed: {cause}"
        held = inventory.reservations_of(order_id, fulfillment_id)
        actions = change_actions(read, item, FulfillmentStatus.FAILED, reason, now_iso())
        try:
            transact(actions + inventory.release_actions(held, ACTOR))
        except TransactionConflict:
            pause_before_retry(attempt)
            continue
        count("FulfillmentFailed")
        backorders.wake(r.sku for r in held)
        return sum(r.quantity for r in held)
    raise TransientError(f"fulfillment {fulfillment_id} kept changing while marking it FAILED")


def _expire_backorder(order_id: str) -> CompensationResult:
    """The order waited its channel's limit: CANCELLED (BACKORDER_EXPIRED), off every waiting list.
    It holds nothing. An order that stopped waiting meanwhile (cancelled) is left as it is."""
    order = orders.require(order_id)
    if order.status is OrderStatus.BACKORDERED and order.backorder is not None:
        reason = backorders.expiry_reason(order.backorder)
        try:
            transact(
                orders.transition_actions(order_id, OrderStatus.CANCELLED, reason)
                + backorder_waits_dal.forget_actions(order_id, order.backorder)
            )
            count("BackorderExpired")
        except TransactionConflict:
            logger.info("backorder stopped waiting before it expired", extra={"order_id": order_id})
    return CompensationResult(outcome=StepOutcome.CANCELLED, releasedUnits=0)


CONCLUSIONS = {
    OrderStatus.DELIVERED: StepOutcome.DELIVERED,
    OrderStatus.CANCELLED: StepOutcome.CANCELLED,
    OrderStatus.FAILED: StepOutcome.FAILED,
}


def conclude(order_id: str) -> ConclusionResult:
    """Every fulfillment's branch ended: the order's status is its outcome."""
    order = orders.require(order_id)
    outcome = CONCLUSIONS.get(order.status)
    if outcome is None:
        raise InvalidTransition(
            f"order {order_id} is {order.status.value}; its fulfillments have not all ended"
        )
    cause = order.statusReason if outcome is StepOutcome.FAILED else None
    return ConclusionResult(outcome=outcome, cause=cause or "")
