"""Business rules the webhook's schema check cannot know: the first half of workflow step AcceptOrder."""

from __future__ import annotations

from shared.dal import inventory, orders
from shared.errors import InvalidTransition
from shared.logic import geocoding
from shared.models.order import Order, OrderStatus
from shared.models.steps import StepOutcome, ValidationResult
from shared.observability import count, logger


def business_problems(order: Order) -> list[dict[str, str]]:
    problems = []
    for sku in order.units_by_sku():
        if not inventory.sku_known(sku):
            problems.append({"code": "UNKNOWN_SKU", "sku": sku, "message": f"SKU {sku} is not stocked"})
    return problems


def _located(order: Order) -> ValidationResult:
    """A valid order whose address came without coordinates is geocoded, so sourcing can go by
    distance for every channel; what could not be located is recorded, and sourcing then goes by
    country. Stored only while the order is still RECEIVED."""
    address = order.shippingAddress
    if address is None or (address.latitude is not None and address.longitude is not None) or order.location:
        return ValidationResult(outcome=StepOutcome.VALID)
    location = geocoding.locate(address)
    try:
        orders.set_location(order.orderId, location)
    except InvalidTransition:
        status = orders.require(order.orderId).status
        return ValidationResult(
            outcome=StepOutcome.CANCELLED if status is OrderStatus.CANCELLED else StepOutcome.VALID
        )
    if location.problem:
        logger.info("shipping address not located", extra={"problem": location.problem})
        count("AddressNotLocated")
    return ValidationResult(outcome=StepOutcome.VALID)


def validate(order_id: str) -> ValidationResult:
    order = orders.require(order_id)
    if order.status is OrderStatus.CANCELLED:
        return ValidationResult(outcome=StepOutcome.CANCELLED)
    if order.status is not OrderStatus.RECEIVED:
        # A retried step after its own success: the order already moved on.
        return ValidationResult(outcome=StepOutcome.VALID)
    problems = business_problems(order)
    if not problems:
        return _located(order)
    reason = "; ".join(p["message"] for p in problems)
    try:
        orders.transition(order_id, OrderStatus.REJECTED, reason)
    except InvalidTransition:
        if orders.require(order_id).status is OrderStatus.CANCELLED:
            return ValidationResult(outcome=StepOutcome.CANCELLED)
        raise
    logger.info("order rejected", extra={"reasons": problems})
    count("OrderRejected")
    return ValidationResult(outcome=StepOutcome.REJECTED, reasons=problems)
