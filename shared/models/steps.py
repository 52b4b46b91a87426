"""The contract between the order workflow's ASL and its step handlers.

Each Task state sends a payload that a step's input model reads, and keeps fields of the step's
result model (ResultSelector); Choice states test `outcome`, whose values are `StepOutcome` members.
`STATES` names the models of every Task state; tests/infrastructure/test_step_contract.py checks
the ASL against it (payload fields, selected fields, every value a Choice tests).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.models.base import Model


class StepOutcome(StrEnum):
    VALID = "VALID"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    RESERVED = "RESERVED"
    BACKORDERED = "BACKORDERED"
    PARKED = "PARKED"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"  # a backorder waited past its channel's limit


class StepInput(Model):
    model_config = ConfigDict(extra="forbid")
    orderId: str


class FulfillmentStepInput(StepInput):
    fulfillmentId: str


class AwaitInput(FulfillmentStepInput):
    awaiting: Literal["SHIPPED", "DELIVERED"]
    taskToken: str


class AwaitRestockInput(StepInput):
    taskToken: str


class CompensateInput(StepInput):
    outcome: Literal[StepOutcome.CANCELLED, StepOutcome.FAILED, StepOutcome.EXPIRED]
    # The States error caught by the Catch that led here: {"Error": ..., "Cause": ...}.
    error: dict[str, Any] | None = None
    # Given: compensate only this fulfillment (its branch of the Map state ended early).
    fulfillmentId: str | None = None


class StepResult(Model):
    outcome: StepOutcome
    reasons: list[dict[str, Any]] = []

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ValidationResult(StepResult):
    outcome: Literal[StepOutcome.VALID, StepOutcome.REJECTED, StepOutcome.CANCELLED]


class ReservationResult(StepResult):
    outcome: Literal[
        StepOutcome.RESERVED, StepOutcome.BACKORDERED, StepOutcome.REJECTED, StepOutcome.CANCELLED
    ]
    # One per shipment of the plan; the workflow waits on each (a Map state over them).
    fulfillmentIds: list[str] = []
    # BACKORDERED: how long the workflow waits for stock before the order expires (at least 1).
    waitSeconds: int = 0


class ParkedResult(StepResult):
    outcome: Literal[StepOutcome.PARKED]


class CompensationResult(StepResult):
    outcome: Literal[StepOutcome.CANCELLED, StepOutcome.FAILED]
    releasedUnits: int
    fulfillmentId: str | None = None


class ConclusionResult(StepResult):
    outcome: Literal[StepOutcome.DELIVERED, StepOutcome.CANCELLED, StepOutcome.FAILED]
    # Why a FAILED order failed (the Fail state's cause); empty otherwise.
    cause: str = ""


# What a waiting task is resumed with (SendTaskSuccess output) once its fulfillment reports.
class FulfillmentReport(Model):
    fulfillmentId: str
    status: Literal["SHIPPED", "DELIVERED"]
    carrier: str | None = None
    trackingNumber: str | None = None


# What a backordered order's waiting task is resumed with when a restock wakes it.
class RestockReport(Model):
    orderId: str
    restocked: str


# Task state -> (input model, result model). A waitForTaskToken state's result is what it is
# resumed with; the step's own return value is discarded by Step Functions.
STATES: dict[str, tuple[type[StepInput], type[BaseModel]]] = {
    "AcceptOrder": (StepInput, ReservationResult),
    "ReserveInventory": (StepInput, ReservationResult),
    "AwaitShipment": (AwaitInput, FulfillmentReport),
    "AwaitDelivery": (AwaitInput, FulfillmentReport),
    "ReleaseCancelledFulfillment": (CompensateInput, CompensationResult),
    "ReleaseFailedFulfillment": (CompensateInput, CompensationResult),
    "ConcludeOrder": (StepInput, ConclusionResult),
    "AwaitRestock": (AwaitRestockInput, RestockReport),
    "ExpireBackorder": (CompensateInput, CompensationResult),
    "Compensate": (CompensateInput, CompensationResult),
}
