"""The return workflow's steps (blueprint/workflows/return.asl.json), one execution per return.

AwaitReceipt parks its task token on the return; the warehouse's RECEIVED report resumes it (or, if
the report came first, parking resumes itself). Restock puts resellable units back on hand and
records damaged ones, a ledger entry each and once per (SKU, condition): a marker written in the
same transaction as the stock makes a retried step skip what it did. An exchange is a new order
linked both ways, driven by its own order workflow; the return looks until that order is reserved or
cannot be, and falls back to a refund then. Conclude ends the return and gives back what it held.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from shared import clock, workflow
from shared.dal import inventory, orders, stock
from shared.dal import returns as returns_dal
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, TransientError
from shared.ids import new_order_id
from shared.logic import backorders, refund_ledger
from shared.models.order import (
    FULFILLMENT_PHASE,
    CanonicalOrder,
    ExchangeLink,
    Order,
    OrderLine,
    OrderStatus,
)
from shared.models.returns import (
    OPEN_RETURN,
    Condition,
    ExchangeOutcome,
    RefundStatus,
    Resolution,
    Return,
    ReturnStatus,
)
from shared.observability import count, logger

PARK_ATTEMPTS = 5


def park(return_id: str, task_token: str) -> dict[str, str]:
    """AwaitReceipt: keep the token where the receipt will find it."""
    for _ in range(PARK_ATTEMPTS):
        item = returns_dal.require_item(return_id)
        status = ReturnStatus(item["status"])
        if status is ReturnStatus.RECEIVED:
            # Received before we parked: nobody else will resume this token.
            workflow.resume(task_token, {"returnId": return_id, "receivedAt": item["receipt"]["receivedAt"]})
            return {"outcome": "PARKED"}
        if status is not ReturnStatus.AUTHORIZED:
            raise InvalidTransition(f"return {return_id} is {status.value}; nothing to wait for")
        try:
            transact(
                [returns_dal.change_action(item, [ReturnStatus.AUTHORIZED], sets={"waitToken": task_token})]
            )
        except TransactionConflict:
            continue
        return {"outcome": "PARKED"}
    raise TransientError(f"return {return_id} kept changing while parking the workflow")


def restock(return_id: str) -> dict[str, str]:
    """Restock: what came back, into the receiving warehouse's stock and ledger; says what follows."""
    item = returns_dal.require_item(return_id)
    found = Return.model_validate(item)
    if found.status is not ReturnStatus.RECEIVED or found.receipt is None:
        raise InvalidTransition(f"return {return_id} is {found.status.value}; nothing to restock")
    woken: list[str] = []
    for line in found.receipt.lines:
        if line.quantity and _restock_line(found, line.sku, line.quantity, line.condition):
            woken += [line.sku] if line.condition is Condition.RESELLABLE else []
    if not found.restocked:
        transact([returns_dal.change_action(item, [ReturnStatus.RECEIVED], sets={"restocked": True})])
    if woken:
        backorders.wake(woken)
    exchange_pending = found.requestedResolution is Resolution.EXCHANGE and found.exchangeOutcome is None
    return {"resolution": Resolution.EXCHANGE.value if exchange_pending else Resolution.REFUND.value}


def _restock_line(found: Return, sku: str, units: int, condition: Condition) -> bool:
    """True when done now, False when an earlier attempt did it."""
    assert found.receipt is not None
    marker_value = f"{sku}#{condition.value}"
    marker = returns_dal.change_action(
        found.model_dump(mode="json"),
        [ReturnStatus.RECEIVED],
        sets={},
        extra_condition="NOT contains(restockedLines, :marker)",
        extra_values={":marker": marker_value},
    )
    marker["Update"]["UpdateExpression"] += " ADD restockedLines :markers"
    marker["Update"]["ExpressionAttributeValues"][":markers"] = {marker_value}
    resellable = condition is Condition.RESELLABLE
    why = stock.Why(
        stock.ChangeKind.RETURN if resellable else stock.ChangeKind.RETURN_DAMAGED,
        f"return:{found.returnId}",
        reason="RETURNED" if resellable else "RETURNED_DAMAGED",
        orderId=found.orderId,
        reference=found.returnId,
        note=f"{units} unit(s) received " + ("resellable" if resellable else "damaged, not restocked"),
    )
    try:
        inventory.receive_returned(
            sku, found.receipt.warehouseId, units, resellable=resellable, why=why, marker=marker
        )
    except inventory.AlreadyApplied:
        return False
    count("ReturnRestocked" if resellable else "ReturnDamaged")
    return True


# -- exchanges --------------------------------------------------------------------------------------


def place_exchange(return_id: str) -> dict[str, str]:
    """PlaceExchange: a new order for the replacement, at no charge, through the normal workflow."""
    item = returns_dal.require_item(return_id)
    found = Return.model_validate(item)
    original = orders.require(found.orderId)
    exchange = _exchange_order(found, original)
    try:
        orders.create(exchange)
        order_id = exchange.orderId
    except orders.DuplicateChannelOrder as duplicate:  # placed by an earlier attempt of this step
        order_id = duplicate.order_id
    workflow.start(order_id)
    if found.exchangeOrderId is None:
        transact(
            [
                returns_dal.change_action(
                    item,
                    list(OPEN_RETURN),
                    sets={"exchangeOrderId": order_id, "exchangeOutcome": ExchangeOutcome.PENDING.value},
                    entry="EXCHANGE_PLACED",
                    reason=f"exchange order {order_id}",
                )
            ]
        )
    count("ExchangePlaced")
    return {"outcome": ExchangeOutcome.PENDING.value}


def _exchange_order(found: Return, original: Order) -> Order:
    assert found.exchangeLines and original.customer and original.shippingAddress and original.currency
    at = clock.now_iso()
    canonical = CanonicalOrder(
        channelOrderId=f"{original.channelOrderId}/exchange/{found.returnId}"[:128],
        currency=original.currency,
        taxesIncluded=original.taxesIncluded,
        customer=original.customer,
        shippingAddress=original.shippingAddress,
        lines=[
            OrderLine(sku=line.sku, quantity=line.quantity, unitPrice=Decimal("0"), title="exchange")
            for line in found.exchangeLines
        ],
    )
    return Order(
        **canonical.model_dump(),
        orderId=new_order_id(),
        channelId=original.channelId,
        status=OrderStatus.RECEIVED,
        total=canonical.amount_due(),
        exchangeOf=ExchangeLink(orderId=original.orderId, returnId=found.returnId),
        location=original.location,
        createdAt=at,
        updatedAt=at,
    )


UNAVAILABLE = frozenset(
    {OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.BACKORDERED}
)
PLACED = FULFILLMENT_PHASE | {OrderStatus.DELIVERED}


def check_exchange(return_id: str) -> dict[str, str]:
    """CheckExchange: RESERVED, UNAVAILABLE (the return becomes a refund, saying why) or PENDING."""
    item = returns_dal.require_item(return_id)
    found = Return.model_validate(item)
    if found.exchangeOrderId is None:
        raise InvalidTransition(f"return {return_id} has no exchange order")
    exchange = orders.require(found.exchangeOrderId)
    if exchange.status in PLACED:
        outcome = ExchangeOutcome.RESERVED
        sets: dict[str, str | None] = {"exchangeOutcome": ExchangeOutcome.RESERVED.value}
        reason = f"exchange order {exchange.orderId} reserved"
    elif exchange.status in UNAVAILABLE:
        outcome = ExchangeOutcome.UNAVAILABLE
        sets = {
            "exchangeOutcome": outcome.value,
            "resolution": Resolution.REFUND.value,
            "balanceDue": None,
        }
        reason = (
            f"EXCHANGE_UNAVAILABLE: exchange order {exchange.orderId} is {exchange.status.value}"
            + (f" ({exchange.statusReason})" if exchange.statusReason else "")
            + "; refunding instead"
        )
    else:
        return {"outcome": ExchangeOutcome.PENDING.value}
    if found.exchangeOutcome in (None, ExchangeOutcome.PENDING):
        entry = "EXCHANGE_RESERVED" if outcome is ExchangeOutcome.RESERVED else "EXCHANGE_UNAVAILABLE"
        transact([returns_dal.change_action(item, list(OPEN_RETURN), sets=sets, entry=entry, reason=reason)])
    return {"outcome": outcome.value}


# -- the end ----------------------------------------------------------------------------------------

ENDS = {
    "CLOSED": ReturnStatus.CLOSED,
    "EXPIRED": ReturnStatus.EXPIRED,
    "REFUND_FAILED": ReturnStatus.REFUND_FAILED,
    "FAILED": ReturnStatus.FAILED,
}


def conclude(return_id: str, outcome: str, error: dict[str, Any] | None) -> dict[str, str]:
    """ConcludeReturn: CLOSED (units not sent back are returnable again), EXPIRED (all of them are),
    REFUND_FAILED (the PENDING refund undone) or FAILED."""
    target = ENDS[outcome]
    item = returns_dal.require_item(return_id)
    found = Return.model_validate(item)
    if found.status is target:
        return {"outcome": outcome, "status": target.value}
    cause = _cause(error)
    sets: dict[str, Any] = {}
    failing = target in (ReturnStatus.REFUND_FAILED, ReturnStatus.FAILED)
    if failing and found.refund is not None and found.refund.status is RefundStatus.PENDING:
        failed = found.refund.model_copy(update={"status": RefundStatus.FAILED, "cause": cause})
        sets["refund"] = failed.model_dump(mode="json", exclude_none=True)
    actions = [
        returns_dal.change_action(
            item, list(OPEN_RETURN), status=target, reason=_reason(target, found, cause), sets=sets
        )
    ]
    given_back = _unreturned_units(found, target)
    if given_back:
        actions.append(returns_dal.give_back_action(found.orderId, given_back))
    if failing:
        actions += refund_ledger.undo(found, cause or outcome)
    transact(actions)
    count(f"Return{target.value.title().replace('_', '')}")
    logger.info("return ended", extra={"return_id": return_id, "status": target.value})
    return {"outcome": outcome, "status": target.value}


def _cause(error: dict[str, Any] | None) -> str | None:
    """The message of the error a Catch caught: a Lambda error's Cause is JSON with errorMessage."""
    cause = str((error or {}).get("Cause") or (error or {}).get("Error") or "")
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        cause = f"{parsed.get('errorType', 'Error')}: {parsed['errorMessage']}"
    return cause[:1000] or None


def _reason(target: ReturnStatus, found: Return, cause: str | None) -> str | None:
    if target is ReturnStatus.EXPIRED:
        return f"nothing received by {found.deadline}"
    if target is ReturnStatus.CLOSED:
        return "refunded" if found.resolution is Resolution.REFUND else "exchanged"
    return cause


def _unreturned_units(found: Return, target: ReturnStatus) -> dict[str, int]:
    """Per account attribute, units the return no longer holds: all when it expired, those that
    never came back when it closed."""
    if target is ReturnStatus.EXPIRED:
        received: dict[str, int] = {}
    elif target is ReturnStatus.CLOSED and found.receipt is not None:
        received = {}
        for got in found.receipt.lines:
            received[got.sku] = received.get(got.sku, 0) + got.quantity
    else:
        return {}
    back: dict[str, int] = {}
    for line in found.lines:
        missing = line.quantity - received.get(line.sku, 0)
        for unit in reversed(line.delivered):
            take = min(missing, unit.quantity)
            if take > 0:
                back[returns_dal.units_attribute(unit.fulfillmentId, line.sku)] = take
                missing -= take
    return back
