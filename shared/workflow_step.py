"""The Lambda entry point every workflow step shares: the state's input read by the step's model, its
typed result returned as JSON. Kept apart from `shared/api.py`, so a step never imports the API's
resolver, OpenAPI and validation machinery (a cold start pays for every module it imports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel

from shared.ids import order_id_of_return
from shared.observability import correlate_with_order, lambda_entry

StepInputT = TypeVar("StepInputT", bound=BaseModel)


class _Payload(Protocol):
    def payload(self) -> dict[str, Any]: ...


def workflow_handler(
    input_model: type[StepInputT], step: Callable[[StepInputT], _Payload]
) -> Callable[[dict[str, Any], Any], Any]:
    """The Lambda entry point of a workflow step: the ASL's payload read by the step's input model
    (shared/models/steps.py), the order id as correlation id, the typed result returned as JSON."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        correlate_with_order(event.get("orderId") or order_id_of_return(str(event.get("returnId", ""))))
        return step(parse(event=event, model=input_model)).payload()

    return lambda_entry(lambda_handler)
