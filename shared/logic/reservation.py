"""Workflow step ReserveInventory: source the order's shipments and hold their stock, atomically
with the status: every line in every warehouse of the plan, or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.clock import now_iso
from shared.dal import fulfillments, inventory, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, TransientError
from shared.ids import fulfillment_id
from shared.logic.sourcing import choose_warehouse, shortages
from shared.models.catalog import StockLevel
from shared.models.order import Fulfillment, FulfillmentLine, FulfillmentStatus, Order, OrderStatus
from shared.models.steps import ReservationResult, StepOutcome
from shared.observability import count, logger

ATTEMPTS = 3  # concurrent orders for the same stock may invalidate a sourcing decision


@dataclass(frozen=True)
class Shipment:
    """One warehouse's part of a plan: what it ships."""

    warehouse_id: str
    units: Mapping[str, int]


# What a retried step answers from the order's status: it already held the stock, or the order ended.
OUTCOME_OF_STATUS = {
    OrderStatus.RESERVED: StepOutcome.RESERVED,
    OrderStatus.BACKORDERED: StepOutcome.BACKORDERED,
    OrderStatus.CANCELLED: StepOutcome.CANCELLED,
}


def _answer(order_id: str, reasons: list[dict[str, Any]] | None = None) -> ReservationResult:
    """The result for the order as it is now (after a race or a retry of this step)."""
    read = orders.snapshot(order_id)
    outcome = OUTCOME_OF_STATUS.get(read.order.status)
    if outcome is None:
        raise InvalidTransition(f"order {order_id} is {read.order.status.value}; nothing to reserve")
    ids = sorted(item["fulfillmentId"] for item in read.fulfillments)
    return ReservationResult(outcome=outcome, reasons=reasons or [], fulfillmentIds=ids)


def reserve(order_id: str) -> ReservationResult:
    order = orders.require(order_id)
    if order.status is not OrderStatus.RECEIVED:
        # Cancelled meanwhile, or a retry of a step that already succeeded.
        return _answer(order_id)
    if order.shippingAddress is None:
        # Only orders rejected at intake lack an address, and they never reach a workflow.
        raise ValueError(f"order {order_id} has no shipping address")
    for _ in range(ATTEMPTS):
        units = order.units_by_sku()
        stock = {sku: inventory.stock_of(sku) for sku in units}
        plan = _plan(order, stock)
        if not plan:
            return _backorder(order, stock)
        try:
            ids = _reserve_plan(order, plan)
        except TransactionConflict as conflict:
            if conflict.failed(0):
                return _answer(order_id)
            logger.info("stock changed while reserving; sourcing again", extra={"reasons": conflict.reasons})
            continue
        count("OrderReserved")
        return ReservationResult(outcome=StepOutcome.RESERVED, fulfillmentIds=ids)
    raise TransientError(f"stock for order {order_id} kept changing during {ATTEMPTS} attempts")


def _plan(order: Order, stock: dict[str, list[StockLevel]]) -> list[Shipment]:
    assert order.shippingAddress is not None
    units = order.units_by_sku()
    warehouse_id = choose_warehouse(units, order.shippingAddress, inventory.list_warehouses(), stock)
    return [Shipment(warehouse_id, units)] if warehouse_id else []


def _reserve_plan(order: Order, plan: Sequence[Shipment]) -> list[str]:
    """One transaction: the status change (action 0), each shipment's fulfillment and its stock."""
    at = now_iso()
    where = ", ".join(shipment.warehouse_id for shipment in plan)
    actions = orders.transition_actions(order.orderId, OrderStatus.RESERVED, f"stock held at {where}", at)
    ids = []
    for sequence, shipment in enumerate(plan, start=1):
        fulfillment = _fulfillment(order.orderId, sequence, shipment, at)
        ids.append(fulfillment.fulfillmentId)
        actions.append(fulfillments.put_action(fulfillment))
        actions += inventory.reserve_actions(
            [
                inventory.Reservation(
                    order.orderId, sku, shipment.warehouse_id, quantity, fulfillment.fulfillmentId
                )
                for sku, quantity in shipment.units.items()
            ]
        )
    transact(actions)
    return ids


def _fulfillment(order_id: str, sequence: int, shipment: Shipment, at: str) -> Fulfillment:
    return Fulfillment(
        fulfillmentId=fulfillment_id(order_id, sequence),
        orderId=order_id,
        warehouseId=shipment.warehouse_id,
        lines=[FulfillmentLine(sku=sku, quantity=quantity) for sku, quantity in shipment.units.items()],
        status=FulfillmentStatus.PENDING,
        createdAt=at,
        updatedAt=at,
    )


def _backorder(order: Order, stock: dict[str, list[StockLevel]]) -> ReservationResult:
    short = shortages(order.units_by_sku(), stock)
    reason = (
        "not enough stock: " + ", ".join(f"{s['sku']} ({s['available']} of {s['requested']})" for s in short)
        if short
        else "no single warehouse holds every line (split shipments are not supported yet)"
    )
    try:
        orders.transition(order.orderId, OrderStatus.BACKORDERED, reason)
    except InvalidTransition:
        return _answer(order.orderId)
    count("OrderBackordered")
    return ReservationResult(outcome=StepOutcome.BACKORDERED, reasons=short)
