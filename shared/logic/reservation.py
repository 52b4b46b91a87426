"""Workflow steps AcceptOrder (after validation) and ReserveInventory: source the order's shipments
and hold their stock, atomically with the status: every line in every warehouse of the plan, or nothing."""

from __future__ import annotations

import math
from typing import Any

from shared import config
from shared.clock import now_iso, seconds_until
from shared.dal import channels, fulfillments, inventory, orders, stock
from shared.dal.dynamo import TransactionConflict, pause_before_retry, transact
from shared.errors import InvalidTransition, TransientError
from shared.ids import fulfillment_id
from shared.logic import backorders, geocoding
from shared.logic.sourcing import plan_shipments
from shared.models.catalog import BackorderMode, BackorderPolicy, SourcingRules, StockLevel, Warehouse
from shared.models.geo import Location
from shared.models.order import Address, Fulfillment, FulfillmentStatus, Order, OrderStatus
from shared.models.sourcing import (
    Destination,
    PlannedShipment,
    SourcingPlan,
    Unplannable,
    UnplannableCode,
    WarehouseLoad,
)
from shared.models.steps import ReservationResult, StepOutcome
from shared.observability import count, logger

# Concurrent orders for the same stock invalidate a sourcing decision (every stock write is
# conditioned on the bucket as read); after these attempts the workflow's Retry takes over.
ATTEMPTS = 6


# What a retried step answers from the order's status: it already held the stock, or the order ended.
OUTCOME_OF_STATUS = {
    OrderStatus.RESERVED: StepOutcome.RESERVED,
    OrderStatus.BACKORDERED: StepOutcome.BACKORDERED,
    OrderStatus.REJECTED: StepOutcome.REJECTED,
    OrderStatus.CANCELLED: StepOutcome.CANCELLED,
}
# Orders sourced by this step: new ones, and backordered ones a restock woke.
SOURCEABLE = (OrderStatus.RECEIVED, OrderStatus.BACKORDERED)


def _answer(order_id: str, reasons: list[dict[str, Any]] | None = None) -> ReservationResult:
    """The result for the order as it is now (after a race or a retry of this step)."""
    read = orders.snapshot(order_id)
    outcome = OUTCOME_OF_STATUS.get(read.order.status)
    if outcome is None:
        raise InvalidTransition(f"order {order_id} is {read.order.status.value}; nothing to reserve")
    ids = sorted(item["fulfillmentId"] for item in read.fulfillments)
    wait = read.order.backorder
    seconds = _wait_seconds(wait.until) if wait and outcome is StepOutcome.BACKORDERED else 0
    return ReservationResult(outcome=outcome, reasons=reasons or [], fulfillmentIds=ids, waitSeconds=seconds)


def _wait_seconds(until: str) -> int:
    return max(1, math.ceil(seconds_until(until)))


def reserve(order_id: str) -> ReservationResult:
    order = orders.require(order_id)
    if order.status not in SOURCEABLE:
        # Cancelled meanwhile, or a retry of a step that already succeeded.
        return _answer(order_id)
    if order.shippingAddress is None:
        # Only orders rejected at intake lack an address, and they never reach a workflow.
        raise ValueError(f"order {order_id} has no shipping address")
    channel = channels.get(order.channelId)
    rules = channel.sourcing if channel else SourcingRules()
    policy = channel.backorders if channel else BackorderPolicy()
    if order.exchangeOf is not None:
        # A replacement that cannot ship now is not waited for: its return falls back to a refund.
        policy = BackorderPolicy(mode=BackorderMode.REJECT)
    for attempt in range(ATTEMPTS):
        units = order.units_by_sku()
        read = {sku: stock.locations(sku) for sku in units}
        levels = {sku: [inventory.level_of(found) for found in read[sku]] for sku in units}
        warehouses = inventory.list_warehouses()
        plan = plan_for(order, levels, warehouses, rules)
        if isinstance(plan, Unplannable):
            seen = {sku: sum(found.available for found in read[sku]) for sku in units}
            return _backorder(order, plan, policy, seen)
        try:
            capped = {w.warehouseId for w in warehouses if w.dailyOrderCapacity}
            ids = _reserve_plan(order, plan, read, capped)
        except TransactionConflict as conflict:
            if conflict.failed(0):
                return _answer(order_id)
            logger.info("stock changed while reserving; sourcing again", extra={"reasons": conflict.reasons})
            pause_before_retry(attempt)
            continue
        count("OrderReserved")
        count("ShipmentsPlanned", len(ids))
        return ReservationResult(outcome=StepOutcome.RESERVED, fulfillmentIds=ids)
    raise TransientError(f"stock for order {order_id} kept changing during {ATTEMPTS} attempts")


def destination_for(address: Address, known: Location | None) -> tuple[Destination, Location | None]:
    """Where sourcing sends an order: the address's coordinates, else where it was located (geocoded
    now if it never was), else its country alone; with the location used, if any."""
    destination = Destination.of(address)
    if destination.coordinates() is not None:
        return destination, None
    location = known or geocoding.locate(address)
    if location.latitude is None or location.longitude is None:
        return destination, location
    located = destination.model_copy(update={"latitude": location.latitude, "longitude": location.longitude})
    return located, location


def today() -> str:
    return now_iso()[:10]


def loads_today(warehouses: list[Warehouse]) -> dict[str, WarehouseLoad]:
    capped = {w.warehouseId: w.dailyOrderCapacity for w in warehouses if w.dailyOrderCapacity}
    taken = inventory.orders_taken(sorted(capped), today())
    return {wid: WarehouseLoad(ordersToday=taken[wid], dailyCapacity=cap) for wid, cap in capped.items()}


def plan_for(
    order: Order, stock: dict[str, list[StockLevel]], warehouses: list[Warehouse], rules: SourcingRules
) -> SourcingPlan | Unplannable:
    assert order.shippingAddress is not None  # only orders rejected at intake lack one
    return plan_shipments(
        order.units_by_sku(),
        destination_for(order.shippingAddress, order.location)[0],
        warehouses,
        stock,
        rules,
        capacity=loads_today(warehouses),
    )


def _reserve_plan(
    order: Order, plan: SourcingPlan, read: dict[str, list[stock.Location]], capped: set[str]
) -> list[str]:
    """One transaction: the status change (action 0), the plan, then per shipment its fulfillment,
    its warehouse's count of orders today (if it has a daily capacity) and its stock."""
    at = now_iso()
    where = ", ".join(shipment.warehouseId for shipment in plan.shipments)
    actions = orders.transition_actions(order.orderId, OrderStatus.RESERVED, f"stock held at {where}", at)
    actions.append(orders.sourcing_put(order.orderId, plan))
    ids = []
    for sequence, shipment in enumerate(plan.shipments, start=1):
        fulfillment = _fulfillment(order.orderId, sequence, shipment, at)
        ids.append(fulfillment.fulfillmentId)
        actions.append(fulfillments.put_action(fulfillment))
        if shipment.warehouseId in capped:
            # Only a warehouse with a daily capacity counts its orders: the counter is one item,
            # written by every order it takes (about 500 orders/s, whatever a SKU's buckets).
            actions.append(inventory.count_order_action(shipment.warehouseId, at[:10]))
        actions += inventory.reserve_actions(
            order.orderId,
            fulfillment.fulfillmentId,
            shipment.warehouseId,
            lines=[(line.sku, line.quantity) for line in shipment.lines],
            read=read,
            at=at,
        )
    transact(actions)
    return ids


def _fulfillment(order_id: str, sequence: int, shipment: PlannedShipment, at: str) -> Fulfillment:
    return Fulfillment(
        fulfillmentId=fulfillment_id(order_id, sequence),
        orderId=order_id,
        warehouseId=shipment.warehouseId,
        lines=shipment.lines,
        status=FulfillmentStatus.PENDING,
        createdAt=at,
        updatedAt=at,
    )


def _backorder(
    order: Order, unplannable: Unplannable, policy: BackorderPolicy, seen: dict[str, int]
) -> ReservationResult:
    """No plan now: per the channel's policy, reject the order or let it wait for stock (until its
    limit, counted from when it was first backordered)."""
    reason = "; ".join(problem.message for problem in unplannable.reasons)
    problems = {"sourcingProblems": unplannable.reasons}
    reasons = [problem.model_dump(mode="json") for problem in unplannable.reasons]
    if policy.mode is BackorderMode.REJECT and order.status is OrderStatus.RECEIVED:
        return _settle(order, OrderStatus.REJECTED, f"cannot be shipped now: {reason}", problems, reasons)
    wait = backorders.wait_for(
        order, _short_skus(unplannable), policy.maxWaitDays, config.backorder_day_seconds(), seen
    )
    if seconds_until(wait.until) <= 0:
        return _settle(order, OrderStatus.CANCELLED, backorders.expiry_reason(wait), problems, reasons)
    try:
        if order.status is OrderStatus.RECEIVED:
            orders.transition(
                order.orderId, OrderStatus.BACKORDERED, reason, sets={**problems, "backorder": wait}
            )
            count("OrderBackordered")
        else:
            orders.update_while(order.orderId, OrderStatus.BACKORDERED, {**problems, "backorder": wait})
    except InvalidTransition:
        return _answer(order.orderId)
    return ReservationResult(
        outcome=StepOutcome.BACKORDERED, reasons=reasons, waitSeconds=_wait_seconds(wait.until)
    )


def _settle(
    order: Order, target: OrderStatus, reason: str, sets: dict[str, Any], reasons: list[dict[str, Any]]
) -> ReservationResult:
    try:
        orders.transition(order.orderId, target, reason, sets=sets)
    except InvalidTransition:
        return _answer(order.orderId)
    count(f"Order{target.value.title()}")
    return _answer(order.orderId, reasons)


def _short_skus(unplannable: Unplannable) -> list[str]:
    """The SKUs whose restock could fill the order: those short everywhere allowed; none named (too
    many shipments, say) means any of the order's."""
    return sorted(
        str(problem.details["sku"])
        for problem in unplannable.reasons
        if problem.code is UnplannableCode.SHORTAGE and "sku" in problem.details
    )
