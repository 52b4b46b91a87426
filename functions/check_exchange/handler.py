"""Return workflow steps CheckExchange and CheckExchangeAtOnce."""

from shared.logic.return_steps import check_exchange
from shared.models.return_steps import ExchangeResult, ReturnStepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: ExchangeResult.model_validate(check_exchange(step.returnId))
)
