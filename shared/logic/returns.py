"""Return authorization under the channel's policy, the warehouse's receipt, and reading returns.

A return is authorized per SKU against what was delivered: its units are taken from the order's
delivered fulfillments still inside the policy's window (the window counts from each fulfillment's
delivery, so lines delivered on different days have different deadlines), the one closing first
first, less what earlier returns hold. The account item makes that a condition in the database
(`shared/dal/returns.py`). Then the return's own workflow takes over (`shared.logic.return_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared import clock, config, workflow
from shared.dal import channels, inventory, orders, refunds
from shared.dal import returns as returns_dal
from shared.dal.dynamo import TransactionConflict, pause_before_retry, transact
from shared.errors import Conflict, InvalidTransition, NotAllowed, NotFound
from shared.ids import return_id
from shared.logic import refund_amounts
from shared.logic.once import once_per_key
from shared.logic.refund_ledger import already_refunded, refundable_units, terms_of
from shared.models.catalog import ExchangeShips, ReturnPolicy
from shared.models.order import Fulfillment, FulfillmentStatus, Order, OrderStatus
from shared.models.returns import (
    DeliveredUnits,
    ExchangeLine,
    Receipt,
    ReceivedLine,
    Resolution,
    Return,
    ReturnAuthorization,
    ReturnEventIn,
    ReturnIn,
    ReturnLine,
    ReturnStatus,
    ReturnTimelineEntry,
    replacement_worth,
)
from shared.observability import count

AUTHORIZE_ATTEMPTS = 5
NOT_RETURNABLE_ORDER = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED})


@dataclass(frozen=True)
class Delivered:
    """Units of one SKU one fulfillment delivered, with that delivery's return deadline."""

    fulfillment_id: str
    quantity: int
    delivered_at: str
    returnable_until: str


def returnable_until(delivered_at: str, window_days: int) -> str:
    """The last moment of the window's last UTC calendar day: delivered on the 1st with 30 days,
    returnable until the 31st at 23:59:59.999."""
    day = clock.parse(delivered_at).astimezone(UTC).date() + timedelta(days=window_days + 1)
    return clock.iso(datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(milliseconds=1))


def delivered_units(fulfillments: list[Fulfillment], sku: str, window_days: int) -> list[Delivered]:
    found = []
    for f in fulfillments:
        if f.status is not FulfillmentStatus.DELIVERED:
            continue
        units = sum(line.quantity for line in f.lines if line.sku == sku)
        at = f.deliveredAt or f.updatedAt
        if units:
            found.append(Delivered(f.fulfillmentId, units, at, returnable_until(at, window_days)))
    return sorted(found, key=lambda d: (d.returnable_until, d.fulfillment_id))


def _on_its_way(fulfillments: list[Fulfillment], sku: str) -> int:
    live = (FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELLED, FulfillmentStatus.FAILED)
    return sum(
        line.quantity for f in fulfillments if f.status not in live for line in f.lines if line.sku == sku
    )


@dataclass
class Allocation:
    lines: list[ReturnLine]
    units: dict[str, tuple[int, int]]  # account attribute -> (added, the most it may hold before)
    problems: list[dict[str, Any]]


def allocate(
    order: Order,
    fulfillments: list[Fulfillment],
    request: ReturnIn,
    policy: ReturnPolicy,
    account: dict[str, Any],
) -> Allocation:
    """Which delivered units each requested line takes, or why it cannot be returned."""
    now = clock.now_iso()
    ordered = order.units_by_sku()
    allocation = Allocation([], {}, [])
    for line in request.lines:
        delivered = delivered_units(fulfillments, line.sku, policy.windowDays)
        problem = _line_problem(line.sku, ordered, policy, delivered)
        if problem:
            allocation.problems.append(problem)
            continue
        taken = _take(line.sku, line.quantity, delivered, account, now)
        if isinstance(taken, dict):
            allocation.problems.append(_with_units_on_their_way(taken, line.quantity, fulfillments))
            continue
        delivered_by = {d.fulfillment_id: d.quantity for d in delivered}
        for unit in taken:
            attribute = returns_dal.units_attribute(unit.fulfillmentId, line.sku)
            # Held after this return, at most what the fulfillment delivered.
            allocation.units[attribute] = (unit.quantity, delivered_by[unit.fulfillmentId] - unit.quantity)
        allocation.lines.append(
            ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason, delivered=taken)
        )
    return allocation


def _with_units_on_their_way(
    problem: dict[str, Any], quantity: int, fulfillments: list[Fulfillment]
) -> dict[str, Any]:
    """More than delivered, but the rest is still on its way: not delivered yet, rather."""
    on_its_way = _on_its_way(fulfillments, problem["sku"])
    if (
        problem["code"] == "MORE_THAN_DELIVERED"
        and on_its_way
        and quantity <= problem["returnable"] + on_its_way
    ):
        problem = problem | {
            "code": "NOT_DELIVERED",
            "message": f"{problem['sku']}: {on_its_way} unit(s) are not delivered yet; "
            f"{problem['returnable']} can be returned now",
        }
    return problem | {"onItsWay": on_its_way}


def _line_problem(
    sku: str, ordered: dict[str, int], policy: ReturnPolicy, delivered: list[Delivered]
) -> dict[str, Any] | None:
    if sku not in ordered:
        return {"code": "NOT_ON_ORDER", "sku": sku, "message": f"{sku} is not a shipped line of the order"}
    if sku in policy.nonReturnableSkus:
        return {"code": "NON_RETURNABLE", "sku": sku, "message": f"{sku} is not returnable on this channel"}
    if not delivered:
        return {
            "code": "NOT_DELIVERED",
            "sku": sku,
            "message": f"no fulfillment carrying {sku} has been delivered yet",
        }
    return None


def _take(
    sku: str, quantity: int, delivered: list[Delivered], account: dict[str, Any], now: str
) -> list[DeliveredUnits] | dict[str, Any]:
    """Units from the deliveries still in their window, the one closing first first."""
    held = {
        d.fulfillment_id: int(account.get(returns_dal.units_attribute(d.fulfillment_id, sku), 0))
        for d in delivered
    }
    in_window = [d for d in delivered if d.returnable_until >= now]
    free_in_window = sum(d.quantity - held[d.fulfillment_id] for d in in_window)
    free = sum(d.quantity - held[d.fulfillment_id] for d in delivered)
    total = sum(d.quantity for d in delivered)
    if quantity > free:
        return {
            "code": "MORE_THAN_DELIVERED",
            "sku": sku,
            "message": f"{quantity} x {sku} asked; {total} delivered, {total - free} already returned "
            "or in an open return",
            "delivered": total,
            "returnable": free,
        }
    if quantity > free_in_window:
        closed = max(d.returnable_until for d in delivered if d.returnable_until < now)
        return {
            "code": "OUTSIDE_WINDOW",
            "sku": sku,
            "message": f"{sku}: the return window closed at {closed}"
            + (f"; {free_in_window} unit(s) are still returnable" if free_in_window else ""),
            "returnableUntil": closed,
            "returnable": free_in_window,
        }
    taken: list[DeliveredUnits] = []
    left = quantity
    for d in in_window:
        units = min(left, d.quantity - held[d.fulfillment_id])
        if units > 0:
            taken.append(
                DeliveredUnits(
                    fulfillmentId=d.fulfillment_id,
                    quantity=units,
                    deliveredAt=d.delivered_at,
                    returnableUntil=d.returnable_until,
                )
            )
            left -= units
    return taken


# -- authorization, once per Idempotency-Key ----------------------------------------------------------


def authorize_once(
    order_id: str, key: str, request: ReturnIn, lambda_context: Any
) -> tuple[ReturnAuthorization, bool]:
    """Authorize a return unless this key authorized one for this order; returns the answer (the
    first one's, for a repeat) and whether it was authorized now."""
    stored, created_now = once_per_key(
        "return of this order",
        {"orderId": order_id, "key": key},
        ("request", request.model_dump(mode="json")),
        lambda: authorize(order_id, request, key).model_dump(mode="json"),
        lambda_context,
    )
    return ReturnAuthorization.model_validate(stored), created_now


def authorize(order_id: str, request: ReturnIn, key: str) -> ReturnAuthorization:
    for attempt in range(AUTHORIZE_ATTEMPTS):
        view = orders.view(order_id)
        if view.status in NOT_RETURNABLE_ORDER:
            raise NotAllowed(
                f"order {order_id} is {view.status.value}: nothing was delivered to return",
                {"reasons": [{"code": "ORDER_CANCELLED", "message": f"the order is {view.status.value}"}]},
            )
        account, existing = returns_dal.of_order(order_id)
        earlier = next((r for r in existing if r.requestKey == key), None)
        if earlier is not None:  # a retry after the return was stored but before it was answered
            _start(earlier)
            return _authorization(earlier)
        channel = channels.get(view.channelId)
        policy = channel.returns if channel else ReturnPolicy()
        allocation = allocate(view, view.fulfillments, request, policy, account or {})
        if allocation.problems:
            raise NotAllowed(
                "the return is outside the channel's return policy", {"reasons": allocation.problems}
            )
        so_far = int((account or {}).get("returnCount", 0))
        found = _new_return(view, request, allocation, policy, returns_so_far=so_far, key=key)
        try:
            transact(returns_dal.authorize_actions(found, so_far, allocation.units))
        except TransactionConflict:
            pause_before_retry(attempt)
            continue
        count("ReturnAuthorized")
        _start(found)
        return _authorization(found)
    raise Conflict(f"order {order_id}'s returns changed concurrently; retry")


def _new_return(
    order: Order,
    request: ReturnIn,
    allocation: Allocation,
    policy: ReturnPolicy,
    *,
    returns_so_far: int,
    key: str,
) -> Return:
    at = clock.now_iso()
    assert order.currency is not None
    balance = refunds.read_balance(order.orderId)
    already = already_refunded(balance, order, order.currency)
    returned = [
        refund_amounts.ReturnedUnits(line.sku, line.quantity, "RESELLABLE") for line in allocation.lines
    ]
    expected = refund_amounts.quote(
        order, refundable_units(order, returned, already), terms_of(policy, order), already
    )
    timings = config.return_timings()
    refund, due = _exchange_difference(request, expected.total)
    found = Return(
        returnId=return_id(order.orderId, returns_so_far + 1),
        orderId=order.orderId,
        channelId=order.channelId,
        status=ReturnStatus.AUTHORIZED,
        resolution=request.resolution,
        requestedResolution=request.resolution,
        lines=allocation.lines,
        exchangeLines=[ExchangeLine.model_validate(x.model_dump()) for x in request.exchangeLines or []]
        or None,
        policy=policy,
        deadline=clock.iso_after(at, timings["receiptTimeoutSeconds"]),
        currency=order.currency,
        expectedRefund=refund if refund is not None else expected.total,
        balanceDue=due,
        requestKey=key,
        timeline=[
            ReturnTimelineEntry(
                status=ReturnStatus.AUTHORIZED.value,
                at=at,
                reason=", ".join(f"{line.quantity} x {line.sku}" for line in allocation.lines),
            )
        ],
        createdAt=at,
        updatedAt=at,
    )
    return found


def _exchange_difference(request: ReturnIn, returned: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """For an exchange: (the refund, the balance due). The returned goods pay for the replacement;
    a replacement without prices is worth what comes back (an even exchange)."""
    if request.resolution is Resolution.REFUND:
        return None, None
    worth = replacement_worth(request.exchangeLines)
    if worth is None:
        return Decimal("0"), None
    return max(Decimal("0"), returned - worth), (worth - returned if worth > returned else None)


def _start(found: Return) -> None:
    at_once = (
        found.requestedResolution is Resolution.EXCHANGE
        and found.policy.exchangeShips is ExchangeShips.IMMEDIATELY
    )
    workflow.start_return(
        found.returnId,
        {"returnId": found.returnId, "orderId": found.orderId, "shipExchangeAtOnce": at_once},
    )


def _authorization(found: Return) -> ReturnAuthorization:
    return ReturnAuthorization(
        returnId=found.returnId,
        status=found.status,
        deadline=found.deadline,
        expectedRefund=found.expectedRefund,
        balanceDue=found.balanceDue,
        currency=found.currency,
        lines=found.lines,
    )


# -- the warehouse's receipt ---------------------------------------------------------------------------


def receive(return_id: str, event: ReturnEventIn) -> Return:
    """Record what came back. Once: a second RECEIVED is 409 and changes nothing.

    The write is conditioned on the workflow's token as read (none, or the one parked): if the
    workflow parks in between, the write fails and is made again with the token, which is then
    resumed; if the receipt lands first, parking sees it and resumes itself."""
    for _ in range(AUTHORIZE_ATTEMPTS):
        item = returns_dal.require_item(return_id)
        found = Return.model_validate(item)
        if found.status is not ReturnStatus.AUTHORIZED:
            raise _received_already(return_id, found.status)
        problems = _receipt_problems(found, event)
        if problems:
            raise NotAllowed("the receipt does not match the return", {"reasons": problems})
        if not inventory.warehouse_exists(event.warehouseId):
            raise NotFound(f"warehouse {event.warehouseId} does not exist")
        token = item.get("waitToken")
        at = clock.now_iso()
        try:
            transact([_receipt_action(item, found, event, token, at)])
        except TransactionConflict:
            continue
        count("ReturnReceived")
        if token:
            workflow.resume(str(token), {"returnId": return_id, "receivedAt": at})
        return returns_dal.require(return_id)
    raise Conflict(f"return {return_id} changed concurrently; retry")


def _received_already(return_id: str, status: ReturnStatus) -> InvalidTransition:
    return InvalidTransition(
        f"return {return_id} is {status.value}; it cannot be received again",
        {"returnId": return_id, "status": status.value, "requested": "RECEIVED"},
    )


def _receipt_action(
    item: dict[str, Any], found: Return, event: ReturnEventIn, token: Any, at: str
) -> dict[str, Any]:
    receipt = Receipt(
        warehouseId=event.warehouseId,
        lines=[ReceivedLine.model_validate(line.model_dump()) for line in event.lines],
        receivedAt=at,
    )
    received = sum(line.quantity for line in receipt.lines)
    reason = f"{received} of {sum(line.quantity for line in found.lines)} unit(s) at {event.warehouseId}"
    return returns_dal.change_action(
        item,
        [ReturnStatus.AUTHORIZED],
        status=ReturnStatus.RECEIVED,
        reason=reason,
        sets={"receipt": receipt.model_dump(mode="json")},
        at=at,
        extra_condition="waitToken = :token" if token else "attribute_not_exists(waitToken)",
        extra_values={":token": token} if token else None,
    )


def _receipt_problems(found: Return, event: ReturnEventIn) -> list[dict[str, Any]]:
    authorized = {line.sku: line.quantity for line in found.lines}
    received: dict[str, int] = {}
    for line in event.lines:
        received[line.sku] = received.get(line.sku, 0) + line.quantity
    problems = []
    for sku, units in received.items():
        if sku not in authorized:
            problems.append({"code": "NOT_IN_RETURN", "sku": sku, "message": f"{sku} is not in the return"})
        elif units > authorized[sku]:
            problems.append(
                {
                    "code": "MORE_THAN_AUTHORIZED",
                    "sku": sku,
                    "message": f"{units} x {sku} received; {authorized[sku]} authorized",
                }
            )
    return problems


def list_returns(
    status: ReturnStatus | None, channel_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Return], str | None]:
    return returns_dal.list_returns(status, channel_id, limit, cursor)
