"""An order's status in its fulfillment phase follows from its fulfillments, in one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.models.order import (
    FULFILLMENT_PHASE,
    FULFILLMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    FulfillmentStatus,
    OrderStatus,
    derive_order_status,
)

F = FulfillmentStatus


@pytest.mark.parametrize(
    ("fulfillments", "expected"),
    [
        ([F.PENDING], OrderStatus.RESERVED),
        ([F.PENDING, F.PENDING], OrderStatus.RESERVED),
        ([F.REQUESTED, F.PENDING], OrderStatus.FULFILLING),
        ([F.PICKED, F.PACKED], OrderStatus.FULFILLING),
        ([F.SHIPPED, F.PACKED], OrderStatus.PARTIALLY_SHIPPED),
        ([F.DELIVERED, F.REQUESTED], OrderStatus.PARTIALLY_SHIPPED),
        ([F.SHIPPED, F.SHIPPED], OrderStatus.SHIPPED),
        ([F.SHIPPED, F.DELIVERED], OrderStatus.PARTIALLY_DELIVERED),
        ([F.DELIVERED, F.DELIVERED], OrderStatus.DELIVERED),
        # A cancelled part ships nothing: the rest tells the progress.
        ([F.SHIPPED, F.CANCELLED], OrderStatus.SHIPPED),
        ([F.DELIVERED, F.CANCELLED], OrderStatus.DELIVERED),
        ([F.CANCELLED, F.CANCELLED], OrderStatus.CANCELLED),
        # A failed part never arrives: the order goes on, and ends FAILED, not DELIVERED.
        ([F.FAILED, F.REQUESTED], OrderStatus.FULFILLING),
        ([F.FAILED, F.SHIPPED], OrderStatus.SHIPPED),
        ([F.FAILED, F.DELIVERED], OrderStatus.FAILED),
        ([F.FAILED, F.CANCELLED], OrderStatus.FAILED),
    ],
)
def test_the_order_status_follows_from_its_fulfillments(
    fulfillments: list[FulfillmentStatus], expected: OrderStatus
) -> None:
    assert derive_order_status(fulfillments) is expected
    assert derive_order_status(reversed(fulfillments)) is expected


statuses = st.lists(st.sampled_from(FulfillmentStatus), min_size=1, max_size=4)


@given(statuses, st.data())
def test_every_fulfillment_step_is_a_legal_order_transition(
    before: list[FulfillmentStatus], data: st.DataObject
) -> None:
    """Whatever one fulfillment does next, the order's derived status moves along ORDER_TRANSITIONS
    (or stays), so the conditioned writes never refuse a legal fulfillment event."""
    index = data.draw(st.integers(0, len(before) - 1))
    options = sorted(FULFILLMENT_TRANSITIONS[before[index]])
    if not options:
        return
    after = [*before]
    after[index] = data.draw(st.sampled_from(options))
    old, new = derive_order_status(before), derive_order_status(after)
    assert new is old or new in ORDER_TRANSITIONS[old], f"{before} -> {after}: {old} -> {new}"


@given(statuses)
def test_cancelling_every_unshipped_fulfillment_is_a_legal_order_transition(
    before: list[FulfillmentStatus],
) -> None:
    unshipped = {F.PENDING, F.REQUESTED, F.PICKED, F.PACKED}
    after = [F.CANCELLED if s in unshipped else s for s in before]
    old, new = derive_order_status(before), derive_order_status(after)
    assert new is old or new in ORDER_TRANSITIONS[old], f"{before} -> {after}: {old} -> {new}"


def test_a_derived_status_is_a_fulfillment_phase_status_or_an_end() -> None:
    ends = {OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.FAILED}
    for combination in ([a, b] for a in FulfillmentStatus for b in FulfillmentStatus):
        assert derive_order_status(combination) in FULFILLMENT_PHASE | ends


def test_an_order_intake_accepts_always_fits_one_transaction_from_one_warehouse() -> None:
    from shared.models.limits import (
        ACTIONS_PER_PAIR,
        ACTIONS_PER_SHIPMENT,
        ORDER_ACTIONS,
        TRANSACTION_ACTIONS_LIMIT,
    )
    from shared.models.order import MAX_LINES

    assert ORDER_ACTIONS + ACTIONS_PER_SHIPMENT + ACTIONS_PER_PAIR * MAX_LINES <= TRANSACTION_ACTIONS_LIMIT
