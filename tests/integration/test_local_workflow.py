"""The order workflow ASL, executed by moto's Step Functions interpreter, with fake task handlers."""

import json
import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared.errors import FulfillmentFailed, OrderBackordered, OrderRejected

TIMINGS = {"fulfillmentTimeoutSeconds": 60, "fulfillmentHeartbeatSeconds": 60, "deliveryTimeoutSeconds": 60}


class TransientError(Exception):
    pass


class InvalidOrderData(Exception):
    pass


class Tasks:
    """Fakes for the workflow functions; AwaitEvent and AwaitRestock park their task tokens in queues.
    AcceptOrder answers with a reservation unless told `acceptance` (an answer, an error or a script)."""

    def __init__(self) -> None:
        self.acceptance: Any = None
        self.shipments = 1
        self.conclusion: Any = {"outcome": "DELIVERED", "cause": ""}
        self.calls: dict[str, list[dict[str, Any]]] = {
            "AcceptOrder": [],
            "ReserveInventory": [],
            "Compensate": [],
            "ConcludeOrder": [],
        }
        self.parked: queue.Queue[dict[str, Any]] = queue.Queue()
        self.backordered: queue.Queue[dict[str, Any]] = queue.Queue()

    def reservation(self, event: dict[str, Any]) -> dict[str, Any]:
        ids = [f"{event['orderId']}-F{n}" for n in range(1, self.shipments + 1)]
        return {"outcome": "RESERVED", "reasons": [], "fulfillmentIds": ids, "waitSeconds": 0}

    def compensation(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"outcome": event["outcome"], "fulfillmentId": event.get("fulfillmentId"), "releasedUnits": 1}

    def handlers(self) -> dict[str, Any]:
        return {
            "AcceptOrder": lambda event, context: self._answer(
                "AcceptOrder", event, self.acceptance or self.reservation(event)
            ),
            "AwaitRestock": lambda event, context: self.backordered.put(event) or {"parked": True},
            "ReserveInventory": lambda event, context: self._answer(
                "ReserveInventory", event, self.reservation(event)
            ),
            "AwaitEvent": lambda event, context: self.parked.put(event) or {"parked": True},
            "Compensate": lambda event, context: self._answer("Compensate", event, self.compensation(event)),
            "ConcludeOrder": lambda event, context: self._answer("ConcludeOrder", event, self.conclusion),
        }

    def _answer(self, name: str, event: dict[str, Any], answer: Any) -> Any:
        self.calls[name].append(event)
        if isinstance(answer, list):  # a script: one answer per call
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def next_parked(self, awaiting: str) -> dict[str, Any]:
        parked = self.parked.get(timeout=10)
        assert parked["awaiting"] == awaiting
        return parked


@pytest.fixture
def tasks() -> Tasks:
    return Tasks()


@pytest.fixture
def oms(tasks: Tasks) -> Iterator[LocalOMS]:
    with LocalOMS("inprocess", handlers=tasks.handlers()) as running:
        yield running


def start(oms: LocalOMS, order_id: str) -> None:
    oms.client("stepfunctions").start_execution(
        stateMachineArn=oms.deployment.order_workflow_arn,
        name=order_id,
        input=json.dumps({"orderId": order_id, "timings": TIMINGS}),
    )


def resume(oms: LocalOMS, parked: dict[str, Any], output: dict[str, Any]) -> None:
    oms.client("stepfunctions").send_task_success(taskToken=parked["taskToken"], output=json.dumps(output))


def entered(oms: LocalOMS, order_id: str) -> list[str]:
    """The states the execution entered, in order: what Step Functions bills, one transition each."""
    history = oms.execution_history(order_id)
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def test_an_order_is_validated_reserved_shipped_and_delivered(oms: LocalOMS, tasks: Tasks) -> None:
    start(oms, "o-1")

    shipment = tasks.next_parked("SHIPPED")
    assert (shipment["orderId"], shipment["fulfillmentId"]) == ("o-1", "o-1-F1")
    resume(oms, shipment, {"fulfillmentId": "o-1-F1", "status": "SHIPPED", "trackingNumber": "1Z999"})
    resume(oms, tasks.next_parked("DELIVERED"), {"fulfillmentId": "o-1-F1", "status": "DELIVERED"})

    execution = oms.wait_for_execution("o-1")
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["reservation"] == {"fulfillmentIds": ["o-1-F1"]}
    # The path most orders take: five billed state transitions, no Choice state on the way.
    assert entered(oms, "o-1") == [
        "AcceptOrder",
        "FulfilEachShipment",
        "AwaitShipment",
        "AwaitDelivery",
        "ConcludeOrder",
    ]
    assert tasks.calls["AcceptOrder"] == [{"orderId": "o-1"}]
    assert tasks.calls["ConcludeOrder"] == [{"orderId": "o-1"}]
    assert tasks.calls["Compensate"] == []


def test_the_workflow_waits_on_every_fulfillment_at_once(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.shipments = 2
    start(oms, "o-5")

    first, second = tasks.next_parked("SHIPPED"), tasks.next_parked("SHIPPED")
    assert {first["fulfillmentId"], second["fulfillmentId"]} == {"o-5-F1", "o-5-F2"}
    for parked in (first, second):
        resume(oms, parked, {"fulfillmentId": parked["fulfillmentId"], "status": "SHIPPED"})
    delivered = [tasks.next_parked("DELIVERED") for _ in range(2)]
    resume(oms, delivered[0], {"fulfillmentId": delivered[0]["fulfillmentId"], "status": "DELIVERED"})
    assert oms.describe_execution("o-5")["status"] == "RUNNING"  # still waiting on the other one
    resume(oms, delivered[1], {"fulfillmentId": delivered[1]["fulfillmentId"], "status": "DELIVERED"})

    assert oms.wait_for_execution("o-5")["status"] == "SUCCEEDED"
    assert len(entered(oms, "o-5")) == 7  # two more per extra shipment
    assert oms.last_state("o-5") == "ConcludeOrder"
    assert tasks.calls["ConcludeOrder"] == [{"orderId": "o-5"}]


def fail_one_and_deliver_the_other(
    oms: LocalOMS, tasks: Tasks, *, failing: str, error: str, cause: str
) -> None:
    """Both branches of a two-part order park; one task fails with `error`, the other ships and arrives."""
    parked = {p["fulfillmentId"]: p for p in (tasks.next_parked("SHIPPED"), tasks.next_parked("SHIPPED"))}
    oms.client("stepfunctions").send_task_failure(
        taskToken=parked.pop(failing)["taskToken"], error=error, cause=cause
    )
    ((other, shipment),) = parked.items()
    resume(oms, shipment, {"fulfillmentId": other, "status": "SHIPPED"})
    resume(oms, tasks.next_parked("DELIVERED"), {"fulfillmentId": other, "status": "DELIVERED"})


def test_one_fulfillment_failing_compensates_only_that_fulfillment(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.shipments = 2
    tasks.conclusion = FulfillmentFailed("fulfillment o-6-F2 from wh-b failed: lost")
    start(oms, "o-6")

    fail_one_and_deliver_the_other(oms, tasks, failing="o-6-F2", error="WarehouseDown", cause="lost")

    execution = oms.wait_for_execution("o-6")
    assert (execution["status"], execution["error"]) == ("FAILED", "FulfillmentFailed")
    assert execution["cause"] == "fulfillment o-6-F2 from wh-b failed: lost"
    (compensation,) = tasks.calls["Compensate"]
    assert (compensation["fulfillmentId"], compensation["outcome"]) == ("o-6-F2", "FAILED")
    assert compensation["error"]["Error"] == "WarehouseDown"


def test_a_cancelled_fulfillment_releases_only_its_own_stock(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.shipments = 2
    start(oms, "o-7")

    fail_one_and_deliver_the_other(oms, tasks, failing="o-7-F1", error="OrderCancelled", cause="cancelled")

    assert oms.wait_for_execution("o-7")["status"] == "SUCCEEDED"
    (compensation,) = tasks.calls["Compensate"]
    assert (compensation["fulfillmentId"], compensation["outcome"]) == ("o-7-F1", "CANCELLED")


def test_a_non_transient_error_compensates_then_fails_the_order(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.acceptance = InvalidOrderData("line 1 has no SKU")

    start(oms, "o-2")

    execution = oms.wait_for_execution("o-2")
    assert execution["status"] == "FAILED"
    assert execution["error"] == "OrderFailed"
    assert oms.last_state("o-2") == "Failed"
    assert len(tasks.calls["AcceptOrder"]) == 1  # not retried: only transient errors are
    (compensation,) = tasks.calls["Compensate"]
    assert compensation["outcome"] == "FAILED"
    assert compensation["error"]["Error"] == "InvalidOrderData"
    assert json.loads(compensation["error"]["Cause"])["errorMessage"] == "line 1 has no SKU"


def test_a_transient_error_is_retried_by_its_error_type(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.acceptance = [TransientError("timeout"), OrderRejected("SKU NOPE is not stocked")]

    start(oms, "o-3")

    assert oms.wait_for_execution("o-3")["status"] == "SUCCEEDED"
    assert oms.last_state("o-3") == "Rejected"
    assert len(tasks.calls["AcceptOrder"]) == 2


def test_a_backordered_order_waits_for_a_restock_then_is_sourced_again(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.acceptance = OrderBackordered("600")
    start(oms, "o-8")

    waiting = tasks.backordered.get(timeout=10)
    scheduled = [e for e in oms.execution_history("o-8") if "taskScheduledEventDetails" in e]
    assert scheduled[-1]["taskScheduledEventDetails"]["timeoutInSeconds"] == 600  # the error's message
    resume(oms, waiting, {"orderId": "o-8", "restocked": "MUG-BLUE"})
    resume(oms, tasks.next_parked("SHIPPED"), {"fulfillmentId": "o-8-F1", "status": "SHIPPED"})
    resume(oms, tasks.next_parked("DELIVERED"), {"fulfillmentId": "o-8-F1", "status": "DELIVERED"})

    assert oms.wait_for_execution("o-8")["status"] == "SUCCEEDED"
    assert tasks.calls["ReserveInventory"] == [{"orderId": "o-8"}]
    assert entered(oms, "o-8")[:6] == [
        "AcceptOrder",
        "ReadBackorderError",
        "ReadBackorderWait",
        "AwaitRestock",
        "ReserveInventory",
        "FulfilEachShipment",
    ]


def test_a_backorder_waits_no_longer_than_its_error_says(oms: LocalOMS, tasks: Tasks) -> None:
    tasks.acceptance = OrderBackordered("1")
    start(oms, "o-9")

    assert oms.wait_for_execution("o-9", timeout=15)["status"] == "SUCCEEDED"
    assert oms.last_state("o-9") == "Cancelled"
    (expiry,) = tasks.calls["Compensate"]
    assert (expiry["outcome"], expiry["error"]["Error"]) == ("EXPIRED", "States.Timeout")


def parking_and_resuming_at_once(oms: LocalOMS) -> Any:
    """An AwaitEvent whose event arrives before it even returns (a fast warehouse)."""
    sfn = oms.client("stepfunctions")  # boto3 clients are thread-safe; one serves every execution

    def await_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
        report = {"fulfillmentId": event["fulfillmentId"], "status": event["awaiting"]}
        sfn.send_task_success(taskToken=event["taskToken"], output=json.dumps(report))
        return {"parked": True}

    return await_event


def test_a_callback_that_arrives_before_the_task_lambda_returns_is_not_lost(oms: LocalOMS) -> None:
    oms.override_handler("AwaitEvent", parking_and_resuming_at_once(oms))

    start(oms, "o-4")

    assert oms.wait_for_execution("o-4")["status"] == "SUCCEEDED"
    assert oms.last_state("o-4") == "ConcludeOrder"


def test_a_burst_of_orders_with_callbacks_all_complete(oms: LocalOMS) -> None:
    oms.override_handler("AwaitEvent", parking_and_resuming_at_once(oms))
    order_ids = [f"burst-{index}" for index in range(30)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda order_id: start(oms, order_id), order_ids))

    assert {oms.wait_for_execution(order_id, timeout=30)["status"] for order_id in order_ids} == {"SUCCEEDED"}
