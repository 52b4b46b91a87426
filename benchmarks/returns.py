"""Returns: what one return costs on AWS, counted on the local run as an order is (`benchmarks.usage`).

One fresh in-process LocalOMS (moto, the real return and order workflows, every handler real and
timed, as `benchmarks.local_run` runs orders) and, for the refunds, a local signed-URL receiver
(`local.refund_sandbox.FakeChannelRefunds`) that the channel's `refundUrl` points at. Two scenarios,
one after the other:

- `REFUND`: an order of MUG-BLUE x2 delivered from wh-east; a return of both units authorized
  (`POST /orders/{id}/returns`, with an Idempotency-Key), RECEIVED resellable at wh-east
  (`POST /returns/{id}/events`), restocked, refunded by a signed request to the receiver, CLOSED.
- `EXCHANGE`: an order of MUG-BLUE x1 delivered; a return of it with resolution EXCHANGE for TEE-M x1
  (stocked at wh-west) under the policy exchangeShips ON_RECEIPT: on receipt the return workflow
  places the exchange order, polls it (WaitForExchange, CheckExchange) until its own order workflow
  has reserved it, refunds nothing (an even exchange) and closes.

Each order is placed and delivered before anything is counted. Then its return runs alone, one
at a time, in its own recorder window, which ends once the return's execution has ended and, for
an exchange, once the exchange order's workflow has parked its AwaitShipment token (the order is
FULFILLING, its stock reserved): nothing else runs meanwhile. What a window counts is split by the
function that did it: the returns API and the return workflow's steps are the return's; the order
workflow's steps (AcceptOrder, AwaitEvent) are the exchange order's. Polling
by the benchmark runs `unobserved`, as for orders.
"""

from __future__ import annotations

import math
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from benchmarks import pricing
from benchmarks.dynamodb_units import TableInfo, UnitCounter, Units
from benchmarks.local_run import (
    AWAIT_SHIPMENT_STATE,
    Check,
    final_items_of,
    parked,
    sender,
    states_of,
    tables_of,
)
from benchmarks.recorder import DynamoCall, Invocation, Recorder, Usage
from benchmarks.usage import Spread, item_catalog, request_units, workflow_counts
from blueprint import FUNCTIONS, ORDER_WORKFLOW, RETURN_WORKFLOW, ROUTES
from local.invoker import import_handler
from local.refund_sandbox import FakeChannelRefunds
from local.runtime import LocalOMS
from shared import aws
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order

Lines = tuple[tuple[str, int], ...]  # (sku, quantity)

RETURNS = 4  # measured per scenario: the counts are the same for every return
WARMUP = 1  # per scenario, not measured: first calls of the return handlers happen there
POLL_SECONDS = 1  # EXCHANGE_POLL_SECONDS for the run (the blueprint's, deployed on AWS, is 2)
WATCH_SECONDS = 0.02
STOCK_UNITS = 100  # onHand of every SKU location used: stock is never short

# Who does what: the returns API and the return workflow's steps are the return's work; the order
# workflow's steps, run for an exchange order, are that order's.
RETURN_API_FUNCTIONS = frozenset(r.function for r in ROUTES if "/returns" in r.path)
RETURN_STEP_FUNCTIONS = frozenset(RETURN_WORKFLOW.function_arns.values())
RETURN_FUNCTIONS = RETURN_API_FUNCTIONS | RETURN_STEP_FUNCTIONS
ORDER_STEP_FUNCTIONS = frozenset(ORDER_WORKFLOW.function_arns.values())
# The asynchronous side (stream- and queue-fed: domain events, webhooks, customer e-mails) runs after
# every committed change; this section does not price it (section 2 does, per order).
EVENT_FUNCTIONS = frozenset(f.name for f in FUNCTIONS.values() if f.stream_source or f.queue_source)
# The exchange poll loop: each round enters these three states once.
POLL_STATES = ("WaitForExchange", "CheckExchange", "ExchangeDecided")
CHECK_STATE = "CheckExchange"
CHECK_FUNCTION = "CheckExchange"
AWAIT_RECEIPT_STATE = "AwaitReceipt"


@dataclass(frozen=True)
class ReturnScenario:
    """An order of `ordered` delivered from `warehouse_id`; all of it returned there, resellable."""

    name: str
    ordered: Lines
    warehouse_id: str
    resolution: str = "REFUND"
    exchange: Lines = ()  # the replacement's lines, for an EXCHANGE
    exchange_warehouse_id: str | None = None  # where the replacement is stocked
    expected_refund: str = "0"  # what the refund of one return comes to

    def request(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "lines": [
                {"sku": sku, "quantity": units, "reason": "does not fit"} for sku, units in self.ordered
            ],
            "resolution": self.resolution,
        }
        if self.exchange:
            body["exchangeLines"] = [{"sku": sku, "quantity": units} for sku, units in self.exchange]
        return body

    def receipt(self) -> dict[str, Any]:
        lines = [{"sku": sku, "quantity": units, "condition": "RESELLABLE"} for sku, units in self.ordered]
        return {"type": "RECEIVED", "warehouseId": self.warehouse_id, "lines": lines}

    def stock_locations(self) -> list[tuple[str, str]]:
        located = [(sku, self.warehouse_id) for sku, _ in self.ordered]
        if self.exchange_warehouse_id:
            located += [(sku, self.exchange_warehouse_id) for sku, _ in self.exchange]
        return sorted(set(located))


# Seeded by tests.support.orders: MUG-BLUE at wh-east and wh-west, TEE-M at wh-west only; an order
# to Boston ships from wh-east (the nearest). 2 x 12.50, no tax, shipping not refunded by default.
REFUND = ReturnScenario("return-with-refund", (("MUG-BLUE", 2),), "wh-east", expected_refund="25.00")
EXCHANGE = ReturnScenario(
    "exchange",
    (("MUG-BLUE", 1),),
    "wh-east",
    resolution="EXCHANGE",
    exchange=(("TEE-M", 1),),
    exchange_warehouse_id="wh-west",
)
SCENARIOS = (REFUND, EXCHANGE)


@dataclass(frozen=True)
class ReturnSettings:
    returns: int = RETURNS
    warmup: int = WARMUP
    poll_seconds: int = POLL_SECONDS
    timeout_seconds: float = 60.0  # for each wait


@dataclass(frozen=True)
class MeasuredReturn:
    """One return, as it ran in its own window."""

    return_id: str
    order_id: str
    usage: Usage
    history: list[dict[str, Any]]  # the return's execution, ended
    exchange_order_id: str | None = None
    exchange_history: list[dict[str, Any]] | None = None  # the exchange order's, parked in AwaitShipment
    authorize_seconds: float = 0.0  # POST /orders/{id}/returns, as the client saw it
    receive_seconds: float = 0.0  # POST /returns/{id}/events RECEIVED
    to_end_seconds: float = 0.0  # RECEIVED answered -> the return's execution seen ended


@dataclass
class ScenarioRun:
    scenario: ReturnScenario
    returns: list[MeasuredReturn]
    warmup: list[MeasuredReturn]
    checks: list[Check] = field(default_factory=list)
    exchange_reserve_seconds: list[float] = field(default_factory=list)  # exchange order RECEIVED -> RESERVED


@dataclass
class ReturnsResult:
    settings: ReturnSettings
    runs: list[ScenarioRun]
    tables: dict[str, TableInfo]
    final_items: dict[str, list[dict[str, Any]]]
    seconds: float  # wall time of the whole section, OMS start-up included

    @property
    def checks(self) -> list[Check]:
        return [check for run in self.runs for check in run.checks]


# -- running ---------------------------------------------------------------------------------------


def run(
    settings: ReturnSettings | None = None, scenarios: Iterable[ReturnScenario] = SCENARIOS
) -> ReturnsResult:
    settings = settings or ReturnSettings()
    started = time.perf_counter()
    recorder = Recorder()
    recorder.install()  # before any boto3 session exists, so that every client reports its calls
    try:
        with (
            FakeChannelRefunds(signing_secret=CHANNEL_SECRET) as receiver,
            LocalOMS("inprocess") as oms,
            environment({"EXCHANGE_POLL_SECONDS": str(settings.poll_seconds)}),
        ):
            aws.reset()
            try:
                runs = _run(oms, recorder, receiver, settings, list(scenarios))
                with recorder.unobserved():
                    tables, final_items = tables_of(oms), final_items_of(oms)
            finally:
                aws.reset()
    finally:
        recorder.uninstall()
    return ReturnsResult(settings, runs, tables, final_items, time.perf_counter() - started)


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables over what LocalOMS set (it sets every function's settings when it starts)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run(
    oms: LocalOMS,
    recorder: Recorder,
    receiver: FakeChannelRefunds,
    settings: ReturnSettings,
    scenarios: list[ReturnScenario],
) -> list[ScenarioRun]:
    for function in FUNCTIONS.values():
        oms.override_handler(function.name, recorder.timed(function.name, import_handler(function.handler)))
    client = Client(sender(oms, recorder))
    _seed(client, receiver, scenarios)
    driver = _Driver(oms, client, recorder, receiver, settings)
    return [_scenario(driver, scenario) for scenario in scenarios]


@dataclass(frozen=True)
class _Driver:
    """What drives the run: the OMS, its client, the recorder, the refund receiver, the settings."""

    oms: LocalOMS
    client: Client
    recorder: Recorder
    receiver: FakeChannelRefunds
    settings: ReturnSettings


def _seed(client: Client, receiver: FakeChannelRefunds, scenarios: list[ReturnScenario]) -> None:
    """The tests' warehouses and channel; the channel's refunds go to the receiver, signed."""
    client.seed()
    channel = {
        "type": "api",
        "webhookSecret": CHANNEL_SECRET,
        "refundUrl": receiver.signed_target().url,
        "returns": {"exchangeShips": "ON_RECEIPT"},
    }
    _must(client.call("PUT", f"/channels/{CHANNEL_ID}", channel), "register the channel", 200, 201)
    for sku, warehouse_id in sorted({at for s in scenarios for at in s.stock_locations()}):
        answer = client.call("PUT", f"/inventory/{sku}/locations/{warehouse_id}", {"onHand": STOCK_UNITS})
        _must(answer, f"stock {sku} at {warehouse_id}", 200)


def _must(answer: tuple[int, Any], what: str, *statuses: int) -> Any:
    status, body = answer
    if status not in statuses:
        raise RuntimeError(f"could not {what}: {status} {body}")
    return body


def _scenario(driver: _Driver, scenario: ReturnScenario) -> ScenarioRun:
    oms, client, recorder, settings = driver.oms, driver.client, driver.recorder, driver.settings
    with recorder.unobserved():
        order_ids = [
            _delivered(oms, client, scenario, settings) for _ in range(settings.warmup + settings.returns)
        ]
        stock_before = _stock(client, scenario)
        signed_before = len(driver.receiver.calls("/refunds/"))
    done = [_one_return(driver, scenario, order_id) for order_id in order_ids]
    with recorder.unobserved():
        found = ScenarioRun(scenario, returns=done[settings.warmup :], warmup=done[: settings.warmup])
        found.checks = _checks(driver, found, stock_before, signed_before)
        found.exchange_reserve_seconds = [
            _reserve_seconds(client.order(r.exchange_order_id)) for r in found.returns if r.exchange_order_id
        ]
    return found


def _delivered(oms: LocalOMS, client: Client, scenario: ReturnScenario, settings: ReturnSettings) -> str:
    """An order placed, shipped and delivered, its execution ended: nothing of it runs later."""
    order_id = client.place(canonical_order(list(scenario.ordered)))
    order = client.wait_for_status(order_id, "FULFILLING", timeout=settings.timeout_seconds)
    for fulfillment in order["fulfillments"]:
        shipped = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
        _must(client.fulfillment_event(fulfillment["fulfillmentId"], "SHIPPED", **shipped), "ship", 200)
        _must(client.fulfillment_event(fulfillment["fulfillmentId"], "DELIVERED"), "deliver", 200)
    described = oms.wait_for_execution(order_id, timeout=settings.timeout_seconds)
    if described["status"] != "SUCCEEDED" or client.order(order_id)["status"] != "DELIVERED":
        raise RuntimeError(f"order {order_id} was not delivered: {described['status']}")
    return order_id


def _one_return(driver: _Driver, scenario: ReturnScenario, order_id: str) -> MeasuredReturn:
    """Authorize, wait until the workflow awaits the goods, receive them, wait until it all ended."""
    oms, client, recorder, settings = driver.oms, driver.client, driver.recorder, driver.settings
    exchange_order_id = None
    with recorder.window() as usage:
        started = time.perf_counter()
        headers = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
        answer = client.call("POST", f"/orders/{order_id}/returns", scenario.request(), headers=headers)
        authorized = time.perf_counter()
        return_id = str(_must(answer, f"authorize a return of {order_id}", 201)["returnId"])
        with recorder.unobserved():
            _wait_until(
                oms, return_id, lambda h: _awaits(h, AWAIT_RECEIPT_STATE), AWAIT_RECEIPT_STATE, settings
            )
        receiving = time.perf_counter()
        _must(client.call("POST", f"/returns/{return_id}/events", scenario.receipt()), "receive", 200)
        received = time.perf_counter()
        with recorder.unobserved():
            oms.wait_for_execution(return_id, timeout=settings.timeout_seconds, poll=WATCH_SECONDS)
            ended = time.perf_counter()
            if scenario.exchange:
                exchange_order_id = _must(client.call("GET", f"/returns/{return_id}"), "read", 200).get(
                    "exchangeOrderId"
                )
                if exchange_order_id:
                    _wait_until(
                        oms,
                        exchange_order_id,
                        lambda h: parked(str(exchange_order_id), h, AWAIT_SHIPMENT_STATE),
                        AWAIT_SHIPMENT_STATE,
                        settings,
                    )
    with recorder.unobserved():
        return MeasuredReturn(
            return_id=return_id,
            order_id=order_id,
            usage=usage,
            history=oms.execution_history(return_id),
            exchange_order_id=exchange_order_id,
            exchange_history=oms.execution_history(exchange_order_id) if exchange_order_id else None,
            authorize_seconds=authorized - started,
            receive_seconds=received - receiving,
            to_end_seconds=ended - received,
        )


def _wait_until(
    oms: LocalOMS,
    execution: str,
    ready: Callable[[list[dict[str, Any]]], bool],
    what: str,
    settings: ReturnSettings,
) -> None:
    deadline = time.monotonic() + settings.timeout_seconds
    while True:
        history = oms.execution_history(execution)
        if ready(history):
            return
        if any(event["type"] in ENDED_EVENTS for event in history) or time.monotonic() > deadline:
            status = oms.execution_status(execution)
            raise RuntimeError(f"{execution} never reached {what} ({status})")
        time.sleep(WATCH_SECONDS)


ENDED_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})


def _awaits(history: list[dict[str, Any]], state: str) -> bool:
    """Whether a task in `state` has parked its token (its Lambda returned: TaskSubmitted)."""
    state_of = states_of(history)
    return any(e["type"] == "TaskSubmitted" and state_of.get(e["id"]) == state for e in history)


def _stock(client: Client, scenario: ReturnScenario) -> dict[tuple[str, str], dict[str, int]]:
    levels = {}
    for sku, warehouse_id in scenario.stock_locations():
        level = client.stock(sku)[warehouse_id]
        levels[(sku, warehouse_id)] = {k: level[k] for k in ("onHand", "reserved", "available")}
    return levels


def _reserve_seconds(order: dict[str, Any]) -> float:
    at = {entry["status"]: datetime.fromisoformat(entry["at"]) for entry in order["timeline"]}
    return (at["RESERVED"] - at["RECEIVED"]).total_seconds() if "RESERVED" in at else math.nan


# -- what the run is checked against ---------------------------------------------------------------


def _checks(
    driver: _Driver,
    found: ScenarioRun,
    stock_before: dict[tuple[str, str], dict[str, int]],
    signed_before: int,
) -> list[Check]:
    oms, client, receiver = driver.oms, driver.client, driver.receiver
    scenario, every = found.scenario, found.warmup + found.returns
    returns = {r.return_id: _must(client.call("GET", f"/returns/{r.return_id}"), "read", 200) for r in every}
    checks = [
        _executions_check(oms, every),
        _closed_check(scenario, returns),
        _stock_check(scenario, stock_before, _stock(client, scenario), len(every)),
        _functions_check(found),
    ]
    if scenario.exchange:
        checks.append(_exchange_check(client, every))
    else:
        checks.append(_receiver_check(receiver, returns, signed_before))
    return checks


def _executions_check(oms: LocalOMS, every: list[MeasuredReturn]) -> Check:
    wrong = []
    for measured in every:
        status = oms.execution_status(measured.return_id)
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in measured.history if "stateEnteredEventDetails" in e
        ]
        if status != "SUCCEEDED" or not entered or entered[-1] != "Closed":
            wrong.append(f"{measured.return_id}: {status} at {entered[-1] if entered else None}")
    detail = f"{len(every) - len(wrong)} of {len(every)} return executions SUCCEEDED in state Closed"
    return Check("every return execution SUCCEEDED", not wrong, detail + _first(wrong))


def _closed_check(scenario: ReturnScenario, returns: dict[str, dict[str, Any]]) -> Check:
    method = "NONE" if scenario.exchange else "WEBHOOK"
    refund_status = "SUCCEEDED"
    wrong = []
    for return_id, found in returns.items():
        refund = found.get("refund") or {}
        got = (found["status"], refund.get("status"), refund.get("method"), refund.get("total"))
        if got != ("CLOSED", refund_status, method, scenario.expected_refund):
            wrong.append(f"{return_id}: {got}")
        if scenario.exchange and found.get("exchangeOutcome") != "RESERVED":
            wrong.append(f"{return_id}: exchange {found.get('exchangeOutcome')}")
    detail = (
        f"{len(returns) - len(wrong)} of {len(returns)} returns CLOSED, refund {refund_status} "
        f"({method}, {scenario.expected_refund})" + (", exchange RESERVED" if scenario.exchange else "")
    )
    return Check("every return CLOSED as expected", not wrong, detail + _first(wrong))


def _stock_check(
    scenario: ReturnScenario,
    before: dict[tuple[str, str], dict[str, int]],
    after: dict[tuple[str, str], dict[str, int]],
    returns: int,
) -> Check:
    """Resellable units back on hand where they were received; an exchange's units reserved."""
    expected = {key: dict(level) for key, level in before.items()}
    for sku, units in scenario.ordered:
        level = expected[(sku, scenario.warehouse_id)]
        level["onHand"] += units * returns
        level["available"] += units * returns
    for sku, units in scenario.exchange:
        assert scenario.exchange_warehouse_id is not None
        level = expected[(sku, scenario.exchange_warehouse_id)]
        level["reserved"] += units * returns
        level["available"] -= units * returns
    wrong = [
        f"{key}: {after[key]}, expected {level}" for key, level in expected.items() if after[key] != level
    ]
    detail = "returned units back on hand at the receiving warehouse" + (
        ", the exchange orders' units reserved" if scenario.exchange else ""
    )
    return Check("stock adds up", not wrong, detail + _first(wrong))


def _receiver_check(
    receiver: FakeChannelRefunds, returns: dict[str, dict[str, Any]], signed_before: int
) -> Check:
    """The receiver verified one signed request per refund, and was sent no other."""
    created = Counter(r["webhookId"] for r in receiver.refunds_created("signed"))
    refund_ids = [found["refund"]["refundId"] for found in returns.values() if found.get("refund")]
    sent = len(receiver.calls("/refunds/")) - signed_before
    passed = all(created[refund_id] == 1 for refund_id in refund_ids) and sent == len(returns)
    detail = f"{sent} signed refund requests for {len(returns)} returns, each verified and answered once"
    return Check("one signed refund per return", passed, detail)


def _exchange_check(client: Client, every: list[MeasuredReturn]) -> Check:
    wrong = []
    for measured in every:
        if measured.exchange_order_id is None:
            wrong.append(f"{measured.return_id}: no exchange order")
            continue
        order = client.order(measured.exchange_order_id)
        link = order.get("exchangeOf") or {}
        if order["status"] != "FULFILLING" or link.get("returnId") != measured.return_id:
            wrong.append(f"{measured.exchange_order_id}: {order['status']}, exchange of {link}")
    detail = f"{len(every) - len(wrong)} of {len(every)} exchange orders FULFILLING, linked to their return"
    return Check("every exchange order reserved", not wrong, detail + _first(wrong))


def _functions_check(found: ScenarioRun) -> Check:
    expected = RETURN_FUNCTIONS | (ORDER_STEP_FUNCTIONS if found.scenario.exchange else frozenset())
    ran = Counter(i.function for r in found.returns for i in r.usage.invocations)
    other = sorted(set(ran) - expected - EVENT_FUNCTIONS)
    detail = "only the returns API, the return workflow's steps" + (
        " and the order workflow's steps (the exchange order)" if found.scenario.exchange else ""
    )
    asynchronous = sorted(set(ran) & EVENT_FUNCTIONS)
    if asynchronous:
        detail += f", and the asynchronous side, not priced here ({', '.join(asynchronous)})"
    return Check("nothing else ran in the windows", not other, detail + (f"; also {other}" if other else ""))


def _first(problems: list[str]) -> str:
    return f"; first problem: {problems[0]}" if problems else ""


# -- counting (pure: from what the windows recorded) -----------------------------------------------


def only(usage: Usage, functions: frozenset[str]) -> Usage:
    """What `functions` did in `usage`: their DynamoDB calls, their invocations, the API requests
    routed to them (AWS calls other than DynamoDB are not attributed, so they are left out)."""
    routed = {f"{r.method} {r.path}" for r in ROUTES if r.function in functions}
    return Usage(
        dynamodb_calls=[c for c in usage.dynamodb_calls if c.function in functions],
        invocations=[i for i in usage.invocations if i.function in functions],
        api_requests=Counter({route: n for route, n in usage.api_requests.items() if route in routed}),
    )


def merged(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for usage in usages:
        total.dynamodb_calls += usage.dynamodb_calls
        total.invocations += usage.invocations
        total.aws_calls.update(usage.aws_calls)
        total.api_requests.update(usage.api_requests)
    return total


def states_entered(history: list[dict[str, Any]]) -> Counter[str]:
    """State name -> times entered in one execution's history, in the order first entered."""
    events = sorted(history, key=lambda e: e["id"])
    return Counter(e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e)


@dataclass(frozen=True)
class FunctionTime:
    name: str
    invocations: float  # per return
    memory_mb: int
    p50_ms: float  # median local handler time (returns run one at a time)

    @property
    def billed_ms(self) -> int:
        """The assumed duration on AWS: the local median rounded up to 1 ms, as Lambda bills."""
        return math.ceil(self.p50_ms)

    @property
    def gb_seconds(self) -> float:
        """Per return."""
        return self.invocations * self.memory_mb / 1024 * self.billed_ms / 1000


def function_times(invocations: Iterable[Invocation], returns: int) -> list[FunctionTime]:
    seconds: dict[str, list[float]] = {}
    for invocation in invocations:
        seconds.setdefault(invocation.function, []).append(invocation.seconds)
    return [
        FunctionTime(name, len(times) / returns, FUNCTIONS[name].memory_mb, 1000 * statistics.median(times))
        for name, times in sorted(seconds.items())
    ]


@dataclass(frozen=True)
class Work:
    """What one return (or its exchange order) does, per return, in the quantities AWS bills."""

    returns: int
    transitions: Spread
    retries: int
    workflow_lambda_tasks: float  # Lambda tasks in the histories, per return
    api_requests: dict[str, float]  # route -> requests per return
    functions: list[FunctionTime]
    dynamodb: Units
    dynamodb_by_function: dict[str, Units]
    dynamodb_calls: dict[str, tuple[float, float]]  # "Function: Operation" -> (calls, failed) per return
    states: dict[str, Spread]  # state name -> times entered per return

    @property
    def lambda_invocations(self) -> float:
        return sum(f.invocations for f in self.functions)

    @property
    def api_requests_total(self) -> float:
        return sum(self.api_requests.values())

    @property
    def gb_seconds(self) -> float:
        return sum(f.gb_seconds for f in self.functions)

    @property
    def invocations_explained(self) -> bool:
        """Every handler call is a Lambda task of the histories or an API request."""
        return math.isclose(self.lambda_invocations, self.workflow_lambda_tasks + self.api_requests_total)

    def cost_lines(self) -> list[pricing.CostLine]:
        return pricing.billed(
            transitions=self.transitions.mean,
            lambda_requests=self.lambda_invocations,
            gb_seconds=self.gb_seconds,
            api_requests=self.api_requests_total,
            write_units=self.dynamodb.writes,
            read_units=self.dynamodb.reads,
        )

    @property
    def usd_per_1000(self) -> float:
        return sum(line.usd_per_1000_orders for line in self.cost_lines())


def work(usages: list[Usage], histories: list[list[dict[str, Any]]], counter: UnitCounter) -> Work:
    """Per return, from one window's usage and one execution history per return."""
    returns = len(usages)
    counts = [workflow_counts(history) for history in histories]
    usage = merged(usages)
    total, by_function = request_units(counter, usage.dynamodb_calls)
    visits = [states_entered(history) for history in histories]
    names = list(dict.fromkeys(name for entered in visits for name in entered))  # as first entered
    return Work(
        returns=returns,
        transitions=Spread.of(c.transitions for c in counts),
        retries=sum(c.retries for c in counts),
        workflow_lambda_tasks=sum(c.lambda_tasks for c in counts) / returns,
        api_requests={route: n / returns for route, n in sorted(usage.api_requests.items())},
        functions=function_times(usage.invocations, returns),
        dynamodb=total.scaled(1 / returns),
        dynamodb_by_function={name: units.scaled(1 / returns) for name, units in sorted(by_function.items())},
        dynamodb_calls=dynamodb_calls(usage.dynamodb_calls, returns),
        states={name: Spread.of(entered[name] for entered in visits) for name in names},
    )


def dynamodb_calls(calls: Iterable[DynamoCall], returns: int) -> dict[str, tuple[float, float]]:
    counted: dict[str, tuple[float, float]] = {}
    for call in calls:
        name = f"{call.function or '(outside a handler)'}: {call.operation}"
        made, failed = counted.get(name, (0.0, 0.0))
        counted[name] = (made + 1 / returns, failed + call.failed / returns)
    return dict(sorted(counted.items()))


@dataclass(frozen=True)
class Poll:
    """One round of the exchange poll loop (WaitForExchange, CheckExchange, ExchangeDecided)."""

    polls: Spread  # CheckExchange entered, per return
    transitions: float  # per round, from the histories
    read_units: float  # CheckExchange's reads per invocation (every round reads the same)
    gb_seconds: float  # CheckExchange's, per invocation

    def cost_lines(self) -> list[pricing.CostLine]:
        """A round that finds the exchange order still PENDING: it reads and writes nothing else."""
        return pricing.billed(
            transitions=self.transitions,
            lambda_requests=1,
            gb_seconds=self.gb_seconds,
            api_requests=0,
            write_units=0,
            read_units=self.read_units,
        )

    @property
    def usd_per_1000(self) -> float:
        return sum(line.usd_per_1000_orders for line in self.cost_lines())


def poll(returned: Work, histories: list[list[dict[str, Any]]]) -> Poll | None:
    """The poll loop of `returned` (an exchange's return), or None if no round ran."""
    visits = [states_entered(history) for history in histories]
    rounds = sum(entered[CHECK_STATE] for entered in visits)
    if not rounds:
        return None
    check = next((f for f in returned.functions if f.name == CHECK_FUNCTION), None)
    units = returned.dynamodb_by_function.get(CHECK_FUNCTION, Units())
    invocations = check.invocations if check else 0.0
    return Poll(
        polls=Spread.of(entered[CHECK_STATE] for entered in visits),
        transitions=sum(entered[name] for entered in visits for name in POLL_STATES) / rounds,
        read_units=units.reads / invocations if invocations else 0.0,
        gb_seconds=check.gb_seconds / invocations if check and invocations else 0.0,
    )


@dataclass(frozen=True)
class ScenarioFigures:
    run: ScenarioRun
    returned: Work  # the return: its API requests and its workflow
    exchange_order: Work | None  # the exchange order's workflow up to FULFILLING
    poll: Poll | None
    other_aws_calls: dict[str, float]  # non-DynamoDB AWS calls per return, the whole window
    unpriced: dict[str, int]


def figures(result: ReturnsResult) -> list[ScenarioFigures]:
    every = [r for run in result.runs for r in run.warmup + run.returns]
    catalog = item_catalog(result.tables, [r.usage for r in every], result.final_items)
    found = []
    for run in result.runs:
        counter = UnitCounter(result.tables, catalog)
        usages = [r.usage for r in run.returns]
        returned = work(
            [only(u, RETURN_FUNCTIONS) for u in usages], [r.history for r in run.returns], counter
        )
        exchanged = [r.exchange_history for r in run.returns if r.exchange_history is not None]
        exchange_order = (
            work([only(u, ORDER_STEP_FUNCTIONS) for u in usages], exchanged, counter)
            if run.scenario.exchange and len(exchanged) == len(usages)
            else None
        )
        aws_calls = merged(usages).aws_calls
        found.append(
            ScenarioFigures(
                run=run,
                returned=returned,
                exchange_order=exchange_order,
                poll=poll(returned, [r.history for r in run.returns]),
                other_aws_calls={
                    name: n / len(usages)
                    for name, n in sorted(aws_calls.items())
                    if not name.startswith("dynamodb.")
                },
                unpriced=dict(counter.unpriced),
            )
        )
    return found
