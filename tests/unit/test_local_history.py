"""The demo history's plan (local/history.py): weeks of orders with every kind of fate the
dashboard shows, the same each time."""

from __future__ import annotations

from collections import Counter

from local import history
from local.demo import STOCK


def planned() -> list[history.Planned]:
    return [order for orders in history.plan().values() for order in orders]


def test_the_default_plan_is_a_few_hundred_orders_over_six_weeks_through_three_channels() -> None:
    by_day = history.plan()
    orders = planned()

    assert len(orders) == history.DEFAULT_ORDERS == 240
    assert len(by_day) == history.DAYS == 42
    assert sum(1 for day in by_day.values() if day) >= 35  # most days have orders
    assert set(Counter(order.channel_id for order in orders)) == set(history.CHANNEL_WEIGHTS)
    later, earlier = sum(len(by_day[d]) for d in range(21, 42)), sum(len(by_day[d]) for d in range(21))
    assert later > earlier  # a growing shop


def test_it_plans_cancellations_backorders_returns_and_orders_that_must_split() -> None:
    orders = planned()
    # The hoodie is stocked only in the west, the mug only in the east and the centre.
    assert {w for sku, w in STOCK if sku == "HOODIE-GRY-L"} == {"wh-west"}
    assert {w for sku, w in STOCK if sku == "MUG-WHT-11OZ"} == {"wh-east"}
    must_split = [o for o in orders if {"HOODIE-GRY-L", "MUG-WHT-11OZ"} <= {sku for sku, _ in o.lines}]

    assert sum(order.cancel for order in orders) >= 8
    assert sum(order.backorder for order in orders) >= 5
    assert sum(order.return_after is not None for order in orders) >= 15
    assert len(must_split) >= 5
    assert {order.reason for order in orders if order.return_after} == set(history.RETURN_REASONS)


def test_the_same_seed_plans_the_same_history() -> None:
    assert history.plan() == history.plan()
    assert history.plan(seed=1) != history.plan()
