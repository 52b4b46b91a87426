"""The analytics' pure parts: an order's contribution, replacing it, the figures read back, percentiles
and periods."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from shared.errors import InvalidRequest
from shared.logic import aggregation
from shared.logic.analytics import (
    ALL,
    GAMMA,
    RELATIVE_ACCURACY,
    bucket,
    cell_scope,
    contribution,
    decode,
    difference,
    encode,
    figures,
    merge,
    percentile,
    representative,
    warehouses_for_region,
)
from shared.models.order import OrderView
from shared.models.returns import Return

DAY = "2026-11-20"


def order(**changes: Any) -> OrderView:
    base: dict[str, Any] = {
        "orderId": "ord_1",
        "channelId": "shop",
        "channelOrderId": "1001",
        "status": "DELIVERED",
        "currency": "USD",
        "total": "30.00",
        "lines": [
            {"sku": "MUG", "quantity": 2, "unitPrice": "12.50"},
            {"sku": "CAP", "quantity": 1, "unitPrice": "5"},
        ],
        "shippingAddress": {
            "name": "Ada",
            "line1": "1 Main St",
            "city": "Boston",
            "country": "US",
            "latitude": 42.36,
            "longitude": -71.06,
        },
        "sourcing": {
            "shipments": [
                {"warehouseId": "east", "lines": [{"sku": "MUG", "quantity": 2}], "distanceKm": 300.0},
                {"warehouseId": "west", "lines": [{"sku": "CAP", "quantity": 1}], "distanceKm": 4000.0},
            ],
            "decidedBy": "FEWEST_SHIPMENTS",
            "explanation": "no warehouse holds both",
            "rejected": [{"warehouseId": "north", "reason": "NO_STOCK", "message": "holds none"}],
            "usedFallback": False,
        },
        "fulfillments": [
            fulfillment(
                "F1",
                "east",
                "MUG",
                2,
                shipped="2026-11-21T10:00:00.000Z",
                delivered="2026-11-23T10:00:00.000Z",
            ),
            fulfillment(
                "F2",
                "west",
                "CAP",
                1,
                shipped="2026-11-22T10:00:00.000Z",
                delivered="2026-11-25T10:00:00.000Z",
            ),
        ],
        "timeline": [
            {"status": "RECEIVED", "at": f"{DAY}T10:00:00.000Z"},
            {"status": "RESERVED", "at": f"{DAY}T10:00:30.000Z"},
            {"status": "DELIVERED", "at": "2026-11-25T10:00:01.000Z"},
        ],
        "createdAt": f"{DAY}T10:00:00.000Z",
        "updatedAt": "2026-11-25T10:00:01.000Z",
    }
    base.update(changes)
    return OrderView.model_validate(base)


def fulfillment(
    fid: str,
    warehouse: str,
    sku: str,
    quantity: int,
    *,
    shipped: str | None = None,
    delivered: str | None = None,
) -> dict[str, Any]:
    status = "DELIVERED" if delivered else "SHIPPED" if shipped else "REQUESTED"
    return {
        "fulfillmentId": f"ord_1-{fid}",
        "orderId": "ord_1",
        "warehouseId": warehouse,
        "lines": [{"sku": sku, "quantity": quantity}],
        "status": status,
        "shippedAt": shipped,
        "deliveredAt": delivered,
        "createdAt": f"{DAY}T10:00:30.000Z",
        "updatedAt": delivered or shipped or f"{DAY}T10:00:30.000Z",
    }


def a_return(**changes: Any) -> Return:
    base: dict[str, Any] = {
        "returnId": "ord_1-R1",
        "orderId": "ord_1",
        "channelId": "shop",
        "status": "CLOSED",
        "resolution": "REFUND",
        "requestedResolution": "REFUND",
        "lines": [{"sku": "MUG", "quantity": 1, "reason": "Does not fit"}],
        "policy": {},
        "deadline": "2026-12-20T00:00:00.000Z",
        "currency": "USD",
        "expectedRefund": "12.50",
        "refund": {
            "refundId": "ord_1-R1-RF",
            "status": "SUCCEEDED",
            "method": "CHANNEL",
            "lines": [],
            "shipping": "0",
            "total": "12.50",
            "currency": "USD",
        },
        "createdAt": "2026-11-26T10:00:00.000Z",
        "updatedAt": "2026-11-27T10:00:00.000Z",
    }
    base.update(changes)
    return Return.model_validate(base)


@pytest.mark.parametrize("seconds", [1.5, 2, 59, 3600, 86400 * 3.3, 86400 * 45, 86400 * 365])
def test_a_bucket_stands_for_its_durations_within_two_percent(seconds: float) -> None:
    assert abs(representative(bucket(seconds)) - seconds) / seconds <= RELATIVE_ACCURACY + 1e-9
    assert GAMMA ** (bucket(seconds) - 1) < seconds <= GAMMA ** bucket(seconds) + 1e-6


def test_a_percentile_is_the_nearest_rank_durations_bucket() -> None:
    durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    histogram: dict[int, int] = {}
    for d in durations:
        histogram[bucket(d)] = histogram.get(bucket(d), 0) + 1
    assert percentile(histogram, 0.5) == pytest.approx(50, rel=RELATIVE_ACCURACY)  # the 5th of 10
    assert percentile(histogram, 0.9) == pytest.approx(90, rel=RELATIVE_ACCURACY)
    assert percentile({}, 0.5) is None
    assert percentile({0: 3}, 0.9) == 1.0  # a second or less


def test_a_split_delivered_order_contributes_to_its_channel_its_warehouses_and_its_region() -> None:
    counters = contribution(order(), [a_return()])
    everyone = counters[(ALL, DAY)]
    assert everyone["placed"] == everyone["st|DELIVERED"] == everyone["split"] == 1
    assert (everyone["units"], everyone["us|MUG"], everyone["us|CAP"]) == (3, 2, 1)
    assert everyone["rev|USD"] == Decimal("30.00")
    assert (everyone["shipments"], everyone["dist|n"], everyone["dist|sum"]) == (2, 2, Decimal("4300.0"))
    assert everyone["lt|placedToReserved|sum"] == 30
    assert everyone["lt|placedToDelivered|sum"] == 5 * 86400
    assert everyone["lt|shippedToDelivered|n"] == 2
    assert (everyone["returns"], everyone["rs|MUG"], everyone["rr|does not fit"]) == (1, 1, 1)
    assert everyone["rf|USD"] == Decimal("12.50")
    assert everyone["bych|shop|placed"] == 1
    assert counters[("CH#shop", DAY)]["placed"] == 1
    east = counters[("WH#east", DAY)]
    assert (east["placed"], east["shipments"], east["units"], east["split"]) == (1, 1, 2, 1)
    assert "rev|USD" not in east and "returns" not in east  # not split by warehouse
    assert counters[("CH#shop#WH#west", DAY)]["units"] == 1
    country = counters[("CTRY#US", DAY)]
    assert (country["orders"], country["w|east|shipments"], country["w|north|couldNot"]) == (1, 1, 1)
    assert counters[(cell_scope(42.36, -71.06), DAY)] == country


def test_a_cancelled_backorder_counts_its_wait_and_its_reason() -> None:
    cancelled = order(
        status="CANCELLED",
        statusReason="BACKORDER_EXPIRED: no stock of MUG since then",
        fulfillments=[],
        sourcing=None,
        timeline=[
            {"status": "RECEIVED", "at": f"{DAY}T10:00:00.000Z"},
            {"status": "BACKORDERED", "at": f"{DAY}T10:00:01.000Z"},
            {"status": "CANCELLED", "at": "2026-11-27T10:00:01.000Z"},
        ],
    )
    counters = contribution(cancelled)[(ALL, DAY)]
    assert (counters["bo"], counters["bo|expired"], counters["cr|BACKORDER_EXPIRED"]) == (1, 1, 1)
    assert "bo|filled" not in counters and "shipments" not in counters
    shown = figures(counters)
    assert shown["backorders"] == {
        "orders": 1,
        "rate": 1.0,
        "filled": 0,
        "expired": 1,
        "meanWaitSeconds": None,
    }
    assert shown["cancellations"] == {"orders": 1, "rate": 1.0, "reasons": {"BACKORDER_EXPIRED": 1}}


def test_replacing_a_contribution_adds_only_the_difference_and_nothing_when_unchanged() -> None:
    before = contribution(order(status="FULFILLING", fulfillments=[fulfillment("F1", "east", "MUG", 2)]))
    after = contribution(order())
    delta = difference(after, before)
    assert delta[(ALL, DAY)]["st|FULFILLING"] == -1
    assert delta[(ALL, DAY)]["st|DELIVERED"] == 1
    assert "placed" not in delta[(ALL, DAY)]
    assert difference(after, after) == {}
    assert decode(encode(after)) == after
    applied = merge([before[(ALL, DAY)], delta[(ALL, DAY)]])
    assert {k: v for k, v in applied.items() if v} == after[(ALL, DAY)]


def test_figures_of_nothing_divide_by_nothing() -> None:
    shown = figures({})
    assert (shown["ordersPlaced"], shown["byStatus"], shown["revenue"]) == (0, {}, {})
    assert shown["cancellations"]["rate"] is None and shown["returns"]["rate"] is None
    assert shown["leadTimes"]["placedToReserved"] == {
        "count": 0,
        "p50Seconds": None,
        "p90Seconds": None,
        "meanSeconds": None,
    }


def test_top_warehouses_of_a_region_come_most_shipments_first() -> None:
    counters = contribution(order())[("CTRY#US", DAY)]
    shown = warehouses_for_region(merge([counters, counters]))
    assert shown["orders"] == 2
    assert [(w["warehouseId"], w["shipments"], w["couldNot"]) for w in shown["warehouses"]] == [
        ("east", 2, 0),
        ("west", 2, 0),
        ("north", 0, 2),
    ]
    assert shown["warehouses"][0]["meanDistanceKm"] == 300.0
    assert shown["warehouses"][0]["meanDaysToDelivery"] == 3.0
    assert shown["warehouses"][2]["couldNotRate"] == 1.0


def test_periods_default_to_thirty_days_and_refuse_what_is_not_a_period() -> None:
    default = aggregation.period(None, "2026-12-03")
    assert (default.first.isoformat(), len(default.days)) == ("2026-11-04", 30)
    for first, last, field in [
        ("2026-12-04", "2026-12-03", "from"),
        ("2025-01-01", "2026-12-03", "from"),
        ("2026-1-1", None, "from"),
        (None, "20261203", "to"),
    ]:
        with pytest.raises(InvalidRequest) as refused:
            aggregation.period(first, last)
        assert refused.value.details == {"field": field}


def test_a_circle_touches_the_cells_around_its_centre() -> None:
    cells = aggregation._cells_within(42.36, -71.06, 50)
    assert cell_scope(42.36, -71.06) in cells and len(cells) == 4
    across_the_antimeridian = aggregation._cells_within(0.5, 179.9, 100)
    assert cell_scope(0.5, -179.5) in across_the_antimeridian
    assert all(-180 <= int(c.split("#")[2]) < 180 for c in across_the_antimeridian)
    assert math.isclose(aggregation.KM_PER_DEGREE, 111.32)
