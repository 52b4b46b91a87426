"""Workflow step ReserveInventory: source the order's shipments and hold their stock, atomically
with the status: every line in every warehouse of the plan, or nothing."""

from __future__ import annotations

from typing import Any

from shared.clock import now_iso
from shared.dal import channels, fulfillments, inventory, orders
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import InvalidTransition, TransientError
from shared.ids import fulfillment_id
from shared.logic import geocoding
from shared.logic.sourcing import plan_shipments
from shared.models.catalog import SourcingRules, StockLevel, Warehouse
from shared.models.geo import Location
from shared.models.order import Address, Fulfillment, FulfillmentStatus, Order, OrderStatus
from shared.models.sourcing import Destination, PlannedShipment, SourcingPlan, Unplannable, WarehouseLoad
from shared.models.steps import ReservationResult, StepOutcome
from shared.observability import count, logger

ATTEMPTS = 3  # concurrent orders for the same stock may invalidate a sourcing decision


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
    rules = _rules_of(order.channelId)
    for _ in range(ATTEMPTS):
        units = order.units_by_sku()
        stock = {sku: inventory.stock_of(sku) for sku in units}
        plan = plan_for(order, stock, inventory.list_warehouses(), rules)
        if isinstance(plan, Unplannable):
            return _backorder(order, plan)
        try:
            ids = _reserve_plan(order, plan)
        except TransactionConflict as conflict:
            if conflict.failed(0):
                return _answer(order_id)
            logger.info("stock changed while reserving; sourcing again", extra={"reasons": conflict.reasons})
            continue
        count("OrderReserved")
        count("ShipmentsPlanned", len(ids))
        return ReservationResult(outcome=StepOutcome.RESERVED, fulfillmentIds=ids)
    raise TransientError(f"stock for order {order_id} kept changing during {ATTEMPTS} attempts")


def _rules_of(channel_id: str) -> SourcingRules:
    channel = channels.get(channel_id)
    return channel.sourcing if channel else SourcingRules()


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


def _reserve_plan(order: Order, plan: SourcingPlan) -> list[str]:
    """One transaction: the status change (action 0), the plan, then per shipment its fulfillment,
    its warehouse's count of orders today and its stock."""
    at = now_iso()
    where = ", ".join(shipment.warehouseId for shipment in plan.shipments)
    actions = orders.transition_actions(order.orderId, OrderStatus.RESERVED, f"stock held at {where}", at)
    actions.append(orders.sourcing_put(order.orderId, plan))
    ids = []
    for sequence, shipment in enumerate(plan.shipments, start=1):
        fulfillment = _fulfillment(order.orderId, sequence, shipment, at)
        ids.append(fulfillment.fulfillmentId)
        actions.append(fulfillments.put_action(fulfillment))
        actions.append(inventory.count_order_action(shipment.warehouseId, at[:10]))
        actions += inventory.reserve_actions(
            [
                inventory.Reservation(
                    order.orderId, line.sku, shipment.warehouseId, line.quantity, fulfillment.fulfillmentId
                )
                for line in shipment.lines
            ]
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


def _backorder(order: Order, unplannable: Unplannable) -> ReservationResult:
    reason = "; ".join(problem.message for problem in unplannable.reasons)
    try:
        orders.transition(
            order.orderId, OrderStatus.BACKORDERED, reason, sets={"sourcingProblems": unplannable.reasons}
        )
    except InvalidTransition:
        return _answer(order.orderId)
    count("OrderBackordered")
    return ReservationResult(
        outcome=StepOutcome.BACKORDERED,
        reasons=[problem.model_dump(mode="json") for problem in unplannable.reasons],
    )
