"""Order analytics on the real event flow (stream -> publisher -> bus -> rule -> queue -> aggregator):
the figures equal what the test's own orders imply, counted here from the orders and returns the API
shows, and the backfill rebuilds exactly what live aggregation built."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from functions.analytics_aggregator import handler as aggregator
from local.runtime import LocalOMS
from shared.clock import parse
from shared.dal import analytics as analytics_table
from shared.dal import dynamo
from shared.dal import orders as orders_table
from shared.logic import aggregation
from shared.logic.analytics import bucket, representative
from tests.integration.test_backorders import backordered
from tests.integration.test_backorders import receive as receive_stock
from tests.support.orders import CHANNEL_ID, Client, canonical_order
from tests.support.returns import authorized, deliver_all, delivered_order, receive, wait_for_return

SETTLE_SECONDS = 30
ITEMS_PER_DAY = 1 + len(analytics_table.FAMILIES)  # a scope's day in one shard


def _seconds(start: str, end: str) -> float:
    return max(0.0, (parse(end) - parse(start)).total_seconds())


def _first(order: dict[str, Any], status: str, after: str = "") -> str | None:
    return next(
        (
            e["at"]
            for e in sorted(order["timeline"], key=lambda e: e["at"])
            if e["status"] == status and e["at"] >= after
        ),
        None,
    )


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-quantile as the summary defines it (nearest rank), reported as its 2% bucket's value."""
    if not values:
        return None
    exact = sorted(values)[max(1, math.ceil(q * len(values))) - 1]
    return round(representative(bucket(exact)), 1)


def mean(values: list[float]) -> float | None:
    """A mean as the summary rounds it: each value to the millisecond, the mean to a tenth."""
    total = sum((Decimal(str(round(v, 3))) for v in values), Decimal(0))
    return round(float(total) / len(values), 1) if values else None


def _stage(durations: list[float]) -> dict[str, Any]:
    return {
        "count": len(durations),
        "p50Seconds": nearest_rank(durations, 0.5),
        "p90Seconds": nearest_rank(durations, 0.9),
        "meanSeconds": mean(durations),
    }


def expected_figures(
    orders: list[dict[str, Any]], returns: list[dict[str, Any]], warehouse: str | None = None
) -> dict[str, Any]:
    """The summary's figures, counted from the orders and returns as GET /orders and /returns show them."""
    if warehouse:
        orders = [o for o in orders if any(f["warehouseId"] == warehouse for f in o["fulfillments"])]
    ids = {o["orderId"] for o in orders}
    returns = [r for r in returns if r["orderId"] in ids]
    mine = (lambda f: f["warehouseId"] == warehouse) if warehouse else (lambda f: True)
    shipments = [(o, f) for o in orders for f in o["fulfillments"] if mine(f)]
    distances = []
    for o, f in shipments:
        planned = {s["warehouseId"]: s.get("distanceKm") for s in o["sourcing"]["shipments"]}
        if planned.get(f["warehouseId"]) is not None:
            distances.append(planned[f["warehouseId"]])
    reserved = {o["orderId"]: _first(o, "RESERVED") for o in orders}
    backordered_orders = [o for o in orders if _first(o, "BACKORDERED")]
    waits = [
        _seconds(since, filled)
        for o in backordered_orders
        if (since := _first(o, "BACKORDERED")) and (filled := _first(o, "RESERVED", after=since))
    ]
    cancelled = [o for o in orders if o["status"] == "CANCELLED"]
    units = (
        sum(f_line["quantity"] for _, f in shipments for f_line in f["lines"])
        if warehouse
        else sum(line["quantity"] for o in orders for line in o["lines"])
    )
    sold: Counter[str] = Counter()
    for o in orders:
        for line in o["lines"]:
            sold[line["sku"]] += line["quantity"]
    returned: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for r in returns:
        for line in r["lines"]:
            returned[line["sku"]] += line["quantity"]
            reasons[line["reason"].lower()] += line["quantity"]
    returned_units = sum(returned.values())
    shipped = [(o, f) for o, f in shipments if f["status"] in ("SHIPPED", "DELIVERED")]
    delivered = [(o, f) for o, f in shipments if f["status"] == "DELIVERED"]
    delivered_orders = [o for o in orders if o["status"] == "DELIVERED"]
    revenue = sum((Decimal(o["total"]) for o in orders), Decimal(0))
    refunds = sum((Decimal(r["refund"]["total"]) for r in returns if r.get("refund")), Decimal(0))
    return {
        "ordersPlaced": len(orders),
        "byStatus": dict(sorted(Counter(o["status"] for o in orders).items())),
        "units": units,
        "revenue": {"USD": f"{revenue:.2f}"},
        "leadTimes": {
            "placedToReserved": _stage(
                [_seconds(o["createdAt"], reserved[o["orderId"]]) for o in orders if reserved[o["orderId"]]]
            ),
            "reservedToShipped": _stage(
                [_seconds(reserved[o["orderId"]], f["shippedAt"]) for o, f in shipped]
            ),
            "shippedToDelivered": _stage([_seconds(f["shippedAt"], f["deliveredAt"]) for _, f in delivered]),
            "placedToDelivered": _stage(
                [
                    _seconds(o["createdAt"], max(f["deliveredAt"] for f in o["fulfillments"]))
                    for o in delivered_orders
                ]
            ),
        },
        "shipments": {
            "ordersPlanned": len({o["orderId"] for o, _ in shipments})
            if warehouse
            else len([o for o in orders if o["fulfillments"]]),
            "shipments": len(shipments),
            "splitOrders": len([o for o in orders if len(o["fulfillments"]) > 1]),
            "shipmentsPerOrder": round(len(shipments) / len([o for o in orders if o["fulfillments"]]), 3),
            "meanDistanceKm": mean(distances),
            "byStatus": dict(sorted(Counter(f["status"] for _, f in shipments).items())),
        },
        "backorders": {
            "orders": len(backordered_orders),
            "rate": round(len(backordered_orders) / len(orders), 4),
            "filled": len(waits),
            "expired": 0,
            "meanWaitSeconds": mean(waits),
        },
        "cancellations": {
            "orders": len(cancelled),
            "rate": round(len(cancelled) / len(orders), 4),
            "reasons": dict(Counter(o["statusReason"].split(":", 1)[0].strip() for o in cancelled)),
        },
        "returns": {
            "returns": len(returns),
            "units": returned_units,
            "rate": round(returned_units / units, 4),
            "bySku": [
                {"sku": sku, "unitsSold": sold[sku], "unitsReturned": n, "rate": round(n / sold[sku], 4)}
                for sku, n in sorted(returned.items(), key=lambda item: (-item[1], item[0]))
            ],
            "byReason": dict(sorted(reasons.items())),
        },
        "refunds": {"USD": f"{refunds:.2f}"} if refunds else {},
        "carrierFlagged": len([o for o in orders if o.get("attention")]),
    }


def summary(client: Client, query: str = "") -> dict[str, Any]:
    status, body = client.call("GET", f"/analytics/summary{query}")
    assert status == 200, body
    return dict(body)


def settled(client: Client, expected: dict[str, Any], query: str = "") -> dict[str, Any]:
    """The summary once the aggregator caught up with every change (its figures equal `expected`)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        body = summary(client, query)
        found = {key: body[key] for key in expected}
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture
def history(oms: LocalOMS, client: Client) -> dict[str, Any]:
    """Five orders: delivered, split and delivered, backordered then filled (still fulfilling),
    cancelled, and delivered with one unit returned and refunded."""
    assert client.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 5})[0] == 200
    single = delivered_order(client, [("MUG-BLUE", 2)])["orderId"]
    split = client.place(canonical_order([("CAP-RED", 2), ("TEE-M", 1)]))
    deliver_all(client, split)
    waiting = backordered(oms, client, [("TEE-M", 3)])  # 2 left at wh-west
    receive_stock(client, "TEE-M", "wh-west", 1)
    client.wait_for_status(waiting, "FULFILLING")
    cancelled = client.place(canonical_order([("MUG-BLUE", 1)]))
    client.wait_for_status(cancelled, "FULFILLING")
    assert client.call("POST", f"/orders/{cancelled}/cancel")[0] == 200
    returned = delivered_order(client, [("MUG-BLUE", 2)])["orderId"]
    return_id = authorized(client, returned, [("MUG-BLUE", 1)])["returnId"]
    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    wait_for_return(client, return_id, "CLOSED")
    ids = [single, split, waiting, cancelled, returned]
    return {
        "orders": [client.order(order_id) for order_id in ids],
        "returns": [client.call("GET", f"/returns/{return_id}")[1]],
    }


def test_the_summary_equals_what_the_orders_imply_and_the_backfill_rebuilds_it(
    client: Client, history: dict[str, Any]
) -> None:
    orders, returns = history["orders"], history["returns"]
    expected = expected_figures(orders, returns)
    assert settled(client, expected) == expected
    body = summary(client)
    assert body["byChannel"][CHANNEL_ID]["ordersPlaced"] == 5
    assert body["byChannel"][CHANNEL_ID]["refunds"] == {"USD": "12.50"}
    assert body["byWarehouse"] == {"wh-east": {"shipments": 4}, "wh-west": {"shipments": 2}}
    # One Query per counter shard, at most an item per family of the one day, whatever the volume.
    assert body["readCost"]["queries"] == analytics_table.ALL_SHARDS
    assert body["readCost"]["items"] <= ITEMS_PER_DAY * analytics_table.ALL_SHARDS
    assert summary(client, f"?channelId={CHANNEL_ID}")["ordersPlaced"] == 5
    assert summary(client, "?channelId=another-store")["ordersPlaced"] == 0

    west = expected_figures(orders, returns, warehouse="wh-west")
    found = summary(client, "?warehouseId=wh-west")
    assert (found["ordersPlaced"], found["byStatus"], found["units"]) == (
        2,
        {"DELIVERED": 1, "FULFILLING": 1},
        4,
    )
    for key in ("leadTimes", "shipments", "backorders", "cancellations"):
        assert found[key] == west[key], key

    live = analytics_table.counters_by_key()
    items = len(list(analytics_table.every_item()))
    report = aggregation.backfill(orders_table.order_ids(), reset=True)
    assert (report.orders, report.changed) == (5, 5)
    assert report.deleted == items  # every counters item (of any shard) and each order's record
    assert analytics_table.counters_by_key() == live
    assert aggregation.backfill(orders_table.order_ids()).changed == 0  # nothing drifted


def _events(order_ids: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"r{n}",
                "body": json.dumps({"detail": {"data": {"orderId": order_id}}}),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for n, order_id in enumerate(order_ids)
        ]
    }


def test_a_batch_of_events_is_applied_in_one_transaction(client: Client, history: dict[str, Any]) -> None:
    settled(client, expected_figures(history["orders"], history["returns"]))
    live = analytics_table.counters_by_key()
    aggregation.backfill([], reset=True)
    order_ids = [o["orderId"] for o in history["orders"]]
    writes: list[int] = []

    def counted(params: dict[str, Any], **_: Any) -> None:
        writes.append(len(params["TransactItems"]))

    events = dynamo.client().meta.events
    events.register("provide-client-params.dynamodb.TransactWriteItems", counted)
    try:
        batch = _events([*order_ids, *order_ids, "not-an-order"])  # every order twice, one unknown
        answer = aggregator._batch({**batch, "Records": [*batch["Records"], _broken()]}, None)
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", counted)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "broken"}]}  # no order id in it
    assert len(writes) == 1  # 5 orders' records and their combined counters, one transaction
    assert analytics_table.counters_by_key() == live


def _broken() -> dict[str, Any]:
    return {
        "messageId": "broken",
        "receiptHandle": "rb",
        "body": "{}",
        "attributes": {},
        "eventSource": "aws:sqs",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/analytics/summary?from=2026-13-01", "from"),
        ("/analytics/summary?to=yesterday", "to"),
        ("/analytics/summary?from=2026-12-02&to=2026-12-01", "from"),
        ("/analytics/summary?from=2024-01-01&to=2026-01-01", "from"),
        ("/analytics/summary?channelId=not%20an%20id", "channelId"),
        ("/analytics/timeseries?metric=nope", "metric"),
        ("/analytics/timeseries", "metric"),
        ("/analytics/timeseries?metric=ordersPlaced&interval=hour", "interval"),
        ("/analytics/timeseries?metric=ordersPlaced&by=channel&channelId=test-store", "by"),
        ("/analytics/warehouses", "latitude"),
        ("/analytics/warehouses?latitude=40&longitude=-74", "radiusKm"),
        ("/analytics/warehouses?latitude=40&longitude=-74&radiusKm=5000", "radiusKm"),
        ("/analytics/warehouses?country=USA", "country"),
        ("/analytics/warehouses?country=US&latitude=40&longitude=-74&radiusKm=10", "country"),
        ("/analytics/export?from=12/01/2026", "from"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(client: Client, query: str, field: str) -> None:
    status, body = client.call("GET", query)
    assert status == 400, body
    assert field in str(body["error"]), body


def test_timeseries_export_and_region_read_the_same_aggregates(oms: LocalOMS, client: Client) -> None:
    order_id = delivered_order(client, [("MUG-BLUE", 3)])["orderId"]
    today = client.order(order_id)["createdAt"][:10]
    deadline = time.monotonic() + SETTLE_SECONDS
    while summary(client)["byStatus"] != {"DELIVERED": 1} and time.monotonic() < deadline:
        time.sleep(0.2)

    status, series = client.call(
        "GET", f"/analytics/timeseries?metric=units&from={today}&to={today}&by=channel"
    )
    assert status == 200, series
    assert series["points"] == [{"date": today, "value": 3}]
    assert series["byChannel"] == {CHANNEL_ID: [{"date": today, "value": 3}]}
    shards = analytics_table.ALL_SHARDS + analytics_table.COUNTER_SHARDS  # every order, its channel
    assert series["readCost"]["queries"] == shards
    assert series["readCost"]["items"] <= ITEMS_PER_DAY * shards
    status, weekly = client.call(
        "GET", f"/analytics/timeseries?metric=byStatus.DELIVERED&interval=week&to={today}"
    )
    assert status == 200, weekly
    assert sum(point["value"] or 0 for point in weekly["points"]) == 1

    status, metrics = client.call("GET", "/analytics/metrics")
    assert status == 200 and "leadTimes.placedToDelivered.p90Seconds" in metrics["metrics"]

    exported = oms.request(
        "GET", f"/analytics/export?from={today}&to={today}", headers={"x-api-key": oms.api_key}
    )
    assert (exported.status, exported.header("content-type")) == (200, "text/csv; charset=utf-8")
    header, row = exported.body.decode().strip().split("\n")
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["date"], values["ordersPlaced"], values["units"]) == (today, "1", "3")

    status, region = client.call("GET", "/analytics/warehouses?country=us")
    assert status == 200, region
    assert [(w["warehouseId"], w["shipments"]) for w in region["warehouses"]] == [("wh-east", 1)]
    status, around_boston = client.call(
        "GET", "/analytics/warehouses?latitude=42.36&longitude=-71.06&radiusKm=50"
    )
    assert status == 200, around_boston
    assert around_boston["orders"] == 1
    assert around_boston["warehouses"][0]["meanDistanceKm"] == pytest.approx(316, abs=10)  # Newark to Boston
    status, far_away = client.call("GET", "/analytics/warehouses?latitude=48.85&longitude=2.35&radiusKm=100")
    assert (status, far_away["orders"], far_away["warehouses"]) == (200, 0, [])
