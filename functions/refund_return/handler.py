"""Return workflow step Refund."""

from shared.logic.refund_ledger import refund_return
from shared.models.return_steps import RefundResult, ReturnStepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: RefundResult.model_validate(refund_return(step.returnId))
)
