"""Return workflow step Refund."""

from shared.api import workflow_handler
from shared.logic.refund_ledger import refund_return
from shared.models.return_steps import RefundResult, ReturnStepInput

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: RefundResult.model_validate(refund_return(step.returnId))
)
