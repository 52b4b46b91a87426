"""Return workflow steps CheckExchange and CheckExchangeAtOnce."""

from shared.api import workflow_handler
from shared.logic.return_steps import check_exchange
from shared.models.return_steps import ExchangeResult, ReturnStepInput

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: ExchangeResult.model_validate(check_exchange(step.returnId))
)
