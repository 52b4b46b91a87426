"""Warehouses may declare a daily order capacity."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.orders import Client

AUSTIN = {"name": "Austin TX", "latitude": 30.2672, "longitude": -97.7431, "country": "US"}


def listed(client: Client) -> dict[str, Any]:
    status, body = client.call("GET", "/warehouses")
    assert status == 200, body
    return {w["warehouseId"]: w for w in body["warehouses"]}


def test_a_daily_order_capacity_is_stored_and_shown(client: Client) -> None:
    warehouse = {**AUSTIN, "dailyOrderCapacity": 500}

    status, created = client.call("PUT", "/warehouses/wh-south", warehouse)
    warehouses = listed(client)

    assert (status, created["dailyOrderCapacity"]) == (201, 500)
    assert warehouses["wh-south"]["dailyOrderCapacity"] == 500
    assert warehouses["wh-east"]["dailyOrderCapacity"] is None  # warehouses without one stay valid

    status, replaced = client.call("PUT", "/warehouses/wh-south", AUSTIN)  # a PUT replaces the warehouse
    assert (status, replaced["dailyOrderCapacity"]) == (200, None)
    assert listed(client)["wh-south"]["dailyOrderCapacity"] is None


@pytest.mark.parametrize("capacity", [1, 1_000_000])
def test_a_daily_order_capacity_may_be_anything_from_one_to_a_million(client: Client, capacity: int) -> None:
    status, body = client.call("PUT", "/warehouses/wh-south", {**AUSTIN, "dailyOrderCapacity": capacity})

    assert (status, body["dailyOrderCapacity"]) == (201, capacity)


@pytest.mark.parametrize("capacity", [0, -1, 1_000_001, True, False, 2.5, "many", [], {}])
def test_a_daily_order_capacity_must_be_a_whole_number_from_one_to_a_million(
    client: Client, capacity: Any
) -> None:
    status, body = client.call("PUT", "/warehouses/wh-south", {**AUSTIN, "dailyOrderCapacity": capacity})

    assert status == 400, body
    assert [problem["field"] for problem in body["error"]["details"]] == ["dailyOrderCapacity"]
    assert "wh-south" not in listed(client)
