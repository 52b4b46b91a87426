"""The local run: signed orders through the in-process API gateway on moto, from webhook to DELIVERED.

It uses the OMS as its clients do (`tests.support.orders.Client` over `LocalOMS.request`): webhooks
from the channel, then PICKED, PACKED, SHIPPED and DELIVERED from the warehouse and the carrier.
Every handler is the real one, wrapped only to be timed. What the benchmark does to watch the OMS
(GET requests, polling, reading histories) runs `unobserved` and is not counted as order usage.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeSerializer

from benchmarks.dynamodb_units import TableInfo
from benchmarks.recorder import Recorder, Usage
from blueprint import FUNCTIONS, ORDERS, TABLES
from local.gateway import COMPILED_ROUTES
from local.invoker import import_handler
from local.runtime import LocalOMS
from shared import aws
from shared.dal.orders import order_key
from tests.support.orders import STOCK, Client, Send, canonical_order

# Orders alternate between these shapes: the first ships from wh-east (nearest to Boston), the
# second only from wh-west (the only warehouse holding TEE-M). On average 1.5 lines per order.
ORDER_SHAPES: tuple[list[tuple[str, int]], ...] = ([("MUG-BLUE", 2)], [("MUG-BLUE", 1), ("TEE-M", 1)])
STOCK_PER_ORDER = 10  # onHand per SKU and warehouse, per order: stock is never the constraint
# The carrier's DELIVERED comes hours after SHIPPED: it is sent once the workflow awaits it.
SHIPPING_EVENTS = ("PICKED", "PACKED", "SHIPPED")
DELIVERY_EVENTS = ("DELIVERED",)
CARRIER = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
# Waiting states of the workflow: an order is FULFILLING once AwaitShipment has parked its token.
AWAIT_SHIPMENT_STATE = "AwaitShipment"
AWAIT_DELIVERY_STATE = "AwaitDelivery"
ENDED = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
POLL_SECONDS = 0.05

StockLevels = dict[tuple[str, str], dict[str, int]]  # (sku, warehouse) -> onHand, reserved, available
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Settings:
    orders: int
    concurrency: int
    warmup: int
    timeout_seconds: float = 300.0  # for each wait


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Shipment:
    order_id: str
    fulfillment_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float


@dataclass
class Timings:
    intake_seconds: list[float]  # per webhook, as the channel saw it
    event_seconds: dict[str, list[float]]  # per fulfillment event type, as the sender saw it
    placing_seconds: float  # first webhook sent -> last webhook answered
    phases: list[Phase]  # one after the other; together, the whole lifecycle

    @property
    def total_seconds(self) -> float:
        return sum(phase.seconds for phase in self.phases)


@dataclass(frozen=True)
class Measured:
    order_ids: list[str]
    shipments: list[Shipment]
    timings: Timings


@dataclass(frozen=True)
class MotoProbe:
    """Local time of single requests on the Orders table as the run left it, with nothing else running."""

    table_items: int
    get_item_ms: float
    condition_check_ms: float  # TransactWriteItems holding one ConditionCheck: it changes nothing


@dataclass
class RunResult:
    settings: Settings
    timings: Timings
    to_fulfilling_seconds: list[float]  # per order, RECEIVED -> FULFILLING in its timeline
    usage: Usage  # the measured orders
    warmup_usage: Usage  # the sequential warm-up orders
    histories: dict[str, list[dict[str, Any]]]  # order id -> its execution's history
    checks: list[Check]
    stock_before: StockLevels
    stock_after: StockLevels
    shipped: dict[tuple[str, str], int]
    tables: dict[str, TableInfo]  # physical table name -> keys and indexes
    final_items: dict[str, list[dict[str, Any]]]  # physical table name -> items at the end
    probe: MotoProbe


def run(settings: Settings) -> RunResult:
    recorder = Recorder()
    recorder.install()  # before any boto3 session exists, so that every client reports its calls
    try:
        with LocalOMS("inprocess") as oms:
            aws.reset()
            try:
                return _run(oms, recorder, settings)
            finally:
                aws.reset()
    finally:
        recorder.uninstall()


def _run(oms: LocalOMS, recorder: Recorder, settings: Settings) -> RunResult:
    for function in FUNCTIONS.values():
        oms.override_handler(function.name, recorder.timed(function.name, import_handler(function.handler)))
    client = Client(_sender(oms, recorder))
    _seed(client, settings)
    with recorder.window() as warmup_usage:
        _warm_up(oms, client, recorder, settings)
    stock_before = _stock(client)
    with recorder.window() as usage:
        measured = _measure(oms, client, recorder, settings)
    with recorder.unobserved():
        return _results(
            oms, client, settings, measured, usage=usage, warmup_usage=warmup_usage, stock_before=stock_before
        )


def _results(
    oms: LocalOMS,
    client: Client,
    settings: Settings,
    measured: Measured,
    *,
    usage: Usage,
    warmup_usage: Usage,
    stock_before: StockLevels,
) -> RunResult:
    order_ids = measured.order_ids
    orders = {order_id: client.order(order_id) for order_id in order_ids}
    histories = {order_id: oms.execution_history(order_id) for order_id in order_ids}
    stock_after = _stock(client)
    shipped = _shipped(measured.shipments)
    checks = [
        _executions_check(oms, order_ids, histories),
        _orders_check(orders),
        _inventory_check(stock_before, stock_after, shipped),
        _shipped_check(shipped, settings.orders),
    ]
    return RunResult(
        settings=settings,
        timings=measured.timings,
        to_fulfilling_seconds=[_to_fulfilling(order) for order in orders.values()],
        usage=usage,
        warmup_usage=warmup_usage,
        histories=histories,
        checks=checks,
        stock_before=stock_before,
        stock_after=stock_after,
        shipped=shipped,
        tables=_tables(oms),
        final_items=_final_items(oms),
        probe=_probe(oms, order_ids[0]),
    )


# -- talking to the OMS ------------------------------------------------------------------------


def _sender(oms: LocalOMS, recorder: Recorder) -> Send:
    """The Client's transport: GETs are the benchmark watching (unobserved), the rest is order work."""

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        if method == "GET":
            with recorder.unobserved():
                response = oms.request(method, path, headers=headers, body=body)
        else:
            recorder.count_api_request(f"{method} {route_of(method, path)}")
            response = oms.request(method, path, headers=headers, body=body)
        return response.status, response.json() if response.body else None

    return send


def route_of(method: str, path: str) -> str:
    """The API Gateway resource a request goes to, e.g. `/fulfillments/{fulfillmentId}/events`."""
    for compiled in COMPILED_ROUTES:
        if compiled.route.method == method and compiled.pattern.match(path.partition("?")[0]):
            return compiled.route.path
    return path


def _seed(client: Client, settings: Settings) -> None:
    client.seed()
    on_hand = STOCK_PER_ORDER * (settings.orders + settings.warmup)
    for sku, warehouse_id in STOCK:
        status, body = client.call("PUT", f"/inventory/{sku}/locations/{warehouse_id}", {"onHand": on_hand})
        if status != 200:
            raise RuntimeError(f"could not stock {sku} at {warehouse_id}: {status} {body}")


def _new_order(number: int) -> dict[str, Any]:
    return canonical_order(ORDER_SHAPES[number % len(ORDER_SHAPES)])


def lines_per_order(orders: int) -> float:
    """The mean number of lines of the first `orders` orders (shapes alternate)."""
    return sum(len(ORDER_SHAPES[n % len(ORDER_SHAPES)]) for n in range(orders)) / max(1, orders)


def _warm_up(oms: LocalOMS, client: Client, recorder: Recorder, settings: Settings) -> None:
    """A few orders one at a time: imports and first calls happen here, not in the measured run."""
    for number in range(settings.warmup):
        order_id = client.place(_new_order(number))
        shipment = _shipment(client.wait_for_status(order_id, "FULFILLING"))
        _send_events(client, shipment, SHIPPING_EVENTS)
        with recorder.unobserved():
            _wait_until_parked(oms, [order_id], AWAIT_DELIVERY_STATE, settings)
        _send_events(client, shipment, DELIVERY_EVENTS)
        with recorder.unobserved():
            oms.wait_for_execution(order_id, timeout=settings.timeout_seconds)


def _measure(oms: LocalOMS, client: Client, recorder: Recorder, settings: Settings) -> Measured:
    """Three phases, each ending when every order has reached where the next phase starts."""
    started = time.perf_counter()
    placed = _in_parallel(settings.concurrency, lambda n: _timed_place(client, n), range(settings.orders))
    placing = time.perf_counter() - started
    order_ids = [order_id for order_id, _ in placed]
    with recorder.unobserved():
        _wait_until_parked(oms, order_ids, AWAIT_SHIPMENT_STATE, settings)
        intake = Phase("intake: webhooks until every order FULFILLING", time.perf_counter() - started)
        shipments = [_shipment(client.order(order_id)) for order_id in order_ids]
    shipping, shipping_latencies = _events_phase(
        client,
        recorder,
        settings,
        shipments=shipments,
        events=SHIPPING_EVENTS,
        until=lambda: _wait_until_parked(oms, order_ids, AWAIT_DELIVERY_STATE, settings),
    )
    delivery, delivery_latencies = _events_phase(
        client,
        recorder,
        settings,
        shipments=shipments,
        events=DELIVERY_EVENTS,
        until=lambda: _wait_for_executions(oms, order_ids, settings),
    )
    timings = Timings(
        intake_seconds=[seconds for _, seconds in placed],
        event_seconds=shipping_latencies | delivery_latencies,
        placing_seconds=placing,
        phases=[
            intake,
            Phase("shipping: PICKED, PACKED, SHIPPED until every workflow awaits delivery", shipping),
            Phase("delivery: DELIVERED until every execution ended", delivery),
        ],
    )
    return Measured(order_ids, shipments, timings)


def _events_phase(
    client: Client,
    recorder: Recorder,
    settings: Settings,
    *,
    shipments: list[Shipment],
    events: tuple[str, ...],
    until: Callable[[], None],
) -> tuple[float, dict[str, list[float]]]:
    """Send `events` for every shipment from concurrent clients, then wait `until`.

    Returns the phase's seconds and the latencies by event type."""
    started = time.perf_counter()
    per_order = _in_parallel(settings.concurrency, lambda s: _send_events(client, s, events), shipments)
    with recorder.unobserved():
        until()
    latencies: dict[str, list[float]] = {event: [] for event in events}
    for sent in per_order:
        for event, seconds in sent:
            latencies[event].append(seconds)
    return time.perf_counter() - started, latencies


def _in_parallel(workers: int, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench") as pool:
        return list(pool.map(work, items))


def _timed_place(client: Client, number: int) -> tuple[str, float]:
    order = _new_order(number)
    started = time.perf_counter()
    order_id = client.place(order)
    return order_id, time.perf_counter() - started


def _shipment(order: dict[str, Any]) -> Shipment:
    (fulfillment,) = order["fulfillments"]
    return Shipment(
        order_id=order["orderId"],
        fulfillment_id=fulfillment["fulfillmentId"],
        warehouse_id=fulfillment["warehouseId"],
        lines=tuple((line["sku"], line["quantity"]) for line in fulfillment["lines"]),
    )


def _send_events(client: Client, shipment: Shipment, events: tuple[str, ...]) -> list[tuple[str, float]]:
    return [(event, _send_event(client, shipment.fulfillment_id, event)) for event in events]


def _send_event(client: Client, fulfillment_id: str, event: str) -> float:
    extra = CARRIER if event == "SHIPPED" else {}
    started = time.perf_counter()
    status, body = client.fulfillment_event(fulfillment_id, event, **extra)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{event} for {fulfillment_id} answered {status}: {body}")
    return elapsed


def _wait_until_parked(oms: LocalOMS, order_ids: list[str], state: str, settings: Settings) -> None:
    """Until each execution has parked its task token in `state` (TaskSubmitted), one order at a time.

    Only the execution history is read (no DynamoDB request, so no contention with the handlers).
    """
    deadline = time.monotonic() + settings.timeout_seconds
    for order_id in order_ids:
        while not _parked(order_id, oms.execution_history(order_id), state):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{order_id} is not waiting in {state} after {settings.timeout_seconds}s")
            time.sleep(POLL_SECONDS)


def _parked(order_id: str, history: list[dict[str, Any]], state: str) -> bool:
    in_state = False
    for event in history:
        if event["type"] in ENDED:
            raise RuntimeError(f"the execution of {order_id} ended at {_last_state(history)} before {state}")
        if "stateEnteredEventDetails" in event:
            in_state = event["stateEnteredEventDetails"]["name"] == state
        elif in_state and event["type"] == "TaskSubmitted":
            return True
    return False


def _wait_for_executions(oms: LocalOMS, order_ids: list[str], settings: Settings) -> None:
    for order_id in order_ids:
        oms.wait_for_execution(order_id, timeout=settings.timeout_seconds)


def _stock(client: Client) -> StockLevels:
    levels: StockLevels = {}
    for sku in sorted({sku for sku, _ in STOCK}):
        for warehouse_id, level in client.stock(sku).items():
            levels[(sku, warehouse_id)] = {k: level[k] for k in ("onHand", "reserved", "available")}
    return levels


# -- what the run is checked against ---------------------------------------------------------


def _executions_check(
    oms: LocalOMS, order_ids: list[str], histories: dict[str, list[dict[str, Any]]]
) -> Check:
    statuses = {order_id: oms.execution_status(order_id) for order_id in order_ids}
    last_states = {order_id: _last_state(histories[order_id]) for order_id in order_ids}
    wrong = [
        f"{order_id}: {statuses[order_id]} at {last_states[order_id]}"
        for order_id in order_ids
        if statuses[order_id] != "SUCCEEDED" or last_states[order_id] != "Delivered"
    ]
    detail = f"{len(order_ids) - len(wrong)} of {len(order_ids)} SUCCEEDED in state Delivered"
    return Check("every execution SUCCEEDED", not wrong, detail + _first(wrong))


def _last_state(history: list[dict[str, Any]]) -> str | None:
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    return entered[-1] if entered else None


def _orders_check(orders: dict[str, dict[str, Any]]) -> Check:
    wrong = [
        f"{order_id}: {order['status']}"
        for order_id, order in orders.items()
        if order["status"] != "DELIVERED" or any(f["status"] != "DELIVERED" for f in order["fulfillments"])
    ]
    detail = f"{len(orders) - len(wrong)} of {len(orders)} orders and their fulfillments DELIVERED"
    return Check("every order DELIVERED", not wrong, detail + _first(wrong))


def _shipped(shipments: list[Shipment]) -> dict[tuple[str, str], int]:
    shipped: dict[tuple[str, str], int] = {}
    for shipment in shipments:
        for sku, quantity in shipment.lines:
            key = (sku, shipment.warehouse_id)
            shipped[key] = shipped.get(key, 0) + quantity
    return shipped


def _inventory_check(before: StockLevels, after: StockLevels, shipped: dict[tuple[str, str], int]) -> Check:
    wrong = []
    for key, level in sorted(after.items()):
        expected = before[key]["onHand"] - shipped.get(key, 0)
        if (level["onHand"], level["reserved"], level["available"]) != (expected, 0, expected):
            wrong.append(f"{key}: {level}, expected onHand = available = {expected}, reserved 0")
    detail = "onHand dropped by exactly what shipped, reserved back to 0, available = onHand"
    return Check("inventory adds up", not wrong and set(before) == set(after), detail + _first(wrong))


def _shipped_check(shipped: dict[tuple[str, str], int], orders: int) -> Check:
    ordered = sum(quantity for n in range(orders) for _, quantity in ORDER_SHAPES[n % len(ORDER_SHAPES)])
    total = sum(shipped.values())
    return Check("units shipped = units ordered", total == ordered, f"{total} shipped, {ordered} ordered")


def _first(problems: list[str]) -> str:
    return f"; first problem: {problems[0]}" if problems else ""


def _to_fulfilling(order: dict[str, Any]) -> float:
    at = {entry["status"]: datetime.fromisoformat(entry["at"]) for entry in order["timeline"]}
    return (at["FULFILLING"] - at["RECEIVED"]).total_seconds()


# -- what the tables look like (for item sizes) -----------------------------------------------


def _tables(oms: LocalOMS) -> dict[str, TableInfo]:
    names = oms.deployment.table_names
    return {
        names[table.name]: TableInfo(
            key_attributes=tuple(k for k in (table.partition_key, table.sort_key) if k),
            indexes=table.indexes,
        )
        for table in TABLES.values()
    }


def _final_items(oms: LocalOMS) -> dict[str, list[dict[str, Any]]]:
    dynamodb = oms.client("dynamodb")
    return {
        name: [
            item for page in dynamodb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]
        ]
        for name in oms.deployment.table_names.values()
    }


def _probe(oms: LocalOMS, order_id: str, repeats: int = 5) -> MotoProbe:
    dynamodb, table = oms.client("dynamodb"), oms.deployment.table_names[ORDERS.name]
    key = {name: TypeSerializer().serialize(value) for name, value in order_key(order_id).items()}
    check = {
        "ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": "attribute_exists(pk)"}
    }
    return MotoProbe(
        table_items=dynamodb.describe_table(TableName=table)["Table"]["ItemCount"],
        get_item_ms=_median_ms(lambda: dynamodb.get_item(TableName=table, Key=key), repeats),
        condition_check_ms=_median_ms(lambda: dynamodb.transact_write_items(TransactItems=[check]), repeats),
    )


def _median_ms(call: Callable[[], Any], repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return 1000 * statistics.median(seconds)
