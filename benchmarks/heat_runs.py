"""The recordings behind the partition heat model: each scenario's real write paths on a local OMS.

One fresh in-process LocalOMS (moto, the real order workflow, every handler real and timed, as
`benchmarks.local_run` runs orders), orders placed over the signed webhook and moved on by the
warehouse's and carrier's events. Each order runs alone, in its own recorder window, which stays
open until the asynchronous side has drained (`benchmarks.local_run.drain`): what one order of a
scenario writes, and where, is what its window holds. The scenarios, `orders` of each:

- `happy path`: MUG-BLUE x2, shipped from wh-east, delivered;
- `split`: CAP-RED x2 (wh-east only) and TEE-M x1 (wh-west only): two shipments, both delivered;
- `cancel`: MUG-BLUE x1, cancelled (`POST /orders/{id}/cancel`) once it awaits its shipment;
- `backorder woken`: TEE-M x1 with none on hand, BACKORDERED; a receipt of 1 unit
  (`POST .../adjustments`, inside the window) wakes it; shipped and delivered.

Then the returns: `benchmarks.returns` runs its return-with-refund scenario on its own local OMS
(an order of MUG-BLUE x2 delivered first, not counted; the return authorized, received, restocked
and refunded by a signed request, in its window).

Everything runs with the settings caches in pass-through (`shared.settings_cache.pass_through`):
every cached read reaches DynamoDB, marked, so each function that reads a cached value shows,
however warm the process; the model prices those reads per container and TTL, not per order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import returns
from benchmarks.dynamodb_units import TableInfo, UnitCounter
from benchmarks.local_run import (
    AWAIT_DELIVERY_STATE,
    AWAIT_SHIPMENT_STATE,
    CARRIER,
    SHIPPING_EVENTS,
    drain,
    final_items_of,
    parked,
    recorded_oms,
    sender,
    tables_of,
)
from benchmarks.partition_heat import HeatCounter, Known, Sample, Workload
from benchmarks.recorder import Recorder, Usage
from benchmarks.usage import item_catalog, workflow_counts
from blueprint import TABLES
from local.provision import DEFAULT_NAMING
from local.runtime import LocalOMS
from shared import settings_cache
from shared.dal import stock
from shared.models.order import FulfillmentStatus, OrderStatus
from shared.models.returns import RefundStatus, ReturnStatus
from tests.support.orders import CHANNEL_ID, STOCK, WAREHOUSES, Client, canonical_order

HAPPY, SPLIT, CANCEL, BACKORDER, RETURN = (
    "happy path",
    "split",
    "cancel",
    "backorder woken",
    "return with refund",
)
ORDER_LINES: dict[str, list[tuple[str, int]]] = {
    HAPPY: [("MUG-BLUE", 2)],
    SPLIT: [("CAP-RED", 2), ("TEE-M", 1)],
    CANCEL: [("MUG-BLUE", 1)],
    BACKORDER: [("TEE-M", 1)],
}
STOCKED = (("MUG-BLUE", "wh-east"), ("MUG-BLUE", "wh-west"), ("CAP-RED", "wh-east"), ("TEE-M", "wh-west"))
STOCK_UNITS = 100
AWAIT_RESTOCK_STATE = "AwaitRestock"
POLL_SECONDS = 0.05
STATUSES = (OrderStatus, FulfillmentStatus, ReturnStatus, RefundStatus)
TASK_CALLBACKS = ("SendTaskSuccess", "SendTaskFailure")


@dataclass(frozen=True)
class HeatSettings:
    orders: int = 3  # per order scenario
    returns: int = 2
    scenarios: tuple[str, ...] = (HAPPY, SPLIT, CANCEL, BACKORDER)  # the order scenarios run
    timeout_seconds: float = 120.0


@dataclass
class Recorded:
    """One order (or one return) in its own window, and the ids it was given."""

    scenario: str
    usage: Usage
    ids: dict[str, set[str]]  # "order", "fulfillment", "return" -> ids
    histories: list[list[dict[str, Any]]]  # the executions it ran, ended


@dataclass
class RunGroup:
    """Recordings made on one local OMS, with its tables (for item sizes and keys)."""

    recorded: list[Recorded]
    tables: dict[str, TableInfo]  # physical name -> keys and indexes
    logical: dict[str, str]  # physical name -> blueprint name
    final_items: dict[str, list[dict[str, Any]]]


@dataclass
class HeatRuns:
    groups: list[RunGroup] = field(default_factory=list)
    seconds: float = 0.0


def run(settings: HeatSettings | None = None) -> HeatRuns:
    settings = settings or HeatSettings()
    started = time.perf_counter()
    with settings_cache.pass_through():
        groups = [_orders(settings)]
        if settings.returns:
            groups.append(_returns(settings))
    return HeatRuns(groups, time.perf_counter() - started)


# -- orders ------------------------------------------------------------------------------------


def _orders(settings: HeatSettings) -> RunGroup:
    with recorded_oms() as (oms, recorder):
        return _order_group(oms, recorder, settings)


def _order_group(oms: LocalOMS, recorder: Recorder, settings: HeatSettings) -> RunGroup:
    driver = _Driver(oms, Client(sender(oms, recorder)), recorder, settings)
    driver.seed()
    driver.happy_path()  # a warm-up, in no window: first calls and imports happen here
    drain(oms, recorder, settings.timeout_seconds)
    scenarios: list[tuple[str, Callable[[], str]]] = [
        (HAPPY, driver.happy_path),
        (SPLIT, driver.split),
        (CANCEL, driver.cancel),
        (BACKORDER, driver.backorder),
    ]
    recorded = [
        driver.recorded(name, work)
        for name, work in scenarios
        if name in settings.scenarios
        for _ in range(settings.orders)
    ]
    with recorder.unobserved():
        tables = tables_of(oms)
        logical = {physical: name for name, physical in oms.deployment.table_names.items()}
        return RunGroup(recorded, tables, logical, final_items_of(oms))


@dataclass(frozen=True)
class _Driver:
    oms: LocalOMS
    client: Client
    recorder: Recorder
    settings: HeatSettings

    def seed(self) -> None:
        self.client.seed()
        for sku, warehouse_id in STOCKED:
            self._set_stock(sku, warehouse_id, STOCK_UNITS)

    def recorded(self, scenario: str, work: Callable[[], str]) -> Recorded:
        with self.recorder.window() as usage:
            order_id = work()
            if drain(self.oms, self.recorder, self.settings.timeout_seconds) is None:
                raise RuntimeError(f"the asynchronous side of {order_id} did not drain")
        with self.recorder.unobserved():
            order = self.client.order(order_id)
            ids = {
                "order": {order_id, order["channelOrderId"].lstrip("#")},
                "fulfillment": {f["fulfillmentId"] for f in order["fulfillments"]}
                | {CARRIER["trackingNumber"]},
            }
            return Recorded(scenario, usage, ids, [self.oms.execution_history(order_id)])

    def happy_path(self) -> str:
        return self._delivered(self.client.place(canonical_order(ORDER_LINES[HAPPY])))

    def split(self) -> str:
        return self._delivered(self.client.place(canonical_order(ORDER_LINES[SPLIT])))

    def cancel(self) -> str:
        order_id = self.client.place(canonical_order(ORDER_LINES[CANCEL]))
        self._until_parked(order_id, AWAIT_SHIPMENT_STATE)
        self._must(self.client.call("POST", f"/orders/{order_id}/cancel"), f"cancel {order_id}")
        self._ended(order_id)
        return order_id

    def backorder(self) -> str:
        with self.recorder.unobserved():
            self._set_stock("TEE-M", "wh-west", 0)
        order_id = self.client.place(canonical_order(ORDER_LINES[BACKORDER]))
        self._until(
            order_id, AWAIT_RESTOCK_STATE, lambda: self.oms.last_state(order_id) == AWAIT_RESTOCK_STATE
        )
        path = "/inventory/TEE-M/locations/wh-west/adjustments"
        headers = {"Idempotency-Key": f"heat-{uuid.uuid4().hex}"}
        answer = self.client.call("POST", path, {"delta": 1, "reason": "RECEIPT"}, headers=headers)
        self._must(answer, "receive TEE-M at wh-west", 201)
        order_id = self._delivered(order_id)
        with self.recorder.unobserved():
            self._set_stock("TEE-M", "wh-west", STOCK_UNITS)
        return order_id

    def _delivered(self, order_id: str) -> str:
        self._until_parked(order_id, AWAIT_SHIPMENT_STATE)
        fulfillments = [f["fulfillmentId"] for f in self.client.order(order_id)["fulfillments"]]
        for fulfillment_id in fulfillments:
            for event in SHIPPING_EVENTS:
                extra = CARRIER if event == "SHIPPED" else {}
                self._must(self.client.fulfillment_event(fulfillment_id, event, **extra), event)
        self._until_parked(order_id, AWAIT_DELIVERY_STATE)
        for fulfillment_id in fulfillments:
            self._must(self.client.fulfillment_event(fulfillment_id, "DELIVERED"), "DELIVERED")
        self._ended(order_id)
        return order_id

    def _set_stock(self, sku: str, warehouse_id: str, units: int) -> None:
        answer = self.client.call("PUT", f"/inventory/{sku}/locations/{warehouse_id}", {"onHand": units})
        self._must(answer, f"stock {sku} at {warehouse_id}")

    def _until_parked(self, order_id: str, state: str) -> None:
        self._until(order_id, state, lambda: parked(order_id, self.oms.execution_history(order_id), state))

    def _until(self, order_id: str, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settings.timeout_seconds
        with self.recorder.unobserved():
            while not ready():
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{order_id} did not reach {what} in {self.settings.timeout_seconds} s"
                    )
                time.sleep(POLL_SECONDS)

    def _ended(self, order_id: str) -> None:
        with self.recorder.unobserved():
            described = self.oms.wait_for_execution(order_id, timeout=self.settings.timeout_seconds)
        if described["status"] != "SUCCEEDED":
            raise RuntimeError(f"the execution of {order_id} ended {described['status']}")

    @staticmethod
    def _must(answer: tuple[int, Any], what: str, *statuses: int) -> Any:
        status, body = answer
        if status not in (statuses or (200,)):
            raise RuntimeError(f"could not {what}: {status} {body}")
        return body


# -- returns -----------------------------------------------------------------------------------


def _returns(settings: HeatSettings) -> RunGroup:
    result = returns.run(returns.ReturnSettings(returns=settings.returns), scenarios=[returns.REFUND])
    failed = [check for check in result.checks if not check.passed]
    if failed:
        raise RuntimeError(f"the returns run failed its checks: {failed[0].name}: {failed[0].detail}")
    recorded = [
        Recorded(RETURN, r.usage, {"order": {r.order_id}, "return": {r.return_id}}, [r.history])
        for r in result.runs[0].returns
    ]
    return RunGroup(recorded, result.tables, _logical_names(result.tables), result.final_items)


def _logical_names(tables: dict[str, TableInfo]) -> dict[str, str]:
    """Physical table name -> the blueprint's, as LocalOMS names its tables (`DEFAULT_NAMING`)."""
    named = {DEFAULT_NAMING.table(table): table.name for table in TABLES.values()}
    return {physical: named.get(physical, physical) for physical in tables}


# -- from recordings to the model's samples ------------------------------------------------------


def attributed(runs: HeatRuns) -> tuple[list[Sample], dict[str, int]]:
    """Every recording as the units it put on each key value, with what its values may contain;
    and the DynamoDB operations the unit rules do not price (operation -> calls)."""
    found: list[Sample] = []
    unpriced: dict[str, int] = {}
    for group in runs.groups:
        catalog = item_catalog(group.tables, [r.usage for r in group.recorded], group.final_items)
        heat = HeatCounter(group.tables, group.logical, UnitCounter(group.tables, catalog))
        heat.remember_final(group.final_items)
        known = known_values(group.recorded)
        for recorded in group.recorded:
            keys = tuple(heat.key_units(recorded.usage.dynamodb_calls))
            found.append(Sample(recorded.scenario, keys, known, busy_seconds(recorded.usage)))
        for operation, calls in heat.unpriced.items():
            unpriced[operation] = unpriced.get(operation, 0) + calls
    return found, unpriced


def busy_seconds(usage: Usage) -> tuple[tuple[str, float], ...]:
    """Per function, the seconds its handlers ran in the recording."""
    busy: dict[str, float] = {}
    for invocation in usage.invocations:
        busy[invocation.function] = busy.get(invocation.function, 0.0) + invocation.seconds
    return tuple(sorted(busy.items()))


def known_values(recorded: list[Recorded]) -> Known:
    """The ids the recordings were given, and the SKUs, warehouses, channel and statuses they use."""
    skus = {sku for sku, _ in STOCKED} | {sku for sku, _ in STOCK}
    values: dict[str, frozenset[str]] = {
        "sku": frozenset(skus),
        "warehouse": frozenset(WAREHOUSES),
        "channel": frozenset({CHANNEL_ID}),
        "status": frozenset(str(s) for enum in STATUSES for s in enum),
    }
    for dimension in ("order", "fulfillment", "return"):
        values[dimension] = frozenset(i for r in recorded for i in r.ids.get(dimension, ()))
    bucketed = {stock.bucket_key(sku, wh, 0)["sk"] for sku in skus for wh in WAREHOUSES}
    bucketed |= {stock.ledger_pk(sku, wh, 0) for sku in skus for wh in WAREHOUSES}
    return Known(values, frozenset(bucketed))


COUNTER_WRITER = "AnalyticsAggregator"


def events_per_counter_write(runs: HeatRuns) -> float:
    """The messages the analytics aggregator received per transaction it wrote, over every recording
    (1 when it wrote none): how many events one of its writes stood for here."""
    recorded = [r for group in runs.groups for r in group.recorded]
    messages = sum(i.records for r in recorded for i in r.usage.invocations if i.function == COUNTER_WRITER)
    writes = sum(
        1
        for r in recorded
        for call in r.usage.dynamodb_calls
        if call.function == COUNTER_WRITER and call.operation == "TransactWriteItems" and not call.failed
    )
    return messages / writes if writes else 1.0


def workloads(runs: HeatRuns) -> list[Workload]:
    return [
        Workload(
            scenario=r.scenario,
            transitions=sum(workflow_counts(history).transitions for history in r.histories),
            start_executions=r.usage.aws_calls["stepfunctions.StartExecution"],
            task_callbacks=sum(r.usage.aws_calls[f"stepfunctions.{name}"] for name in TASK_CALLBACKS),
            invocations=len(r.usage.invocations),
            invocation_seconds=sum(i.seconds for i in r.usage.invocations),
            api_requests=sum(r.usage.api_requests.values()),
        )
        for group in runs.groups
        for r in group.recorded
    ]
