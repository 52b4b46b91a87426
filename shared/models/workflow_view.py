"""An order's workflow as GET /orders/{orderId}/workflow shows it: the state machine and the path its
execution took, read from Step Functions (DescribeStateMachine, DescribeExecution, GetExecutionHistory)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from shared.models.base import Model


class StepOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # entered and left
    ACTIVE = "ACTIVE"  # entered, not left, the execution running (e.g. a Map while its iterations run)
    WAITING = "WAITING"  # a task waiting for its task token (a warehouse, a carrier, a restock)
    FAILED = "FAILED"  # a failure here: caught (the path goes on), or the end of the execution
    STOPPED = "STOPPED"  # entered, not left, and the execution has ended (aborted, timed out)


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


class Step(Model):
    """One entry into a state, in the order the execution entered them."""

    state: str = Field(description="The state's name in the definition")
    type: str = Field(description="Task, Choice, Map, Succeed, Fail, ...")
    enteredAt: str
    exitedAt: str | None = None
    outcome: StepOutcome
    iteration: int | None = Field(default=None, description="The Map iteration (item index) it ran in")
    attempts: int = Field(default=0, description="Task attempts (retries included); 0 for other states")
    caught: bool = Field(default=False, description="It failed, and a Catch led the path on")
    error: str | None = Field(default=None, description="The last failure's error name")
    cause: str | None = Field(default=None, description="The last failure's cause, shortened")


class Execution(Model):
    executionArn: str
    status: ExecutionStatus
    startedAt: str
    stoppedAt: str | None = None
    error: str | None = None
    cause: str | None = None


class WorkflowView(Model):
    orderId: str
    stateMachineArn: str
    definition: dict[str, Any] = Field(description="The state machine's ASL, as deployed")
    execution: Execution | None = Field(
        description="The order's execution; null when none was started (e.g. rejected at intake)"
    )
    path: list[Step] = Field(description="Every state entered, in order")
    waitingIn: list[str] = Field(description="The states waiting for a task token now")
    failedIn: list[str] = Field(description="The states a failure happened in (caught or not)")
    truncated: bool = Field(
        default=False, description="The history had more events than were read: the path is its start"
    )
