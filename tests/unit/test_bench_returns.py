"""The returns benchmark's counting and pricing, on histories and calls a run could have recorded:
who did what (the return or its exchange order), transitions and the poll loop from the histories,
units and $ per 1,000 returns with section 2's prices, and the section put into a report in place."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from benchmarks import pricing, returns
from benchmarks.dynamodb_units import ItemCatalog, TableInfo, UnitCounter
from benchmarks.recorder import DynamoCall, Invocation, Usage
from benchmarks.returns_report import splice
from shared.models.returns import ReturnEventIn, ReturnIn

TABLE = "oms-Returns"
TABLES = {TABLE: TableInfo(key_attributes=("pk", "sk"))}
ITEM = {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "RETURN#o-1-R1"}, "note": {"S": "x" * 100}}


def history(*states: tuple[str, int]) -> list[dict[str, Any]]:
    """A linear execution history: each state entered once per item, with `tasks` Lambda tasks
    scheduled in it (more than one: retries)."""
    events: list[dict[str, Any]] = [{"id": 1, "type": "ExecutionStarted"}]

    def add(kind: str, **details: Any) -> None:
        events.append({"id": len(events) + 1, "previousEventId": len(events), "type": kind, **details})

    for name, tasks in states:
        add("TaskStateEntered" if tasks else "ChoiceStateEntered", stateEnteredEventDetails={"name": name})
        for _ in range(tasks):
            add("TaskScheduled", taskScheduledEventDetails={"resourceType": "lambda"})
            add("TaskSucceeded")
        add("TaskStateExited" if tasks else "ChoiceStateExited")
    add("ExecutionSucceeded")
    return events


REFUND_STATES = (
    ("ShipExchangeFirst", 0),
    ("AwaitReceipt", 1),
    ("Restock", 1),
    ("RouteResolution", 0),
    ("Refund", 2),  # one retry
    ("CloseReturn", 1),
    ("Closed", 0),
)
REFUND_HISTORY = history(*REFUND_STATES)


def exchange_history(rounds: int) -> list[dict[str, Any]]:
    loop = [("WaitForExchange", 0), ("CheckExchange", 1), ("ExchangeDecided", 0)] * rounds
    return history(
        ("ShipExchangeFirst", 0),
        ("AwaitReceipt", 1),
        ("Restock", 1),
        ("RouteResolution", 0),
        ("PlaceExchange", 1),
        *loop,
        ("Refund", 1),
        ("CloseReturn", 1),
        ("Closed", 0),
    )


def get(function: str | None, consistent: bool = True) -> DynamoCall:
    request = {"TableName": TABLE, "Key": {k: ITEM[k] for k in ("pk", "sk")}, "ConsistentRead": consistent}
    return DynamoCall(function, "GetItem", request, {"Item": ITEM}, failed=False, seconds=0.001)


def transact_put(function: str) -> DynamoCall:
    request = {"TransactItems": [{"Put": {"TableName": TABLE, "Item": ITEM}}]}
    return DynamoCall(function, "TransactWriteItems", request, {}, failed=False, seconds=0.001)


def counter() -> UnitCounter:
    return UnitCounter(TABLES, ItemCatalog(TABLES))


def test_states_are_counted_in_the_order_first_entered_and_retries_are_transitions() -> None:
    entered = returns.states_entered(exchange_history(2))
    assert list(entered)[:6] == [
        "ShipExchangeFirst",
        "AwaitReceipt",
        "Restock",
        "RouteResolution",
        "PlaceExchange",
        "WaitForExchange",
    ]
    assert (entered["CheckExchange"], entered["WaitForExchange"], entered["Closed"]) == (2, 2, 1)

    usage = Usage(invocations=[Invocation("RefundReturn", 0.01)] * 2)
    counted = returns.work([usage], [REFUND_HISTORY], counter())
    assert (counted.transitions.mean, counted.retries, counted.workflow_lambda_tasks) == (8, 1, 5)
    assert list(counted.states) == [name for name, _ in REFUND_STATES]


def test_what_a_window_recorded_is_split_between_the_return_and_its_exchange_order() -> None:
    window = Usage(
        dynamodb_calls=[get("ReturnsApi"), get("CheckExchange"), get("ReserveInventory"), get(None)],
        invocations=[Invocation("ReturnsApi", 0.03), Invocation("AcceptOrder", 0.02)],
        api_requests=Counter({"POST /orders/{orderId}/returns": 1, "POST /webhooks/{channelId}": 1}),
        aws_calls=Counter({"stepfunctions.StartExecution": 2}),
    )
    returned = returns.only(window, returns.RETURN_FUNCTIONS)
    assert [c.function for c in returned.dynamodb_calls] == ["ReturnsApi", "CheckExchange"]
    assert [i.function for i in returned.invocations] == ["ReturnsApi"]
    assert returned.api_requests == {"POST /orders/{orderId}/returns": 1}  # the route's function
    assert not returned.aws_calls  # not attributable to a function
    ordered = returns.only(window, returns.ORDER_STEP_FUNCTIONS)
    assert [c.function for c in ordered.dynamodb_calls] == ["ReserveInventory"]
    assert not ordered.api_requests

    both = returns.merged([window, window])
    assert (len(both.dynamodb_calls), both.api_requests["POST /webhooks/{channelId}"]) == (8, 2)
    assert both.aws_calls["stepfunctions.StartExecution"] == 4
    assert "ReturnsApi" in returns.RETURN_API_FUNCTIONS
    assert not returns.RETURN_FUNCTIONS & returns.ORDER_STEP_FUNCTIONS


def test_lambda_duration_is_the_local_median_rounded_up_and_gb_seconds_are_per_return() -> None:
    invocations = [Invocation("CheckExchange", s) for s in (0.0201, 0.0305, 0.0402)]
    (check,) = returns.function_times(invocations, returns=2)
    assert (check.invocations, check.memory_mb, check.billed_ms) == (1.5, 256, 31)
    assert check.gb_seconds == pytest.approx(1.5 * 0.25 * 0.031)


def test_units_and_dollars_per_return_use_section_2s_rules_and_prices() -> None:
    usage = Usage(
        dynamodb_calls=[
            get("ReturnsApi"),
            get("ReturnsApi", consistent=False),
            transact_put("RestockReturn"),
        ],
        invocations=[Invocation("ReturnsApi", 0.0099)] * 2 + [Invocation("RestockReturn", 0.0099)],
        api_requests=Counter({"POST /orders/{orderId}/returns": 1, "POST /returns/{returnId}/events": 1}),
    )
    one = history(("AwaitReceipt", 1), ("Closed", 0))
    counted = returns.work([usage, usage], [one, one], counter())  # two returns, the same each
    assert counted.dynamodb.reads == 1.5  # 1 strong + 0.5 eventual, per return
    assert counted.dynamodb.transactional_writes == 2
    assert counted.dynamodb_calls["ReturnsApi: GetItem"] == (2, 0)
    assert (counted.lambda_invocations, counted.api_requests_total, counted.transitions.mean) == (3, 2, 2)
    assert counted.invocations_explained  # 1 Lambda task + 2 API requests
    lines = {line.service: line for line in counted.cost_lines()}
    assert lines["Step Functions (state transitions)"].usd_per_1000_orders == pytest.approx(0.05)
    assert lines["API Gateway (REST requests)"].usd_per_1000_orders == pytest.approx(2 * 3.5 / 1000)
    assert lines["DynamoDB (write request units)"].usd_per_1000_orders == pytest.approx(2 * 0.625 / 1000)
    assert counted.usd_per_1000 == pytest.approx(sum(line.usd_per_1000_orders for line in lines.values()))


def test_an_invocation_neither_a_task_nor_an_api_request_is_caught() -> None:
    usage = Usage(
        invocations=[Invocation("ReturnsApi", 0.01)] * 2 + [Invocation("AwaitReturn", 0.01)],
        api_requests=Counter({"POST /orders/{orderId}/returns": 1}),
    )
    counted = returns.work([usage], [history(("AwaitReceipt", 1), ("Closed", 0))], counter())
    assert not counted.invocations_explained


def test_a_poll_round_is_its_three_states_one_invocation_and_checkexchanges_reads() -> None:
    rounds = [exchange_history(1), exchange_history(3)]
    check_calls = [get("CheckExchange"), get("CheckExchange")]  # the return and the exchange order
    usages = [
        Usage(dynamodb_calls=check_calls * n, invocations=[Invocation("CheckExchange", 0.0199)] * n)
        for n in (1, 3)
    ]
    counted = returns.work(usages, rounds, counter())
    poll = returns.poll(counted, rounds)
    assert poll is not None
    assert (poll.polls.mean, poll.polls.low, poll.polls.high) == (2, 1, 3)
    assert poll.transitions == 3
    assert poll.read_units == 2  # two strongly consistent reads per round
    assert poll.gb_seconds == pytest.approx(0.25 * 0.02)
    lines = {line.service: line for line in poll.cost_lines()}
    assert lines["Step Functions (state transitions)"].usd_per_1000_orders == pytest.approx(0.075)
    assert lines["Lambda (requests)"].units_per_order == 1
    assert lines["DynamoDB (write request units)"].units_per_order == 0
    assert poll.usd_per_1000 == pytest.approx(
        0.075 + 0.2 / 1000 + 1000 * 0.25 * 0.02 * pricing.LAMBDA_GB_SECOND.usd + 2 * 0.125 / 1000
    )
    assert returns.poll(counted, [REFUND_HISTORY]) is None  # no loop, no poll


def test_the_scenarios_send_what_the_api_accepts() -> None:
    for scenario in returns.SCENARIOS:
        request = ReturnIn.model_validate(scenario.request())
        assert [(line.sku, line.quantity) for line in request.lines] == list(scenario.ordered)
        receipt = ReturnEventIn.model_validate(scenario.receipt())
        assert {line.condition.value for line in receipt.lines} == {"RESELLABLE"}
    assert returns.EXCHANGE.request()["exchangeLines"] == [{"sku": "TEE-M", "quantity": 1}]
    assert returns.EXCHANGE.stock_locations() == [("MUG-BLUE", "wh-east"), ("TEE-M", "wh-west")]
    assert "exchangeLines" not in returns.REFUND.request()


REPORT = """# OMS benchmarks

## 6. Hot SKU

six

## 7. Returns: older figures

old

### sub

old too

## What this does not measure

- things

## Notes

notes
"""


def test_the_section_replaces_its_own_and_leaves_the_rest_as_it_was() -> None:
    new = "## 7. Returns: new figures\n\nnew\n"
    spliced = splice(REPORT, new)
    assert spliced == REPORT.replace("## 7. Returns: older figures\n\nold\n\n### sub\n\nold too\n", new)
    assert splice(spliced, new) == spliced

    without = REPORT.replace("## 7. Returns: older figures\n\nold\n\n### sub\n\nold too\n\n", "")
    inserted = splice(without, new)
    assert inserted.index("## 7.") < inserted.index("## What this does not measure")
    assert inserted.replace(new + "\n", "") == without

    assert splice("# OMS benchmarks\n", new) == "# OMS benchmarks\n\n" + new
    last = splice("# OMS\n\n## 7. Returns: old\n\nold\n", new)
    assert last == "# OMS\n\n" + new
