"""Warehouse and carrier progress of a fulfillment, and the workflow tasks that wait for it.

The workflow parks a task token on the fulfillment (AwaitEvent); a callback (FulfillmentEvents)
changes the fulfillment, the order and the stock in one transaction and then resumes the token.
Both sides write with conditions on the fulfillment's status, so whichever comes first, the
other sees it: a DELIVERED report that beats the workflow to AwaitDelivery is not lost.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from shared import workflow
from shared.clock import now_iso
from shared.dal import fulfillments, inventory, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, NotFound, OrderCancelled
from shared.ids import order_id_of_fulfillment
from shared.models.order import (
    FULFILLMENT_TRANSITIONS,
    Fulfillment,
    FulfillmentStatus,
    OrderStatus,
)
from shared.models.steps import ParkedResult, StepOutcome
from shared.observability import count, logger

# The workflow may park or move its task token between our read and our write (e.g. DELIVERED
# reported right after SHIPPED, while the workflow moves to AwaitDelivery): read again and retry.
EVENT_ATTEMPTS = 4

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class FulfillmentEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["PICKED", "PACKED", "SHIPPED", "DELIVERED"]
    carrier: ShortText | None = None
    trackingNumber: ShortText | None = None


# The order status a fulfillment event moves the order to (single-fulfillment orders).
ORDER_STATUS_AFTER = {
    FulfillmentStatus.SHIPPED: OrderStatus.SHIPPED,
    FulfillmentStatus.DELIVERED: OrderStatus.DELIVERED,
}


def _find(fulfillment_id: str) -> dict[str, Any]:
    order_id = order_id_of_fulfillment(fulfillment_id)
    item = fulfillments.get_item(order_id, fulfillment_id) if order_id else None
    if item is None:
        raise NotFound(f"fulfillment {fulfillment_id} does not exist")
    return item


def public(item: dict[str, Any]) -> Fulfillment:
    return Fulfillment.model_validate(item)


def apply_event(fulfillment_id: str, event: FulfillmentEventIn) -> Fulfillment:
    """Record a warehouse/carrier event; a repeat of the current status is accepted as a retry."""
    for _ in range(EVENT_ATTEMPTS):
        item = _find(fulfillment_id)
        current, target = FulfillmentStatus(item["status"]), FulfillmentStatus(event.type)
        if current is target:
            return _repeated(item, event)
        if target not in FULFILLMENT_TRANSITIONS[current]:
            raise InvalidTransition(
                f"fulfillment {fulfillment_id} is {current.value}; {target.value} cannot follow",
                {"fulfillmentId": fulfillment_id, "status": current.value, "requested": target.value},
            )
        try:
            at = _commit_event(item, target, event)
        except TransactionConflict as conflict:
            if conflict.failed(0):
                continue
            raise _order_conflict(item, target) from conflict
        _resume_workflow(item, target, event)
        count(f"Fulfillment{target.value.title()}")
        return _after_event(item, target, event, at)
    raise InvalidTransition(f"fulfillment {fulfillment_id} changed concurrently; retry the event")


def _after_event(
    item: dict[str, Any], target: FulfillmentStatus, event: FulfillmentEventIn, at: str
) -> Fulfillment:
    """The fulfillment as the transaction left it (no second read)."""
    changes = {
        "status": target.value,
        "updatedAt": at,
        **event.model_dump(exclude_none=True, exclude={"type"}),
    }
    return public({**item, **changes})


def _commit_event(item: dict[str, Any], target: FulfillmentStatus, event: FulfillmentEventIn) -> str:
    at = now_iso()
    sets = {k: v for k, v in (("carrier", event.carrier), ("trackingNumber", event.trackingNumber)) if v}
    removes = ["waitToken", "awaiting"] if item.get("awaiting") == target.value else []
    actions = [fulfillments.advance_action(item, target, at, sets, removes)]
    order_status = ORDER_STATUS_AFTER.get(target)
    if order_status is not None:
        actions += orders.transition_actions(item["orderId"], order_status, _reason(item, event), at)
    else:
        actions.append(orders.status_check_action(item["orderId"], OrderStatus.FULFILLING))
        actions.append(orders.timeline_put(item["orderId"], target.value, at, _reason(item, event)))
    if target is FulfillmentStatus.SHIPPED:
        actions += inventory.commit_actions(inventory.reservations_of(item["orderId"]))
    transact(actions)
    return at


def _repeated(item: dict[str, Any], event: FulfillmentEventIn) -> Fulfillment:
    """A repeat of the current status is a retry, unless it brings a carrier or tracking number
    that differs from what the fulfillment has: that is a correction, recorded on the timeline."""
    corrected = _tracking_changes(item, event)
    if not corrected:
        return public(item)
    at = now_iso()
    via = " ".join(v for v in (event.carrier, event.trackingNumber) if v)
    reason = f"fulfillment {item['fulfillmentId']} tracking corrected ({via})"
    update = fulfillments.correction_action(item, corrected, at)
    try:
        transact([update, orders.timeline_put(item["orderId"], "TRACKING_CORRECTED", at, reason)])
    except TransactionConflict as conflict:
        raise InvalidTransition(
            f"fulfillment {item['fulfillmentId']} changed concurrently; retry the event"
        ) from conflict
    count("FulfillmentTrackingCorrected")
    return public({**item, **corrected, "updatedAt": at})


def _tracking_changes(item: dict[str, Any], event: FulfillmentEventIn) -> dict[str, str]:
    given = {"carrier": event.carrier, "trackingNumber": event.trackingNumber}
    return {name: value for name, value in given.items() if value and value != item.get(name)}


def _reason(item: dict[str, Any], event: FulfillmentEventIn) -> str:
    via = " ".join(filter(None, [event.carrier, event.trackingNumber]))
    return f"fulfillment {item['fulfillmentId']} {event.type.lower()}" + (f" ({via})" if via else "")


def _order_conflict(item: dict[str, Any], target: FulfillmentStatus) -> InvalidTransition:
    order = orders.require(item["orderId"])
    return InvalidTransition(
        f"order {order.orderId} is {order.status.value}; its fulfillment cannot become {target.value}",
        {"orderId": order.orderId, "status": order.status.value, "requested": target.value},
    )


def _resume_workflow(item: dict[str, Any], target: FulfillmentStatus, event: FulfillmentEventIn) -> None:
    token = item.get("waitToken")
    if not token:
        return
    if item.get("awaiting") == target.value:
        output = {"fulfillmentId": item["fulfillmentId"], "status": target.value}
        output |= event.model_dump(exclude_none=True, exclude={"type"})
        workflow.resume(token, output)
    else:
        workflow.heartbeat(token)


def park(order_id: str, awaiting: str, task_token: str) -> ParkedResult:
    """Workflow step AwaitEvent: keep the task token where the callback will find it."""
    if awaiting == FulfillmentStatus.SHIPPED.value:
        _park_for_shipment(order_id, task_token)
    elif awaiting == FulfillmentStatus.DELIVERED.value:
        _park_for_delivery(order_id, task_token)
    else:
        raise ValueError(f"cannot await {awaiting}")
    return ParkedResult(outcome=StepOutcome.PARKED)


def _only_fulfillment(order_id: str) -> dict[str, Any]:
    items = fulfillments.of_order(order_id)
    if len(items) != 1:
        raise NotFound(f"order {order_id} has {len(items)} fulfillments; expected one")
    return items[0]


def _park_for_shipment(order_id: str, token: str) -> None:
    """Release the fulfillment to the warehouse (order FULFILLING) with the token, in one transaction."""
    item = _only_fulfillment(order_id)
    order = orders.require(order_id)
    if order.status is OrderStatus.FULFILLING:
        # A retry of this step: keep the newest token on the still-unshipped fulfillment.
        in_progress = ["REQUESTED", "PICKED", "PACKED"]
        transact([fulfillments.park_action(item, "SHIPPED", token, in_progress)])
        return
    at = now_iso()
    request = fulfillments.request_action(item, at, token, awaiting="SHIPPED")
    reason = f"released to warehouse {item['warehouseId']}"
    try:
        transact([*orders.transition_actions(order_id, OrderStatus.FULFILLING, reason, at), request])
    except TransactionConflict as conflict:
        if orders.require(order_id).status is OrderStatus.CANCELLED:
            raise OrderCancelled(f"order {order_id} was cancelled before release") from conflict
        raise
    logger.info("fulfillment released to warehouse", extra={"fulfillment_id": item["fulfillmentId"]})


def _park_for_delivery(order_id: str, token: str) -> None:
    item = _only_fulfillment(order_id)
    try:
        transact([fulfillments.park_action(item, "DELIVERED", token, ["SHIPPED"])])
    except TransactionConflict as conflict:
        current = _only_fulfillment(order_id)
        if current["status"] != FulfillmentStatus.DELIVERED.value:
            raise InvalidTransition(f"fulfillment is {current['status']}, not SHIPPED") from conflict
        # Delivered before we parked: nobody else will resume this token, so we do.
        workflow.resume(token, {"fulfillmentId": current["fulfillmentId"], "status": "DELIVERED"})
