"""Workflow steps AcceptOrder, ReserveInventory and ConcludeOrder as the order workflow sees them.

Each step returns only when the order goes on along the path most orders take (reserved, then
delivered). Every other outcome is raised as a named error that a Catch in the ASL routes: to the
Rejected or Cancelled end, to the wait for a restock, to the FulfillmentFailed end. That path then
has no Choice state: five billed state transitions for an order shipped in one part
(AcceptOrder, FulfilEachShipment, AwaitShipment, AwaitDelivery, ConcludeOrder).

The cost of this: those outcomes count as function errors in Lambda's own metrics of these three
functions. The OMS's metrics (OrderRejected, OrderBackordered, ...) count them as outcomes."""

from __future__ import annotations

from shared.errors import FulfillmentFailed, OrderBackordered, OrderCancelled, OrderRejected
from shared.logic.compensation import conclude
from shared.logic.reservation import reserve
from shared.logic.validation import validate
from shared.models.steps import ConclusionResult, ReservationResult, StepOutcome, StepResult


def accept(order_id: str) -> ReservationResult:
    """A new order validated, then sourced and reserved, in one step (a retry repeats neither)."""
    validation = validate(order_id)
    if validation.outcome is not StepOutcome.VALID:
        _raise_outcome(order_id, validation)
    return reserve_or_raise(order_id)


def reserve_or_raise(order_id: str) -> ReservationResult:
    """Sourced again after a restock woke it (or first, from `accept`)."""
    reservation = reserve(order_id)
    if reservation.outcome is not StepOutcome.RESERVED:
        _raise_outcome(order_id, reservation)
    return reservation


def conclude_or_raise(order_id: str) -> ConclusionResult:
    conclusion = conclude(order_id)
    if conclusion.outcome is StepOutcome.FAILED:
        raise FulfillmentFailed(conclusion.cause)
    if conclusion.outcome is StepOutcome.CANCELLED:
        raise OrderCancelled(f"order {order_id} was cancelled")
    return conclusion


def _raise_outcome(order_id: str, result: StepResult) -> None:
    if result.outcome is StepOutcome.CANCELLED:
        raise OrderCancelled(f"order {order_id} was cancelled")
    if result.outcome is StepOutcome.BACKORDERED and isinstance(result, ReservationResult):
        raise OrderBackordered(str(result.waitSeconds))
    if result.outcome is StepOutcome.REJECTED:
        raise OrderRejected("; ".join(str(r.get("message", r.get("code", ""))) for r in result.reasons))
    raise ValueError(f"order {order_id}: unexpected step outcome {result.outcome.value}")
