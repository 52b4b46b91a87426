"""Return workflow steps CloseReturn, ExpireReturn, RecordRefundFailure and RecordReturnFailure."""

from shared.logic.return_steps import conclude
from shared.models.return_steps import ConcludeReturnInput, ConclusionResult
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    ConcludeReturnInput,
    lambda step: ConclusionResult.model_validate(conclude(step.returnId, step.outcome, step.error)),
)
