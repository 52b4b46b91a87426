"""Routing without reserving: the plan an order would get now, and how a channel's recent orders
would have been routed under other rules (`POST /sourcing/plan`, `POST /sourcing/simulations`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from shared.clock import iso
from shared.dal import channels, inventory, orders
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.logic.reservation import destination_for, loads_today
from shared.logic.sourcing import plan_shipments
from shared.models.catalog import SourcingRules, StockLevel, Warehouse
from shared.models.order import Order
from shared.models.routing import (
    MAX_SIMULATED_ORDERS,
    PlanRequest,
    PlanResponse,
    SimulationFigures,
    SimulationRequest,
    SimulationResponse,
    UnplannedOrder,
)
from shared.models.sourcing import Destination, SourcingPlan, Unplannable

LISTED_UNPLANNABLE = 20
SIMULATION_ASSUMPTIONS = [
    "each order is planned alone against the stock on hand now (onHand per warehouse), not the stock "
    "it met when it was placed, so the figures compare rules, not days",
    "daily capacities are not applied (they depend on the day's other orders)",
    "an address that came without coordinates is placed where validation located it",
]


def _rules_of(channel_id: str | None) -> SourcingRules:
    if channel_id is None:
        return SourcingRules()
    channel = channels.get(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist", {"field": "channelId"})
    return channel.sourcing


def plan_now(request: PlanRequest) -> PlanResponse:
    """The plan an order would get if it were reserved now; nothing is reserved. A stored order's own
    reservations count as available (it would give them back to take them again)."""
    channel_id: str | None
    if request.orderId is not None:
        order = orders.require(request.orderId)
        if not order.lines or order.shippingAddress is None:
            raise Conflict(
                f"order {order.orderId} was {order.status.value} at intake; it has nothing to plan",
                {"orderId": order.orderId, "status": order.status.value},
            )
        units, address, known, channel_id = (
            order.units_by_sku(),
            order.shippingAddress,
            order.location,
            order.channelId,
        )
        held = {(r.sku, r.warehouse_id): r.quantity for r in inventory.reservations_of(order.orderId)}
    else:
        assert request.order is not None
        units, address, known = request.order.units_by_sku(), request.order.shippingAddress, None
        channel_id, held = request.channelId, {}
    channel_rules = _rules_of(channel_id)  # an unknown channel is 404 even when rules are given
    rules = request.sourcing or channel_rules
    destination, location = destination_for(address, known)
    stock = {
        sku: [_plus(level, held.get((sku, level.warehouseId), 0)) for level in inventory.stock_of(sku)]
        for sku in units
    }
    warehouses = inventory.list_warehouses()
    result = plan_shipments(units, destination, warehouses, stock, rules, capacity=loads_today(warehouses))
    return PlanResponse(
        orderId=request.orderId,
        channelId=channel_id,
        rules=rules,
        destination=destination,
        location=location,
        plan=result if isinstance(result, SourcingPlan) else None,
        problems=result.reasons if isinstance(result, Unplannable) else [],
    )


def _plus(level: StockLevel, units: int) -> StockLevel:
    return level.model_copy(update={"available": level.available + units}) if units else level


def _utc(moment: datetime) -> str:
    return iso(moment.astimezone(UTC))


def simulate(request: SimulationRequest) -> SimulationResponse:
    """Re-plan the channel's orders of a window under its current rules and the proposed ones."""
    current = _rules_of(request.channelId)
    found = orders.created_in(
        request.channelId, _utc(request.createdFrom), _utc(request.createdBefore), MAX_SIMULATED_ORDERS
    )
    if found is None:
        raise InvalidRequest(
            f"the window holds more than {MAX_SIMULATED_ORDERS} orders of channel {request.channelId}; "
            "narrow it",
            {"field": "createdBefore", "limit": MAX_SIMULATED_ORDERS},
        )
    plannable = [o for o in found if o.lines and o.shippingAddress is not None]
    shelves = _shelves({sku for order in plannable for sku in order.units_by_sku()})
    warehouses = inventory.list_warehouses()
    destinations = {
        o.orderId: destination_for(o.shippingAddress, o.location)[0] for o in plannable if o.shippingAddress
    }
    return SimulationResponse(
        channelId=request.channelId,
        createdFrom=request.createdFrom,
        createdBefore=request.createdBefore,
        orders=len(plannable),
        skipped=len(found) - len(plannable),
        current=_figures(plannable, destinations, warehouses, shelves, current),
        proposed=_figures(plannable, destinations, warehouses, shelves, request.proposed),
        assumptions=SIMULATION_ASSUMPTIONS,
    )


def _shelves(skus: Iterable[str]) -> dict[str, list[StockLevel]]:
    """Stock on hand now beyond its safety stock, as if none of it were held."""
    return {
        sku: [
            level.model_copy(update={"available": max(0, level.onHand - level.safetyStock)})
            for level in inventory.stock_of(sku)
        ]
        for sku in sorted(skus)
    }


def _figures(
    simulated: Sequence[Order],
    destinations: dict[str, Destination],
    warehouses: list[Warehouse],
    shelves: dict[str, list[StockLevel]],
    rules: SourcingRules,
) -> SimulationFigures:
    plans: list[SourcingPlan] = []
    unplanned: list[UnplannedOrder] = []
    for order in simulated:
        result = plan_shipments(order.units_by_sku(), destinations[order.orderId], warehouses, shelves, rules)
        if isinstance(result, SourcingPlan):
            plans.append(result)
        else:
            unplanned.append(
                UnplannedOrder(orderId=order.orderId, codes=[r.code.value for r in result.reasons])
            )
    shipments = [len(plan.shipments) for plan in plans]
    distances = sorted(s.distanceKm for plan in plans for s in plan.shipments if s.distanceKm is not None)
    return SimulationFigures(
        rules=rules,
        planned=len(plans),
        unplannable=len(unplanned),
        shipmentsPerOrder=_mean(shipments, 2),
        splitRate=round(sum(1 for n in shipments if n > 1) / len(shipments), 3) if shipments else None,
        meanDistanceKm=_mean(distances, 1),
        p90DistanceKm=distances[math.ceil(0.9 * len(distances)) - 1] if distances else None,
        unplannableOrders=unplanned[:LISTED_UNPLANNABLE],
    )


def _mean(values: Sequence[float], digits: int) -> float | None:
    return round(sum(values) / len(values), digits) if values else None
