"""Return workflow step Restock."""

from shared.logic.return_steps import restock
from shared.models.return_steps import RestockResult, ReturnStepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: RestockResult.model_validate(restock(step.returnId))
)
