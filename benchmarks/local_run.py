"""The local run: signed orders through the in-process API gateway on moto, from webhook to DELIVERED.

It uses the OMS as its clients do (`tests.support.orders.Client` over `LocalOMS.request`): webhooks
from the channel, then PICKED, PACKED, SHIPPED and DELIVERED from the warehouse and the carrier, for
every fulfillment of every order. A `Scenario` says what the orders are and how the OMS should split
them: `SINGLE_SHIPMENT` (each order from one warehouse) or `SPLIT_SHIPMENT` (two warehouses each).
Every handler is the real one, wrapped only to be timed. What the benchmark does to watch the OMS
(GET requests, polling, reading histories) runs `unobserved` and is not counted as order usage.

The orders also drive the asynchronous side (the tables' streams, `EventPublisher`, the bus rules'
queues and the functions they feed): every window stays open until it has drained (`drain`), so
what an order makes happen there is counted in its window, and the seeding's own events in none.
The channel's customer e-mails are on (`Settings.emails`), from the demo sender LocalOMS verifies.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config

from benchmarks.async_side import ASYNC_FUNCTIONS
from benchmarks.dynamodb_units import TableInfo
from benchmarks.recorder import Recorder, Usage
from blueprint import FUNCTIONS, ORDERS, TABLES
from local.demo import DEMO_SENDER
from local.gateway import COMPILED_ROUTES
from local.invoker import import_handler
from local.runtime import LocalOMS
from shared import aws
from shared.dal.orders import order_key
from tests.support.orders import CHANNEL_ID, STOCK, Client, Send, canonical_order

Lines = tuple[tuple[str, int], ...]  # (sku, quantity) per order line
Parts = tuple[tuple[str, Lines], ...]  # (warehouse id, its lines) per fulfillment, as planned


@dataclass(frozen=True)
class Shape:
    """An order's lines and the shipments the planner is expected to make of them."""

    lines: Lines
    shipments: Parts


@dataclass(frozen=True)
class Scenario:
    """What a run's orders look like: its shapes alternate, and `stock` is seeded beyond the tests'."""

    name: str
    shapes: tuple[Shape, ...]
    stock: tuple[tuple[str, str], ...] = ()  # extra (sku, warehouse) locations to stock

    def shape(self, number: int) -> Shape:
        return self.shapes[number % len(self.shapes)]

    def stock_locations(self) -> list[tuple[str, str]]:
        return sorted(set(STOCK) | set(self.stock))

    def lines_per_order(self, orders: int) -> float:
        """The mean number of lines of the first `orders` orders."""
        return sum(len(self.shape(n).lines) for n in range(orders)) / max(1, orders)

    def shipments_per_order(self, orders: int) -> float:
        """The mean number of shipments (fulfillments) planned for the first `orders` orders."""
        return sum(len(self.shape(n).shipments) for n in range(orders)) / max(1, orders)

    def units_ordered(self, orders: int) -> dict[str, int]:
        """SKU -> units in the first `orders` orders."""
        units: dict[str, int] = {}
        for n in range(orders):
            for sku, quantity in self.shape(n).lines:
                units[sku] = units.get(sku, 0) + quantity
        return units


# Seeded by tests.support.orders: wh-east (Newark) holds MUG-BLUE; wh-west (Reno) MUG-BLUE and TEE-M.
# Single-shipment orders alternate: the first ships from wh-east (nearest to Boston), the second
# only from wh-west (the only warehouse holding TEE-M). On average 1.5 lines per order.
SINGLE_SHIPMENT = Scenario(
    "single-shipment",
    (
        Shape((("MUG-BLUE", 2),), (("wh-east", (("MUG-BLUE", 2),)),)),
        Shape((("MUG-BLUE", 1), ("TEE-M", 1)), (("wh-west", (("MUG-BLUE", 1), ("TEE-M", 1))),)),
    ),
)
# Split orders: CAP-RED is stocked at wh-east only and TEE-M is only at wh-west, so every order
# ships in two parts (as in tests/integration/test_split_shipments.py). 2 lines per order.
SPLIT_SHIPMENT = Scenario(
    "split-shipment",
    (Shape((("CAP-RED", 2), ("TEE-M", 1)), (("wh-east", (("CAP-RED", 2),)), ("wh-west", (("TEE-M", 1),)))),),
    stock=(("CAP-RED", "wh-east"),),
)
STOCK_PER_ORDER = 10  # onHand per SKU and warehouse, per order: stock is never the constraint
# The carrier's DELIVERED comes hours after SHIPPED: it is sent once the workflow awaits it.
SHIPPING_EVENTS = ("PICKED", "PACKED", "SHIPPED")
DELIVERY_EVENTS = ("DELIVERED",)
CARRIER = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
# Waiting states of each branch of the workflow's Map state (one branch per fulfillment): a
# fulfillment is released to its warehouse once AwaitShipment has parked its token.
AWAIT_SHIPMENT_STATE = "AwaitShipment"
AWAIT_DELIVERY_STATE = "AwaitDelivery"
ENDED = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
ITERATION_ENDED = frozenset({"MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"})
POLL_SECONDS = 0.05
DRAIN_POLL_SECONDS = 0.2
DRAINED_LOOKS = 2  # consecutive looks that find nothing left, DRAIN_POLL_SECONDS apart
QUEUE_BACKLOG = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)

StockLevels = dict[tuple[str, str], dict[str, int]]  # (sku, warehouse) -> onHand, reserved, available
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Settings:
    orders: int
    concurrency: int
    warmup: int
    scenario: Scenario = SINGLE_SHIPMENT
    timeout_seconds: float = 300.0  # for each wait
    emails: bool = True  # the channel's customer e-mails on (sent through the local SES)


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
    shipments: list[Shipment]  # every fulfillment of every order
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
    shipments_per_order: float  # fulfillments per order, as the OMS planned them
    checks: list[Check]
    stock_before: StockLevels
    stock_after: StockLevels
    shipped: dict[tuple[str, str], int]  # (sku, warehouse) -> units of the fulfillments that shipped
    tables: dict[str, TableInfo]  # physical table name -> keys and indexes
    final_items: dict[str, list[dict[str, Any]]]  # physical table name -> items at the end
    probe: MotoProbe
    queue_names: dict[str, str]  # queue URL -> blueprint queue name
    drain_seconds: float | None  # the last execution ended -> the asynchronous side drained (None: never)
    warmup_drain_seconds: float | None  # the same for the warm-up window


@contextmanager
def recorded_oms() -> Iterator[tuple[LocalOMS, Recorder]]:
    """A fresh in-process local OMS whose every AWS call and handler call the recorder sees."""
    recorder = Recorder()
    recorder.install()  # before any boto3 session exists, so that every client reports its calls
    try:
        with LocalOMS("inprocess") as oms:
            aws.reset()
            try:
                for function in FUNCTIONS.values():
                    timed = recorder.timed(function.name, import_handler(function.handler))
                    oms.override_handler(function.name, timed)
                yield oms, recorder
            finally:
                aws.reset()
    finally:
        recorder.uninstall()


def run(settings: Settings) -> RunResult:
    with recorded_oms() as (oms, recorder):
        return _run(oms, recorder, settings)


def _run(oms: LocalOMS, recorder: Recorder, settings: Settings) -> RunResult:
    client = Client(sender(oms, recorder))
    _seed(client, settings)
    drain(oms, recorder, settings.timeout_seconds)  # the seeding's own events: in no window
    with recorder.window() as warmup_usage:
        _warm_up(oms, client, recorder, settings)
        warmup_drain = drain(oms, recorder, settings.timeout_seconds)
    stock_before = _stock(client, settings.scenario)
    with recorder.window() as usage:
        measured = _measure(oms, client, recorder, settings)
        measured_drain = drain(oms, recorder, settings.timeout_seconds)
    with recorder.unobserved():
        return _results(
            oms,
            client,
            settings,
            measured,
            usage=usage,
            warmup_usage=warmup_usage,
            stock_before=stock_before,
            drains=(warmup_drain, measured_drain),
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
    drains: tuple[float | None, float | None],
) -> RunResult:
    order_ids = measured.order_ids
    orders = {order_id: client.order(order_id) for order_id in order_ids}
    histories = {order_id: oms.execution_history(order_id) for order_id in order_ids}
    stock_after = _stock(client, settings.scenario)
    shipped = _shipped(orders.values())
    checks = [
        _executions_check(oms, order_ids, histories),
        _orders_check(orders),
        _shipments_check(settings.scenario, order_ids, orders),
        _inventory_check(stock_before, stock_after, shipped),
        _shipped_check(shipped, settings.scenario.units_ordered(settings.orders)),
        drained_check(*drains, timeout=settings.timeout_seconds),
    ]
    return RunResult(
        settings=settings,
        timings=measured.timings,
        to_fulfilling_seconds=[_to_fulfilling(order) for order in orders.values()],
        usage=usage,
        warmup_usage=warmup_usage,
        histories=histories,
        shipments_per_order=len(measured.shipments) / max(1, len(order_ids)),
        checks=checks,
        stock_before=stock_before,
        stock_after=stock_after,
        shipped=shipped,
        tables=tables_of(oms),
        final_items=final_items_of(oms),
        probe=_probe(oms, order_ids[0]),
        queue_names={url: name for name, url in oms.deployment.queue_urls.items()},
        drain_seconds=drains[1],
        warmup_drain_seconds=drains[0],
    )


# -- talking to the OMS ------------------------------------------------------------------------


def sender(oms: LocalOMS, recorder: Recorder) -> Send:
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
    if settings.emails:
        notifications = {"enabled": True, "sender": DEMO_SENDER}
        status, body = client.call("PUT", f"/channels/{CHANNEL_ID}/notifications", notifications)
        if status != 200:
            raise RuntimeError(f"could not turn the channel's e-mails on: {status} {body}")
    on_hand = STOCK_PER_ORDER * (settings.orders + settings.warmup)
    for sku, warehouse_id in settings.scenario.stock_locations():
        status, body = client.call("PUT", f"/inventory/{sku}/locations/{warehouse_id}", {"onHand": on_hand})
        if status != 200:
            raise RuntimeError(f"could not stock {sku} at {warehouse_id}: {status} {body}")


def _new_order(scenario: Scenario, number: int) -> dict[str, Any]:
    return canonical_order(list(scenario.shape(number).lines))


def _warm_up(oms: LocalOMS, client: Client, recorder: Recorder, settings: Settings) -> None:
    """A few orders one at a time: imports and first calls happen here, not in the measured run."""
    for number in range(settings.warmup):
        order_id = client.place(_new_order(settings.scenario, number))
        with recorder.unobserved():
            _wait_until_parked(oms, [order_id], AWAIT_SHIPMENT_STATE, settings)
        shipments = _shipments(client.order(order_id))
        for shipment in shipments:
            _send_events(client, shipment, SHIPPING_EVENTS)
        with recorder.unobserved():
            _wait_until_parked(oms, [order_id], AWAIT_DELIVERY_STATE, settings)
        for shipment in shipments:
            _send_events(client, shipment, DELIVERY_EVENTS)
        with recorder.unobserved():
            oms.wait_for_execution(order_id, timeout=settings.timeout_seconds)


def _measure(oms: LocalOMS, client: Client, recorder: Recorder, settings: Settings) -> Measured:
    """Three phases, each ending when every order has reached where the next phase starts."""
    started = time.perf_counter()
    placed = _in_parallel(
        settings.concurrency, lambda n: _timed_place(client, settings.scenario, n), range(settings.orders)
    )
    placing = time.perf_counter() - started
    order_ids = [order_id for order_id, _ in placed]
    with recorder.unobserved():
        _wait_until_parked(oms, order_ids, AWAIT_SHIPMENT_STATE, settings)
        intake = Phase("intake: webhooks until every order FULFILLING", time.perf_counter() - started)
        shipments = _by_warehouse([_shipments(client.order(order_id)) for order_id in order_ids])
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


def _timed_place(client: Client, scenario: Scenario, number: int) -> tuple[str, float]:
    order = _new_order(scenario, number)
    started = time.perf_counter()
    order_id = client.place(order)
    return order_id, time.perf_counter() - started


def _shipments(order: dict[str, Any]) -> list[Shipment]:
    """One per fulfillment of the order, in the order's own order."""
    return [
        Shipment(
            order_id=order["orderId"],
            fulfillment_id=fulfillment["fulfillmentId"],
            warehouse_id=fulfillment["warehouseId"],
            lines=_lines(fulfillment),
        )
        for fulfillment in order["fulfillments"]
    ]


def _lines(fulfillment: dict[str, Any]) -> Lines:
    return tuple((line["sku"], line["quantity"]) for line in fulfillment["lines"])


def _by_warehouse(per_order: list[list[Shipment]]) -> list[Shipment]:
    """Every shipment, each warehouse's in a row (stable, so in order of placing): as two warehouses
    work their own queues. The parts of one order then reach the OMS at different times rather than
    at the same instant, which a real order's parts, shipped from different places, rarely do."""
    flat = [shipment for shipments in per_order for shipment in shipments]
    return sorted(flat, key=lambda shipment: shipment.warehouse_id)


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
    """Until every branch of each execution's Map state (one per fulfillment) has parked its task
    token in `state` (TaskSubmitted), one order at a time.

    Only the execution history is read (no DynamoDB request, so no contention with the handlers).
    """
    deadline = time.monotonic() + settings.timeout_seconds
    for order_id in order_ids:
        while not parked(order_id, oms.execution_history(order_id), state):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{order_id} is not waiting in {state} after {settings.timeout_seconds}s")
            time.sleep(POLL_SECONDS)


def parked(order_id: str, history: list[dict[str, Any]], state: str) -> bool:
    """Whether every branch of the Map state has parked a task token in `state`.

    The branches run at once, so their events interleave in the history; each event names the one
    it follows (`previousEventId`), which ties it to its branch (a `MapIterationStarted` with its
    index) and to the state it happens in (the latest `...StateEntered` on that chain)."""
    length, parked = _parked_branches(history, state)
    if length is not None and parked >= set(range(length)):
        return True
    if any(event["type"] in ENDED for event in history):
        raise RuntimeError(f"the execution of {order_id} ended at {_last_state(history)} before {state}")
    return False


def _parked_branches(history: list[dict[str, Any]], state: str) -> tuple[int | None, set[int]]:
    """The Map state's number of branches (None before it started) and those parked in `state`."""
    events = sorted(history, key=lambda e: e["id"])
    branch_of, state_of = map_iterations(events), states_of(events)
    length = next(
        (e["mapStateStartedEventDetails"]["length"] for e in events if e["type"] == "MapStateStarted"), None
    )
    parked = {
        branch_of[e["id"]]
        for e in events
        if e["type"] == "TaskSubmitted" and state_of.get(e["id"]) == state and e["id"] in branch_of
    }
    return length, parked


def map_iterations(history: list[dict[str, Any]]) -> dict[int, int]:
    """Event id -> index of the Map iteration (branch) it belongs to, for the events inside one."""
    branch_of: dict[int, int] = {}
    for event in sorted(history, key=lambda e: e["id"]):
        previous, kind = event.get("previousEventId", 0), event["type"]
        if kind == "MapIterationStarted":
            branch_of[event["id"]] = event["mapIterationStartedEventDetails"]["index"]
        elif previous in branch_of and kind not in ITERATION_ENDED:
            branch_of[event["id"]] = branch_of[previous]
    return branch_of


def states_of(history: list[dict[str, Any]]) -> dict[int, str]:
    """Event id -> name of the state it happens in (the latest `...StateEntered` on its chain)."""
    state_of: dict[int, str] = {}
    for event in sorted(history, key=lambda e: e["id"]):
        if "stateEnteredEventDetails" in event:
            state_of[event["id"]] = event["stateEnteredEventDetails"]["name"]
        elif event.get("previousEventId", 0) in state_of:
            state_of[event["id"]] = state_of[event["previousEventId"]]
    return state_of


def _wait_for_executions(oms: LocalOMS, order_ids: list[str], settings: Settings) -> None:
    for order_id in order_ids:
        oms.wait_for_execution(order_id, timeout=settings.timeout_seconds)


# -- the asynchronous side ---------------------------------------------------------------------


def drain(oms: LocalOMS, recorder: Recorder, timeout: float) -> float | None:
    """Wait until the asynchronous side has nothing left to do: every record of every stream handed
    to its function, no stream- or queue-fed handler running, no message in (or in flight from, or
    delayed on) any queue, at `DRAINED_LOOKS` looks in a row. Returns how long that took (None if it
    had not drained after `timeout` seconds). Unobserved: the looks are not counted."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    looks = 0
    assert oms.session is not None
    with recorder.unobserved():
        streams = oms.session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        while True:
            idle = not _stream_backlog(streams, recorder, oms) and not recorder.running(ASYNC_FUNCTIONS)
            looks = looks + 1 if idle and not _queue_backlog(oms) else 0
            if looks >= DRAINED_LOOKS:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                return None
            time.sleep(DRAIN_POLL_SECONDS)


def _stream_backlog(streams: Any, recorder: Recorder, oms: LocalOMS) -> bool:
    """Whether some stream holds a record after the last one handed to a handler."""
    for arn in oms.deployment.stream_arns.values():
        last = recorder.stream_position(arn)
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            where: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(last)}
                if last is not None
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **where)
            if streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1)["Records"]:
                return True
    return False


def _queue_backlog(oms: LocalOMS) -> bool:
    sqs = oms.client("sqs")
    for url in oms.deployment.queue_urls.values():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(QUEUE_BACKLOG))["Attributes"]
        if any(int(attributes.get(name, 0)) for name in QUEUE_BACKLOG):
            return True
    return False


def drained_check(warmup: float | None, measured: float | None, *, timeout: float) -> Check:
    def said(seconds: float | None) -> str:
        return f"{seconds:.1f} s" if seconds is not None else f"**not after {timeout:.0f} s**"

    detail = (
        f"streams read to the end, queues empty, no stream- or queue-fed handler running: "
        f"{said(measured)} after the last execution ended (warm-up: {said(warmup)})"
    )
    return Check("asynchronous side drained in each window", None not in (warmup, measured), detail)


def _stock(client: Client, scenario: Scenario) -> StockLevels:
    levels: StockLevels = {}
    for sku in sorted({sku for sku, _ in scenario.stock_locations()}):
        for warehouse_id, level in client.stock(sku).items():
            levels[(sku, warehouse_id)] = {k: level[k] for k in ("onHand", "reserved", "available")}
    return levels


# -- what the run is checked against ---------------------------------------------------------


# A delivered order's execution ends in its last Task (no Succeed state: one transition fewer).
DELIVERED_AT = "ConcludeOrder"


def _executions_check(
    oms: LocalOMS, order_ids: list[str], histories: dict[str, list[dict[str, Any]]]
) -> Check:
    statuses = {order_id: oms.execution_status(order_id) for order_id in order_ids}
    last_states = {order_id: _last_state(histories[order_id]) for order_id in order_ids}
    wrong = [
        f"{order_id}: {statuses[order_id]} at {last_states[order_id]}"
        for order_id in order_ids
        if statuses[order_id] != "SUCCEEDED" or last_states[order_id] != DELIVERED_AT
    ]
    detail = f"{len(order_ids) - len(wrong)} of {len(order_ids)} SUCCEEDED in state {DELIVERED_AT}"
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


def _shipments_check(scenario: Scenario, order_ids: list[str], orders: dict[str, dict[str, Any]]) -> Check:
    """Each order was split as its shape expects: the scenario measures what it says it does."""
    wrong = []
    for number, order_id in enumerate(order_ids):
        planned = tuple((f["warehouseId"], _lines(f)) for f in orders[order_id]["fulfillments"])
        if sorted(planned) != sorted(scenario.shape(number).shipments):
            wrong.append(f"{order_id}: {planned}")
    expected = " or ".join(
        " + ".join(f"{warehouse} ({_named(lines)})" for warehouse, lines in shape.shipments)
        for shape in scenario.shapes
    )
    detail = f"{len(order_ids) - len(wrong)} of {len(order_ids)} orders in the shipments expected: {expected}"
    return Check("shipments as planned", not wrong, detail + _first(wrong))


def _named(lines: Lines) -> str:
    return ", ".join(f"{sku} x{quantity}" for sku, quantity in lines)


def _shipped(orders: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Units per (SKU, warehouse) of the fulfillments that shipped (SHIPPED or DELIVERED)."""
    shipped: dict[tuple[str, str], int] = {}
    for order in orders:
        for fulfillment in order["fulfillments"]:
            if fulfillment["status"] not in ("SHIPPED", "DELIVERED"):
                continue
            for sku, quantity in _lines(fulfillment):
                key = (sku, fulfillment["warehouseId"])
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


def _shipped_check(shipped: dict[tuple[str, str], int], ordered: dict[str, int]) -> Check:
    by_sku: dict[str, int] = {}
    for (sku, _), units in shipped.items():
        by_sku[sku] = by_sku.get(sku, 0) + units
    per_sku = ", ".join(f"{sku} {by_sku.get(sku, 0)} of {units}" for sku, units in sorted(ordered.items()))
    detail = f"{sum(by_sku.values())} shipped, {sum(ordered.values())} ordered (per SKU: {per_sku})"
    return Check("units shipped = units ordered", by_sku == ordered, detail)


def _first(problems: list[str]) -> str:
    return f"; first problem: {problems[0]}" if problems else ""


def _to_fulfilling(order: dict[str, Any]) -> float:
    at = {entry["status"]: datetime.fromisoformat(entry["at"]) for entry in order["timeline"]}
    return (at["FULFILLING"] - at["RECEIVED"]).total_seconds()


# -- what the tables look like (for item sizes) -----------------------------------------------


def tables_of(oms: LocalOMS) -> dict[str, TableInfo]:
    names = oms.deployment.table_names
    return {
        names[table.name]: TableInfo(
            key_attributes=tuple(k for k in (table.partition_key, table.sort_key) if k),
            indexes=table.indexes,
        )
        for table in TABLES.values()
    }


def final_items_of(oms: LocalOMS) -> dict[str, list[dict[str, Any]]]:
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
