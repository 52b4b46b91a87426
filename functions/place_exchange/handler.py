"""Return workflow steps PlaceExchange and PlaceExchangeAtOnce."""

from shared.logic.return_steps import place_exchange
from shared.models.return_steps import ExchangeResult, ReturnStepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: ExchangeResult.model_validate(place_exchange(step.returnId))
)
