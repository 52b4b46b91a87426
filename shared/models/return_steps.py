"""The contract between the return workflow's ASL and its step handlers (as shared/models/steps.py
is for the order workflow): an input and a result model per Task state, and every value a Choice
state tests. tests/infrastructure/test_step_contract.py checks the ASL against it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.models.base import Model
from shared.models.returns import ExchangeOutcome, Resolution, ReturnStatus


class ReturnStepInput(Model):
    model_config = ConfigDict(extra="forbid")
    returnId: str


class AwaitReturnInput(ReturnStepInput):
    taskToken: str


class ConcludeReturnInput(ReturnStepInput):
    outcome: Literal["CLOSED", "EXPIRED", "REFUND_FAILED", "FAILED"]
    # The States error caught by the Catch that led here: {"Error": ..., "Cause": ...}.
    error: dict[str, Any] | None = None


class ReturnStepResult(Model):
    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ParkedReturn(ReturnStepResult):
    outcome: Literal["PARKED"]


class RestockResult(ReturnStepResult):
    # EXCHANGE: an exchange is still to be placed; REFUND: go on to the refund (for a placed
    # exchange, only a price difference in the customer's favour).
    resolution: Resolution


class ExchangeResult(ReturnStepResult):
    outcome: ExchangeOutcome


class RefundResult(ReturnStepResult):
    outcome: Literal["SUCCEEDED", "MANUAL"]
    total: str


class ConclusionResult(ReturnStepResult):
    outcome: Literal["CLOSED", "EXPIRED", "REFUND_FAILED", "FAILED"]
    status: ReturnStatus


# What AwaitReceipt is resumed with once the warehouse reports.
class ReceiptReport(Model):
    returnId: str
    receivedAt: str


RETURN_STATES: dict[str, tuple[type[ReturnStepInput], type[BaseModel]]] = {
    "PlaceExchangeAtOnce": (ReturnStepInput, ExchangeResult),
    "CheckExchangeAtOnce": (ReturnStepInput, ExchangeResult),
    "AwaitReceipt": (AwaitReturnInput, ReceiptReport),
    "Restock": (ReturnStepInput, RestockResult),
    "PlaceExchange": (ReturnStepInput, ExchangeResult),
    "CheckExchange": (ReturnStepInput, ExchangeResult),
    "Refund": (ReturnStepInput, RefundResult),
    "RecordRefundFailure": (ConcludeReturnInput, ConclusionResult),
    "CloseReturn": (ConcludeReturnInput, ConclusionResult),
    "ExpireReturn": (ConcludeReturnInput, ConclusionResult),
    "RecordReturnFailure": (ConcludeReturnInput, ConclusionResult),
}


class ReturnTimings(Model):
    receiptTimeoutSeconds: int
    exchangePollSeconds: int


class ReturnExecutionInput(Model):
    """What a return's execution starts with (shared/workflow.py `start_return`)."""

    returnId: str
    orderId: str
    shipExchangeAtOnce: bool
    timings: ReturnTimings
