"""Workflow step ReserveInventory: source one warehouse and hold the stock, atomically with the status."""

from __future__ import annotations

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


# What a retried step answers from the order's status: it already held the stock, or the order ended.
OUTCOME_OF_STATUS = {
    OrderStatus.RESERVED: StepOutcome.RESERVED,
    OrderStatus.BACKORDERED: StepOutcome.BACKORDERED,
    OrderStatus.CANCELLED: StepOutcome.CANCELLED,
}


def _outcome(status: OrderStatus, reasons: list[dict[str, Any]] | None = None) -> ReservationResult:
    outcome = OUTCOME_OF_STATUS.get(status)
    if outcome is None:
        raise InvalidTransition(f"order is {status.value}; nothing to reserve")
    return ReservationResult(outcome=outcome, reasons=reasons or [])


def reserve(order_id: str) -> ReservationResult:
    order = orders.require(order_id)
    if order.status is not OrderStatus.RECEIVED:
        # Cancelled meanwhile, or a retry of a step that already succeeded.
        return _outcome(order.status)
    if order.shippingAddress is None:
        # Only orders rejected at intake lack an address, and they never reach a workflow.
        raise ValueError(f"order {order_id} has no shipping address")
    for _ in range(ATTEMPTS):
        units = order.units_by_sku()
        stock = {sku: inventory.stock_of(sku) for sku in units}
        warehouse_id = choose_warehouse(units, order.shippingAddress, inventory.list_warehouses(), stock)
        if warehouse_id is None:
            return _backorder(order, stock)
        try:
            _reserve_at(order, warehouse_id)
        except TransactionConflict as conflict:
            if conflict.failed(0):
                return _outcome(orders.require(order_id).status)
            logger.info("stock changed while reserving; sourcing again", extra={"reasons": conflict.reasons})
            continue
        count("OrderReserved")
        return _outcome(OrderStatus.RESERVED)
    raise TransientError(f"stock for order {order_id} kept changing during {ATTEMPTS} attempts")


def _reserve_at(order: Order, warehouse_id: str) -> None:
    at = now_iso()
    fulfillment = Fulfillment(
        fulfillmentId=fulfillment_id(order.orderId, 1),
        orderId=order.orderId,
        warehouseId=warehouse_id,
        lines=[FulfillmentLine(sku=sku, quantity=quantity) for sku, quantity in order.units_by_sku().items()],
        status=FulfillmentStatus.PENDING,
        createdAt=at,
        updatedAt=at,
    )
    held = [
        inventory.Reservation(order.orderId, sku, warehouse_id, quantity)
        for sku, quantity in order.units_by_sku().items()
    ]
    # Action 0 is the order's status change: its failure means the order is no longer RECEIVED.
    transact(
        [
            *orders.transition_actions(
                order.orderId, OrderStatus.RESERVED, f"stock held at {warehouse_id}", at
            ),
            fulfillments.put_action(fulfillment),
            *inventory.reserve_actions(held),
        ]
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
        return _outcome(orders.require(order.orderId).status)
    count("OrderBackordered")
    return _outcome(OrderStatus.BACKORDERED, short)
