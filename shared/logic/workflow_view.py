"""An order's workflow as the back office sees it: the state machine, and the path its execution took
(every state entered, in order; where it waits; where it failed), read from the execution history."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import workflow
from shared.clock import iso
from shared.dal import orders
from shared.models.workflow_view import Execution, ExecutionStatus, Step, StepOutcome, WorkflowView

MAX_CAUSE_CHARS = 500
WAIT_FOR_TOKEN = ".waitForTaskToken"


def view(order_id: str) -> WorkflowView:
    """404 for an unknown order; an order whose execution was never started has an empty path."""
    orders.require(order_id)
    arn, definition_text = workflow.order_definition()
    definition = json.loads(definition_text)
    described, events, truncated = workflow.order_execution(order_id)
    if described is None:
        return WorkflowView(
            orderId=order_id,
            stateMachineArn=arn,
            definition=definition,
            execution=None,
            path=[],
            waitingIn=[],
            failedIn=[],
        )
    execution = _execution(described)
    running = execution.status is ExecutionStatus.RUNNING
    path = steps(events, state_types(definition), nested_states(definition), running=running)
    return WorkflowView(
        orderId=order_id,
        stateMachineArn=arn,
        definition=definition,
        execution=execution,
        path=path,
        waitingIn=list(dict.fromkeys(s.state for s in path if s.outcome is StepOutcome.WAITING)),
        failedIn=list(dict.fromkeys(s.state for s in path if s.outcome is StepOutcome.FAILED)),
        truncated=truncated,
    )


def state_types(definition: dict[str, Any]) -> dict[str, str]:
    """Every state's type by name, nested ones (Map, Parallel) included."""
    types: dict[str, str] = {}
    for name, state in definition.get("States", {}).items():
        types[name] = str(state.get("Type", ""))
        for nested in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            if nested:
                types |= state_types(nested)
    return types


def nested_states(definition: dict[str, Any]) -> set[str]:
    """The names of the states inside a Map's or a Parallel's own definitions."""
    inner: set[str] = set()
    for state in definition.get("States", {}).values():
        for nested in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            if nested:
                inner |= set(state_types(nested))
    return inner


def _execution(described: dict[str, Any]) -> Execution:
    stopped = described.get("stopDate")
    return Execution(
        executionArn=described["executionArn"],
        status=ExecutionStatus(described["status"]),
        startedAt=_at(described["startDate"]),
        stoppedAt=_at(stopped) if stopped else None,
        error=described.get("error"),
        cause=_short(described.get("cause")),
    )


@dataclass
class _Entry:
    state: str
    type: str
    entered_at: str
    iteration: int | None
    exited_at: str | None = None
    attempts: int = 0
    waits_for_token: bool = False
    failed: bool = False
    error: str | None = None
    cause: str | None = None

    def outcome(self, running: bool) -> StepOutcome:
        if self.failed:
            return StepOutcome.FAILED
        if self.exited_at is not None:
            return StepOutcome.SUCCEEDED
        if self.type == "Fail":
            return StepOutcome.FAILED
        if self.type == "Succeed":
            return StepOutcome.SUCCEEDED
        if not running:
            return StepOutcome.STOPPED
        return StepOutcome.WAITING if self.waits_for_token else StepOutcome.ACTIVE


def steps(
    events: Iterable[dict[str, Any]], types: dict[str, str], nested: set[str], *, running: bool
) -> list[Step]:
    """The states entered, in order, from GetExecutionHistory's events (oldest first).

    Each event names the event before it (`previousEventId`): an event belongs to the state whose
    entry its chain leads back to, and a Map iteration's states carry the iteration's index. When the
    chain does not lead to a state of the same name, the latest open entry of that name is used."""
    entries: list[_Entry] = []
    owner: dict[int, int] = {}  # event id -> index in entries
    iteration: dict[int, int | None] = {}
    for event in events:
        event_id, previous = int(event["id"]), int(event.get("previousEventId") or 0)
        kind = str(event["type"])
        iteration[event_id] = _iteration_of(event, iteration.get(previous))
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            if name not in nested:
                iteration[event_id] = None
            entries.append(
                _Entry(
                    name,
                    types.get(name, kind.removesuffix("StateEntered")),
                    _at(event["timestamp"]),
                    iteration[event_id],
                )
            )
            owner[event_id] = len(entries) - 1
            continue
        index = owner.get(previous)
        if kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            index = _open_entry(entries, name, index)
            if index is not None:
                entries[index].exited_at = _at(event["timestamp"])
            continue  # what follows an exit belongs to the next state
        if index is None:
            continue
        owner[event_id] = index
        _apply(entries[index], kind, event)
    return [
        Step(
            state=e.state,
            type=e.type,
            enteredAt=e.entered_at,
            exitedAt=e.exited_at,
            outcome=e.outcome(running),
            iteration=e.iteration,
            attempts=e.attempts,
            caught=e.failed and e.exited_at is not None,
            error=e.error,
            cause=e.cause,
        )
        for e in entries
    ]


def _iteration_of(event: dict[str, Any], inherited: int | None) -> int | None:
    details = event.get("mapIterationStartedEventDetails")
    return int(details["index"]) if details and "index" in details else inherited


def _open_entry(entries: list[_Entry], name: str, chained: int | None) -> int | None:
    if chained is not None and entries[chained].state == name and entries[chained].exited_at is None:
        return chained
    return next(
        (
            i
            for i in range(len(entries) - 1, -1, -1)
            if entries[i].state == name and entries[i].exited_at is None
        ),
        None,
    )


def _apply(entry: _Entry, kind: str, event: dict[str, Any]) -> None:
    """What a task's or the execution's event says about the state it belongs to."""
    if kind == "TaskScheduled":
        entry.attempts += 1
        entry.waits_for_token = str(event["taskScheduledEventDetails"].get("resource", "")).endswith(
            WAIT_FOR_TOKEN
        )
        entry.failed = False  # a retry: the earlier failure did not end the state
    elif kind in {"TaskSucceeded", "LambdaFunctionSucceeded"}:
        entry.waits_for_token = False
    elif kind.endswith(("Failed", "TimedOut", "Aborted")) and not kind.startswith("MapIteration"):
        details = next(
            (v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {}
        )
        entry.failed = True
        entry.waits_for_token = False
        entry.error = details.get("error") or kind
        entry.cause = _short(details.get("cause"))


def _short(cause: str | None) -> str | None:
    if cause is None:
        return None
    return cause if len(cause) <= MAX_CAUSE_CHARS else cause[: MAX_CAUSE_CHARS - 1] + "\u2026"


def _at(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else iso(moment.astimezone(UTC))
