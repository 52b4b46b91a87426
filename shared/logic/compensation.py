"""Workflow step Compensate: give back what an order holds and record how it ended."""

from __future__ import annotations

from typing import Any

from shared.dal import inventory, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, TransientError
from shared.models.order import OrderStatus
from shared.models.steps import CompensationResult, StepOutcome
from shared.observability import count, logger

MAX_CAUSE_LENGTH = 1000


def release_reservations(order_id: str) -> int:
    """Release every reservation of the order; safe to repeat (each is deleted as it is released)."""
    for _ in range(3):
        held = inventory.reservations_of(order_id)
        if not held:
            return 0
        try:
            transact(inventory.release_actions(held))
        except TransactionConflict:
            continue  # someone released or committed part of it meanwhile: read again
        return sum(r.quantity for r in held)
    raise TransientError(f"reservations of {order_id} kept changing")


def describe(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown failure"
    cause = str(error.get("Cause") or "")
    return f"{error.get('Error', 'Error')}: {cause}"[:MAX_CAUSE_LENGTH]


def compensate(order_id: str, outcome: StepOutcome, error: dict[str, Any] | None) -> CompensationResult:
    released = release_reservations(order_id)
    if outcome is StepOutcome.FAILED:
        _mark_failed(order_id, describe(error))
    logger.info("compensated", extra={"released_units": released, "outcome": outcome})
    return CompensationResult(outcome=outcome, releasedUnits=released)


def _mark_failed(order_id: str, cause: str) -> None:
    try:
        orders.transition(order_id, OrderStatus.FAILED, cause)
    except InvalidTransition as refused:
        # Already ended (e.g. cancelled or failed by an earlier attempt): keep that outcome.
        logger.warning("order not marked FAILED", extra={"reason": refused.message})
        return
    count("OrderFailed")
