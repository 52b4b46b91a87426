"""What one order does, counted on the local run, in the quantities AWS bills.

- Step Functions state transitions: from each execution's history, one per state entered
  (`...StateEntered` events) plus one per retry of a task (a `TaskScheduled` after the first in the
  same state), as Standard workflows are billed. The states inside an Inline Map state's
  iterations count like any other; the iterations themselves are not billed.
- Lambda invocations: every handler call, counted by the timing wrapper; cross-checked against
  the Lambda tasks in the histories plus the API requests the clients made.
- API Gateway requests: the webhook and fulfillment-event requests the clients sent.
- DynamoDB request units: from the recorded calls (`benchmarks.dynamodb_units`).
- The asynchronous side (stream- and queue-fed functions, EventBridge events, SQS requests, SES
  e-mails): `benchmarks.async_side`; its functions' invocations and DynamoDB units are in the
  figures above like any other function's, and can be told apart (`asynchronous`, `ASYNC_FUNCTIONS`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks.async_side import ASYNC_FUNCTIONS, AsyncSide, asynchronous_side
from benchmarks.dynamodb_units import ItemCatalog, TableInfo, UnitCounter, Units, item_size
from benchmarks.local_run import RunResult, map_iterations
from benchmarks.recorder import DynamoCall, Invocation, Usage
from blueprint import API_AUTHORIZER, FUNCTIONS
from local.gateway import authorizers

MB_PER_GB = 1024
BYTES_PER_GB = 1024**3


@dataclass(frozen=True)
class WorkflowCounts:
    states_entered: int
    retries: int
    lambda_tasks: int
    branches: int  # iterations of the Map state: one per fulfillment
    states_in_branches: int  # of `states_entered`, those inside an iteration

    @property
    def transitions(self) -> int:
        return self.states_entered + self.retries


def workflow_counts(history: list[dict[str, Any]]) -> WorkflowCounts:
    """Retries are counted per state entered; with the Map's branches interleaved in the history,
    a task's retry is the second `TaskScheduled` on the chain of events since its state was entered."""
    branch_of = map_iterations(history)
    states = retries = lambda_tasks = branches = in_branches = 0
    scheduled: dict[int, int] = {}  # id of a state-entered event -> Lambda tasks scheduled since
    entered_at: dict[int, int] = {}  # event id -> id of the state-entered event on its chain
    for event in sorted(history, key=lambda e: e["id"]):
        event_id, kind = event["id"], event["type"]
        if kind.endswith("StateEntered"):
            states += 1
            in_branches += event_id in branch_of
            entered_at[event_id] = event_id
            scheduled[event_id] = 0
            continue
        branches += kind == "MapIterationStarted"
        if event.get("previousEventId", 0) in entered_at:
            entered_at[event_id] = entered_at[event["previousEventId"]]
        if kind == "TaskScheduled" and event["taskScheduledEventDetails"]["resourceType"] == "lambda":
            lambda_tasks += 1
            state = entered_at.get(event_id, 0)
            scheduled[state] = scheduled.get(state, 0) + 1
            retries += scheduled[state] > 1
    return WorkflowCounts(states, retries, lambda_tasks, branches, in_branches)


@dataclass(frozen=True)
class Spread:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        values = list(values)
        return cls(statistics.fmean(values), min(values), max(values))


@dataclass(frozen=True)
class FunctionUsage:
    name: str
    invocations_per_order: float
    memory_mb: int
    sequential_p50_ms: float  # median local handler time in the sequential warm-up
    concurrent_p50_ms: float  # median local handler time in the measured (concurrent) run

    @property
    def billed_ms(self) -> int:
        """The assumed duration on AWS: the sequential local median, rounded up to 1 ms as Lambda bills."""
        return math.ceil(self.sequential_p50_ms)

    @property
    def gb_seconds_per_order(self) -> float:
        return self.invocations_per_order * self.memory_mb / MB_PER_GB * self.billed_ms / 1000


@dataclass
class PerOrder:
    scenario: str
    orders: int
    lines: float  # order lines per order
    shipments: float  # fulfillments per order, as planned
    branches: Spread  # iterations of the workflow's Map state per execution
    states_in_branches: float  # states entered per Map iteration
    states_entered: Spread
    transitions: Spread
    retries: int
    workflow_lambda_tasks: float
    api_requests: dict[str, float]  # route -> requests per order
    functions: list[FunctionUsage]
    dynamodb: Units
    dynamodb_by_function: dict[str, Units]
    index_writes: dict[str, float]  # GSI name -> write units per order
    dynamodb_calls: dict[str, tuple[float, float]]  # "Function: Operation" -> (calls, failed) per order
    warmup_orders: int
    warmup_lines: float  # order lines per warm-up order
    warmup_dynamodb: Units  # per order, in the sequential warm-up: a cross-check
    other_aws_calls: dict[str, float]  # non-DynamoDB API calls per order, e.g. sfn.SendTaskSuccess
    unpriced_operations: dict[str, int]
    largest_items: dict[str, int]  # table -> bytes, at the end of the run
    failed_dynamodb_calls: float
    failed_dynamodb_units: Units  # per order, of the failed calls (billed all the same)
    asynchronous: AsyncSide = field(default_factory=AsyncSide)  # in all, over the measured orders
    warmup_asynchronous: AsyncSide = field(default_factory=AsyncSide)  # the same, the warm-up orders
    emails_on: bool = False  # the channel's customer e-mails were on in the run
    # Requests per order through a route with the stack's Lambda authorizer (uncached: one invocation
    # each). The local gateway decides them in-process, so they are no handler call here.
    authorizer_calls: float = 0.0
    drain_seconds: float | None = None  # the last execution ended -> the asynchronous side drained
    window_seconds: float = 0.0  # how long the measured window was open (the phases and the drain)

    @property
    def lambda_invocations(self) -> float:
        return sum(f.invocations_per_order for f in self.functions)

    @property
    def async_functions(self) -> list[FunctionUsage]:
        return [f for f in self.functions if f.name in ASYNC_FUNCTIONS]

    @property
    def async_invocations(self) -> float:
        return sum(f.invocations_per_order for f in self.async_functions)

    @property
    def async_gb_seconds(self) -> float:
        return sum(f.gb_seconds_per_order for f in self.async_functions)

    @property
    def async_dynamodb(self) -> Units:
        """Per order, the DynamoDB units of the stream- and queue-fed functions."""
        total = Units()
        for name, units in self.dynamodb_by_function.items():
            if name in ASYNC_FUNCTIONS:
                total.add(units)
        return total

    def per_order(self, total: float) -> float:
        """A total over the measured orders (e.g. of `asynchronous`), per order."""
        return total / max(1, self.orders)

    @property
    def events(self) -> float:
        """EventBridge events billed per order (64 KB chunks of the entries published)."""
        return self.per_order(self.asynchronous.event_chunks)

    @property
    def sqs_requests(self) -> float:
        return self.per_order(self.asynchronous.sqs_requests)

    @property
    def emails(self) -> float:
        return self.per_order(self.asynchronous.emails)

    @property
    def archived_gb(self) -> float:
        return self.per_order(self.asynchronous.archived_bytes) / BYTES_PER_GB

    @property
    def api_requests_total(self) -> float:
        return sum(self.api_requests.values())

    @property
    def gb_seconds(self) -> float:
        return sum(f.gb_seconds_per_order for f in self.functions)


def per_order(result: RunResult) -> PerOrder:
    settings = result.settings
    orders, scenario = settings.orders, settings.scenario
    counts = [workflow_counts(history) for history in result.histories.values()]
    catalog = _catalog(result)
    counter = UnitCounter(result.tables, catalog)
    total, by_function = _units(counter, result.usage)
    failed, _ = _units(UnitCounter(result.tables, catalog), result.usage, only_failed=True)
    warmup_total, _ = _units(UnitCounter(result.tables, catalog), result.warmup_usage)
    return PerOrder(
        scenario=scenario.name,
        orders=orders,
        lines=scenario.lines_per_order(orders),
        shipments=result.shipments_per_order,
        branches=Spread.of(c.branches for c in counts),
        states_in_branches=sum(c.states_in_branches for c in counts)
        / max(1, sum(c.branches for c in counts)),
        states_entered=Spread.of(c.states_entered for c in counts),
        transitions=Spread.of(c.transitions for c in counts),
        retries=sum(c.retries for c in counts),
        workflow_lambda_tasks=sum(c.lambda_tasks for c in counts) / orders,
        api_requests={route: n / orders for route, n in sorted(result.usage.api_requests.items())},
        functions=_functions(result, orders),
        dynamodb=total.scaled(1 / orders),
        dynamodb_by_function={name: units.scaled(1 / orders) for name, units in sorted(by_function.items())},
        index_writes={name: units / orders for name, units in sorted(counter.index_writes.items())},
        dynamodb_calls=_dynamodb_calls(result.usage, orders),
        warmup_orders=settings.warmup,
        warmup_lines=scenario.lines_per_order(settings.warmup),
        warmup_dynamodb=warmup_total.scaled(1 / max(1, result.settings.warmup)),
        other_aws_calls={
            name: n / orders
            for name, n in sorted(result.usage.aws_calls.items())
            if not name.startswith("dynamodb.")
        },
        unpriced_operations=dict(counter.unpriced),
        largest_items={
            table: max(map(item_size, items), default=0) for table, items in result.final_items.items()
        },
        failed_dynamodb_calls=sum(call.failed for call in result.usage.dynamodb_calls) / orders,
        failed_dynamodb_units=failed.scaled(1 / orders),
        asynchronous=asynchronous_side(
            result.usage.detailed_calls, result.usage.invocations, result.queue_names
        ),
        warmup_asynchronous=asynchronous_side(
            result.warmup_usage.detailed_calls, result.warmup_usage.invocations, result.queue_names
        ),
        emails_on=settings.emails,
        authorizer_calls=authorized_requests(result.usage.api_requests) / orders,
        drain_seconds=result.drain_seconds,
        window_seconds=result.timings.total_seconds + (result.drain_seconds or 0.0),
    )


# The authorizer's duration on AWS is not measured here (see `authorizer_calls`): an assumption, small
# next to the request price (a warm Python function comparing a key hash).
AUTHORIZER_ASSUMED_MS = 5


def authorized_requests(api_requests: Mapping[str, int]) -> int:
    """Of the requests per route ("POST /path"), those whose route has a Lambda authorizer."""
    authorized = {f"{method} {path}" for (method, path), name in authorizers().items() if name}
    return sum(n for route, n in api_requests.items() if route in authorized)


def authorizer_gb_seconds(calls: float) -> float:
    return calls * FUNCTIONS[API_AUTHORIZER].memory_mb / MB_PER_GB * AUTHORIZER_ASSUMED_MS / 1000


def _catalog(result: RunResult) -> ItemCatalog:
    return item_catalog(result.tables, (result.warmup_usage, result.usage), result.final_items)


def item_catalog(
    tables: Mapping[str, TableInfo], usages: Iterable[Usage], final_items: Mapping[str, list[dict[str, Any]]]
) -> ItemCatalog:
    """What is known of every item: from the Puts recorded in `usages` and the tables at the end."""
    catalog = ItemCatalog(tables)
    for usage in usages:
        for call in usage.dynamodb_calls:
            for table, item in _put_items(call.operation, call.request):
                catalog.remember(table, item)
    for table, items in final_items.items():
        catalog.remember_all(table, items)
    return catalog


def _put_items(operation: str, request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if operation == "PutItem":
        return [(request["TableName"], request["Item"])]
    if operation == "TransactWriteItems":
        return [(e["Put"]["TableName"], e["Put"]["Item"]) for e in request["TransactItems"] if "Put" in e]
    return []


def _units(counter: UnitCounter, usage: Usage, only_failed: bool = False) -> tuple[Units, dict[str, Units]]:
    return request_units(counter, usage.dynamodb_calls, only_failed)


def request_units(
    counter: UnitCounter, calls: Iterable[DynamoCall], only_failed: bool = False
) -> tuple[Units, dict[str, Units]]:
    """The units of `calls` (only the failed ones if `only_failed`), in all and by function."""
    total = Units()
    by_function: dict[str, Units] = {}
    for call in calls:
        if only_failed and not call.failed:
            continue
        units = counter.units(call)
        total.add(units)
        by_function.setdefault(call.function or "(outside a handler)", Units()).add(units)
    return total, by_function


def _dynamodb_calls(usage: Usage, orders: int) -> dict[str, tuple[float, float]]:
    calls: dict[str, tuple[float, float]] = {}
    for call in usage.dynamodb_calls:
        name = f"{call.function or '(outside a handler)'}: {call.operation}"
        made, failed = calls.get(name, (0.0, 0.0))
        calls[name] = (made + 1 / orders, failed + call.failed / orders)
    return dict(sorted(calls.items()))


def _functions(result: RunResult, orders: int) -> list[FunctionUsage]:
    measured = _seconds_by_function(result.usage.invocations)
    sequential = _seconds_by_function(result.warmup_usage.invocations)
    return [
        FunctionUsage(
            name=name,
            invocations_per_order=len(seconds) / orders,
            memory_mb=FUNCTIONS[name].memory_mb,
            sequential_p50_ms=1000 * statistics.median(sequential.get(name) or seconds),
            concurrent_p50_ms=1000 * statistics.median(seconds),
        )
        for name, seconds in sorted(measured.items())
    ]


def _seconds_by_function(invocations: list[Invocation]) -> dict[str, list[float]]:
    by_function: dict[str, list[float]] = {}
    for invocation in invocations:
        by_function.setdefault(invocation.function, []).append(invocation.seconds)
    return by_function
