"""Warehouse and carrier progress of each fulfillment, and the workflow tasks that wait for it.

The workflow waits on every fulfillment of an order at once (a Map state): for each it parks a task
token on the fulfillment (AwaitEvent); a callback (FulfillmentEvents) changes the fulfillment, the
order's derived status and the stock in one transaction and then resumes that token. Both sides
write with conditions on what they read (the fulfillment's status and token, the order's status
and revision), so whichever comes first, the other sees it: a DELIVERED report that beats the
workflow to AwaitDelivery is not lost, and two fulfillments shipping at once never leave the order
PARTIALLY_SHIPPED.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, field_validator

from shared import workflow
from shared.clock import iso, now_iso
from shared.dal import fulfillments, orders
from shared.dal.dynamo import TransactionConflict, pause_before_retry, transact
from shared.errors import InvalidTransition, NotFound, OrderCancelled, TransientError
from shared.ids import order_id_of_fulfillment
from shared.models.base import Model
from shared.models.order import (
    FULFILLMENT_PHASE,
    FULFILLMENT_TRANSITIONS,
    SHIPPED_FULFILLMENT,
    UNSHIPPED_FULFILLMENT,
    Fulfillment,
    FulfillmentStatus,
    OrderStatus,
    derive_order_status,
)
from shared.models.steps import FulfillmentReport, ParkedResult, StepOutcome
from shared.observability import count, logger

# Another fulfillment of the order, or the workflow's token, may change between our read and our
# write (e.g. DELIVERED reported right after SHIPPED, while the workflow moves to AwaitDelivery):
# read again and retry.
EVENT_ATTEMPTS = 8

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Item = dict[str, Any]


class FulfillmentEventIn(Model):
    model_config = ConfigDict(extra="forbid")
    type: Literal["PICKED", "PACKED", "SHIPPED", "DELIVERED"]
    carrier: ShortText | None = None
    trackingNumber: ShortText | None = None
    occurredAt: AwareDatetime | None = Field(
        default=None,
        description="When it happened, as the carrier or warehouse saw it (with its UTC offset); "
        "omitted or later than now (a clock ahead): now. A DELIVERED event's time starts the return "
        "window of what it carried",
    )

    @field_validator("occurredAt", mode="before")
    @classmethod
    def _a_timestamp_string(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string with its UTC offset")
        return value

    def occurred(self, default: str) -> str:
        """When it happened: the reported time, never later than `default` (when it was recorded)."""
        if self.occurredAt is None:
            return default
        return min(iso(self.occurredAt.astimezone(UTC)), default)


def public(item: Item) -> Fulfillment:
    return Fulfillment.model_validate(item)


def timeline_label(status: FulfillmentStatus) -> str:
    """How a fulfillment's change is named on the order's timeline when the order's status stays:
    as the fulfillment status, prefixed where an order status has the same name."""
    return f"FULFILLMENT_{status.value}" if status.value in OrderStatus.__members__ else status.value


def statuses_after(read: orders.Snapshot, changes: dict[str, FulfillmentStatus]) -> list[FulfillmentStatus]:
    """Every fulfillment's status once `changes` (fulfillment id -> status) are applied."""
    return [
        changes.get(item["fulfillmentId"], FulfillmentStatus(item["status"])) for item in read.fulfillments
    ]


def change_actions(
    read: orders.Snapshot,
    item: Item,
    target: FulfillmentStatus,
    reason: str,
    at: str,
    *,
    sets: dict[str, Any] | None = None,
    removes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Move one fulfillment to `target` and the order to the status that follows from it. A failed
    fulfillment keeps its reason; an order that ends FAILED says which of its parts failed and why."""
    sets = dict(sets or {})
    if target is FulfillmentStatus.FAILED:
        sets["statusReason"] = reason
    order_status = derive_order_status(statuses_after(read, {item["fulfillmentId"]: target}))
    order_reason = reason
    if order_status is OrderStatus.FAILED and target is not FulfillmentStatus.FAILED:
        order_reason = "; ".join([*_failures(read), reason])
    return [
        fulfillments.advance_action(item, target, at, sets=sets, removes=removes or []),
        *orders.advance_actions(read, order_status, timeline_label(target), order_reason, at),
    ]


def _failures(read: orders.Snapshot) -> list[str]:
    return [
        str(f.get("statusReason") or f"fulfillment {f['fulfillmentId']} failed")
        for f in read.fulfillments
        if f["status"] == FulfillmentStatus.FAILED.value
    ]


def _find(read: orders.Snapshot, fulfillment_id: str) -> Item:
    item = next((f for f in read.fulfillments if f["fulfillmentId"] == fulfillment_id), None)
    if item is None:
        raise NotFound(f"fulfillment {fulfillment_id} does not exist")
    return item


def _read(fulfillment_id: str) -> tuple[orders.Snapshot, Item]:
    order_id = order_id_of_fulfillment(fulfillment_id)
    if order_id is None:
        raise NotFound(f"fulfillment {fulfillment_id} does not exist")
    try:
        read = orders.snapshot(order_id)
    except NotFound as missing:
        raise NotFound(f"fulfillment {fulfillment_id} does not exist") from missing
    return read, _find(read, fulfillment_id)


def apply_event(fulfillment_id: str, event: FulfillmentEventIn) -> Fulfillment:
    """Record a warehouse/carrier event; a repeat of the current status is accepted as a retry."""
    for attempt in range(EVENT_ATTEMPTS):
        read, item = _read(fulfillment_id)
        current, target = FulfillmentStatus(item["status"]), FulfillmentStatus(event.type)
        if current is target:
            return _repeated(item, event)
        if target not in FULFILLMENT_TRANSITIONS[current]:
            raise InvalidTransition(
                f"fulfillment {fulfillment_id} is {current.value}; {target.value} cannot follow",
                {"fulfillmentId": fulfillment_id, "status": current.value, "requested": target.value},
            )
        if read.order.status not in FULFILLMENT_PHASE:
            raise _order_conflict(read, target)
        try:
            at = _commit_event(read, item, target, event)
        except TransactionConflict:
            pause_before_retry(attempt)
            continue
        _resume_workflow(item, target, event)
        count(f"Fulfillment{target.value.title()}")
        return _after_event(item, target, event, at)
    raise InvalidTransition(f"fulfillment {fulfillment_id} changed concurrently; retry the event")


def _after_event(item: Item, target: FulfillmentStatus, event: FulfillmentEventIn, at: str) -> Fulfillment:
    """The fulfillment as the transaction left it (no second read)."""
    changes = {
        "status": target.value,
        "updatedAt": at,
        **event.model_dump(exclude_none=True, exclude={"type", "occurredAt"}),
    }
    if target is FulfillmentStatus.SHIPPED:
        changes["shippedAt"] = event.occurred(at)
    if target is FulfillmentStatus.DELIVERED:
        changes["deliveredAt"] = event.occurred(at)
    return public({**item, **changes})


def _commit_event(
    read: orders.Snapshot, item: Item, target: FulfillmentStatus, event: FulfillmentEventIn
) -> str:
    at = now_iso()
    sets: dict[str, Any] = {
        k: v for k, v in (("carrier", event.carrier), ("trackingNumber", event.trackingNumber)) if v
    }
    if target is FulfillmentStatus.SHIPPED:
        sets["shippedAt"] = event.occurred(at)
    if target is FulfillmentStatus.DELIVERED:
        sets["deliveredAt"] = event.occurred(at)
    removes = ["waitToken", "awaiting"] if item.get("awaiting") == target.value else []
    actions = change_actions(read, item, target, _reason(item, event), at, sets=sets, removes=removes)
    if target is FulfillmentStatus.SHIPPED:
        # Only a shipment touches stock: AwaitEvent (parking) imports this module and never does.
        from shared.dal import inventory  # noqa: PLC0415

        held = inventory.reservations_of(item["orderId"], item["fulfillmentId"])
        actions += inventory.commit_actions(held, f"warehouse:{item['warehouseId']}")
    if target is FulfillmentStatus.SHIPPED or sets.keys() & {"carrier", "trackingNumber"}:
        actions += _tracking_claims({**item, **sets})
    transact(actions)
    return at


def _tracking_claims(item: Item) -> list[dict[str, Any]]:
    """A shipment with a carrier and tracking number is findable by them (carrier tracking webhooks)."""
    if not (item.get("carrier") and item.get("trackingNumber")):
        return []
    return [
        fulfillments.claim_tracking_action(
            item["orderId"], item["fulfillmentId"], item["carrier"], item["trackingNumber"]
        )
    ]


def _repeated(item: Item, event: FulfillmentEventIn) -> Fulfillment:
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
        timeline = orders.timeline_put(item["orderId"], "TRACKING_CORRECTED", at, reason)
        transact([update, timeline, *_tracking_claims({**item, **corrected})])
    except TransactionConflict as conflict:
        raise InvalidTransition(
            f"fulfillment {item['fulfillmentId']} changed concurrently; retry the event"
        ) from conflict
    count("FulfillmentTrackingCorrected")
    return public({**item, **corrected, "updatedAt": at})


def _tracking_changes(item: Item, event: FulfillmentEventIn) -> dict[str, str]:
    given = {"carrier": event.carrier, "trackingNumber": event.trackingNumber}
    return {name: value for name, value in given.items() if value and value != item.get(name)}


def _reason(item: Item, event: FulfillmentEventIn) -> str:
    via = " ".join(filter(None, [event.carrier, event.trackingNumber]))
    return f"fulfillment {item['fulfillmentId']} {event.type.lower()}" + (f" ({via})" if via else "")


def _order_conflict(read: orders.Snapshot, target: FulfillmentStatus) -> InvalidTransition:
    order = read.order
    return InvalidTransition(
        f"order {order.orderId} is {order.status.value}; its fulfillment cannot become {target.value}",
        {"orderId": order.orderId, "status": order.status.value, "requested": target.value},
    )


def _report(item: Item, status: FulfillmentStatus) -> dict[str, Any]:
    report = FulfillmentReport(
        fulfillmentId=item["fulfillmentId"],
        status=status.value,
        carrier=item.get("carrier"),
        trackingNumber=item.get("trackingNumber"),
    )
    return report.model_dump(exclude_none=True)


def _resume_workflow(item: Item, target: FulfillmentStatus, event: FulfillmentEventIn) -> None:
    token = item.get("waitToken")
    if not token:
        return
    if item.get("awaiting") == target.value:
        workflow.resume(token, _report({**item, **event.model_dump(exclude_none=True)}, target))
    else:
        workflow.heartbeat(token)


# -- the workflow's side -------------------------------------------------------------------------


def _reached(status: FulfillmentStatus, awaiting: FulfillmentStatus) -> bool:
    if awaiting is FulfillmentStatus.SHIPPED:
        return status in SHIPPED_FULFILLMENT
    return status is FulfillmentStatus.DELIVERED


def park(order_id: str, fulfillment_id: str, awaiting: str, task_token: str) -> ParkedResult:
    """Workflow steps AwaitShipment and AwaitDelivery: keep the task token where the callback will
    find it. Awaiting shipment of a PENDING fulfillment also releases it to its warehouse."""
    target = FulfillmentStatus(awaiting)
    for _ in range(EVENT_ATTEMPTS):
        read = orders.snapshot(order_id)
        item = _find(read, fulfillment_id)
        status = FulfillmentStatus(item["status"])
        if status is FulfillmentStatus.CANCELLED:
            raise OrderCancelled(f"fulfillment {fulfillment_id} of order {order_id} was cancelled")
        if _reached(status, target):
            # It got there before we parked: nobody else will resume this token, so we do.
            workflow.resume(task_token, _report(item, target))
            return ParkedResult(outcome=StepOutcome.PARKED)
        if not _may_wait(status, target):
            raise InvalidTransition(
                f"fulfillment {fulfillment_id} is {status.value}; it cannot become {awaiting}"
            )
        try:
            transact(_park_actions(read, item, status, target, task_token))
        except TransactionConflict:
            continue
        return ParkedResult(outcome=StepOutcome.PARKED)
    raise TransientError(f"fulfillment {fulfillment_id} kept changing while parking the workflow")


def _may_wait(status: FulfillmentStatus, awaiting: FulfillmentStatus) -> bool:
    if awaiting is FulfillmentStatus.SHIPPED:
        return status in UNSHIPPED_FULFILLMENT
    return status is FulfillmentStatus.SHIPPED


def _park_actions(
    read: orders.Snapshot, item: Item, status: FulfillmentStatus, awaiting: FulfillmentStatus, token: str
) -> list[dict[str, Any]]:
    if status is not FulfillmentStatus.PENDING:
        return [fulfillments.park_action(item, awaiting.value, token, [status.value])]
    at = now_iso()
    reason = f"fulfillment {item['fulfillmentId']} released to warehouse {item['warehouseId']}"
    requested = FulfillmentStatus.REQUESTED
    order_status = derive_order_status(statuses_after(read, {item["fulfillmentId"]: requested}))
    logger.info("fulfillment released to warehouse", extra={"fulfillment_id": item["fulfillmentId"]})
    return [
        fulfillments.request_action(item, at, token, awaiting=awaiting.value),
        *orders.advance_actions(read, order_status, timeline_label(requested), reason, at),
    ]
