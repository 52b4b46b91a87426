"""`make run`'s demo history, as a user sees it: `python -m local` with OMS_DEMO_HISTORY makes that
many orders over the days before today through the demo channels before its banner, the analytics
count exactly those, the orders are dated across those days, and afterwards the OMS is as `make run`
leaves it without history (the clock on today, the demo stock available, every rule enabled)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from local.demo import STOCK
from local.history import CHANNEL_WEIGHTS, PAUSED_RULES
from tests.e2e.conftest import API_KEY, RunningOMS, client_of, local_oms
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, canonical_order

ORDERS, DAYS = 36, 10
SUMMED_UP = re.compile(
    r"Demo history: (?P<orders>\d+) orders placed from (?P<first>[\d-]+) to yesterday.*\n"
    r"  (?P<delivered>\d+) delivered, (?P<split>\d+) split, (?P<backordered>\d+) backordered,"
    r" (?P<cancelled>\d+) cancelled, (?P<returned>\d+) returned"
)


@pytest.fixture(scope="module")
def with_history() -> Iterator[RunningOMS]:
    settings = {"OMS_DEMO_HISTORY": str(ORDERS), "OMS_DEMO_HISTORY_DAYS": str(DAYS)}
    with local_oms(startup_seconds=300, **settings) as running:
        yield running


def get(running: RunningOMS, path: str) -> Any:
    response = requests.get(running.api_url + path, headers={"x-api-key": API_KEY}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def history_orders(running: RunningOMS) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        page = get(running, "/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        found += page["orders"]
        cursor = page.get("nextCursor")
        if not cursor:
            return found


def test_the_banner_sums_up_the_history_and_the_analytics_count_exactly_it(with_history: RunningOMS) -> None:
    summed = SUMMED_UP.search(with_history.banner)
    assert summed, with_history.banner
    first_day = datetime.now(UTC).date() - timedelta(days=DAYS)
    assert (int(summed["orders"]), summed["first"]) == (ORDERS, first_day.isoformat())
    assert "of its calls failed" not in with_history.banner

    period = f"from={first_day.isoformat()}&to={datetime.now(UTC).date().isoformat()}"
    summary = get(with_history, f"/analytics/summary?{period}")
    assert summary["ordersPlaced"] == ORDERS
    assert sum(summary["byStatus"].values()) == ORDERS
    assert summary["byStatus"].get("CANCELLED", 0) == int(summed["cancelled"])
    assert set(summary["byChannel"]) == set(CHANNEL_WEIGHTS)
    assert sum(c["ordersPlaced"] for c in summary["byChannel"].values()) == ORDERS

    series = get(with_history, f"/analytics/timeseries?metric=ordersPlaced&interval=day&{period}")
    per_day = [point["value"] for point in series["points"]]
    assert sum(per_day) == ORDERS
    assert sum(1 for value in per_day if value) >= DAYS // 2  # spread over the days, not all today


def test_the_orders_are_dated_across_the_days_before_today(with_history: RunningOMS) -> None:
    orders = history_orders(with_history)
    days = Counter(order["createdAt"][:10] for order in orders)
    today = datetime.now(UTC).date()

    assert len(orders) == ORDERS
    assert min(days) >= (today - timedelta(days=DAYS)).isoformat()
    assert max(days) < today.isoformat()
    assert len(days) >= DAYS // 2
    assert Counter(order["channelId"] for order in orders).keys() == CHANNEL_WEIGHTS.keys()


def test_afterwards_the_demo_stock_is_available_and_every_rule_enabled(with_history: RunningOMS) -> None:
    for (sku, warehouse), units in STOCK.items():
        levels = {
            level["warehouseId"]: level for level in get(with_history, f"/inventory/{sku}")["locations"]
        }
        level = levels[warehouse]
        assert level["onHand"] - level["reserved"] == units, (sku, warehouse, level)

    events = boto3.client(
        "events",
        endpoint_url=with_history.aws_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    buses = [bus["Name"] for bus in events.list_event_buses()["EventBuses"]]
    rules = [rule for bus in buses for rule in events.list_rules(EventBusName=bus)["Rules"]]
    assert len(rules) >= len(PAUSED_RULES)
    assert all(rule["State"] == "ENABLED" for rule in rules), rules


def test_an_order_placed_afterwards_is_dated_today(with_history: RunningOMS) -> None:
    client = client_of(with_history)
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] in (200, 201)

    order_id = client.place(canonical_order([("MUG-WHT-11OZ", 1)]))

    assert client.order(order_id)["createdAt"][:10] == datetime.now(UTC).date().isoformat()
