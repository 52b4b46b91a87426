"""The path of an execution, from GetExecutionHistory events shaped as Step Functions sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.logic.workflow_view import nested_states, state_types, steps

DEFINITION = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Task",
            "Next": "Each",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Await", "States": {"Await": {"Type": "Task", "End": True}}},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class History:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, previous: int | None = None, **details: Any) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": previous if previous is not None else event_id - 1,
            "type": kind,
            "timestamp": START + timedelta(seconds=event_id),
        }
        event.update(details)
        self.events.append(event)
        return event_id

    def enter(self, kind: str, name: str, previous: int | None = None) -> int:
        return self.add(f"{kind}StateEntered", previous, stateEnteredEventDetails={"name": name})

    def exit(self, kind: str, name: str, previous: int | None = None) -> int:
        return self.add(f"{kind}StateExited", previous, stateExitedEventDetails={"name": name})

    def task(self, resource: str = "invoke") -> None:
        self.add("TaskScheduled", taskScheduledEventDetails={"resource": resource})
        self.add("TaskStarted", taskStartedEventDetails={"resource": resource})


def path(history: History, running: bool) -> list[dict[str, Any]]:
    found = steps(history.events, state_types(DEFINITION), nested_states(DEFINITION), running=running)
    return [step.model_dump(exclude_none=True) for step in found]


def test_a_retried_task_that_failed_for_good_ends_in_the_fail_state() -> None:
    history = History()
    history.add("ExecutionStarted")
    history.enter("Task", "Reserve")
    history.task()
    history.add("TaskFailed", taskFailedEventDetails={"error": "TransientError", "cause": "busy"})
    history.task()
    history.add("TaskFailed", taskFailedEventDetails={"error": "Boom", "cause": "x" * 600})
    history.exit("Task", "Reserve")
    history.enter("Fail", "Failed")
    history.add("ExecutionFailed", executionFailedEventDetails={"error": "Boom", "cause": "it broke"})

    reserve, failed = path(history, running=False)
    assert (reserve["state"], reserve["outcome"], reserve["caught"]) == ("Reserve", "FAILED", True)
    assert reserve["attempts"] == 2
    assert reserve["error"] == "Boom"
    assert len(reserve["cause"]) == 500
    assert reserve["enteredAt"] == "2026-12-01T09:00:02.000Z"
    assert (failed["state"], failed["type"], failed["outcome"], failed["caught"]) == (
        "Failed",
        "Fail",
        "FAILED",
        False,
    )
    assert failed["error"] == "Boom"


def test_a_retry_that_succeeds_clears_the_failure() -> None:
    history = History()
    history.enter("Task", "Reserve", previous=0)
    history.task()
    history.add("TaskFailed", taskFailedEventDetails={"error": "TransientError"})
    history.task()
    history.add("TaskSucceeded")
    history.exit("Task", "Reserve")

    [reserve] = path(history, running=True)
    assert (reserve["outcome"], reserve["attempts"]) == ("SUCCEEDED", 2)


def test_map_iterations_wait_apart_and_the_map_is_active() -> None:
    history = History()
    history.enter("Map", "Each", previous=0)
    started = history.add("MapStateStarted")
    first = history.add(
        "MapIterationStarted", started, mapIterationStartedEventDetails={"name": "Each", "index": 0}
    )
    second = history.add(
        "MapIterationStarted", started, mapIterationStartedEventDetails={"name": "Each", "index": 1}
    )
    history.enter("Task", "Await", first)
    history.add("TaskScheduled", taskScheduledEventDetails={"resource": "invoke.waitForTaskToken"})
    history.enter("Task", "Await", second)
    history.add("TaskScheduled", taskScheduledEventDetails={"resource": "invoke.waitForTaskToken"})

    each, one, two = path(history, running=True)
    assert (each["outcome"], each.get("iteration")) == ("ACTIVE", None)
    assert (one["outcome"], one["iteration"], two["outcome"], two["iteration"]) == (
        "WAITING",
        0,
        "WAITING",
        1,
    )
    assert [s["outcome"] for s in path(history, running=False)] == ["STOPPED"] * 3
