"""The order analytics as an operator and a client see them against `python -m local`: an order
placed and delivered over HTTP shows in the summary, and `python -m cli analytics-backfill --reset`
rebuilds the same figures from the stored orders."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import RunningOMS
from tests.e2e.test_stock_cli import run_cli
from tests.support.orders import Client, canonical_order

STABLE_SECONDS = 2.0


def summary(client: Client) -> dict[str, Any]:
    status, body = client.call("GET", "/analytics/summary")
    assert status == 200, body
    return {k: v for k, v in body.items() if k != "readCost"}


def stable_summary(client: Client, timeout: float = 60.0) -> dict[str, Any]:
    """The summary once it stopped changing (every event of the session's orders aggregated)."""
    deadline = time.monotonic() + timeout
    last = summary(client)
    while time.monotonic() < deadline:
        time.sleep(STABLE_SECONDS)
        now = summary(client)
        if now == last:
            return now
        last = now
    raise AssertionError("the analytics kept changing")


def test_a_delivered_order_is_counted_and_the_backfill_rebuilds_the_same_figures(
    running_oms: RunningOMS, client: Client
) -> None:
    before = stable_summary(client)["byStatus"].get("DELIVERED", 0)
    order_id = client.place(canonical_order([("MUG-BLUE", 1)]))
    client.ship_and_deliver(order_id)
    live = stable_summary(client)
    assert live["byStatus"]["DELIVERED"] == before + 1

    done = run_cli(running_oms, "analytics-backfill", "--reset")

    assert done.returncode == 0, done.stdout + done.stderr
    last_line = done.stdout.strip().splitlines()[-1]
    assert "analytics items deleted, then" in last_line
    assert f"{live['ordersPlaced']} orders applied: {live['ordersPlaced']} changed the analytics" in last_line
    assert summary(client) == live
