"""Return workflow step Restock."""

from shared.api import workflow_handler
from shared.logic.return_steps import restock
from shared.models.return_steps import RestockResult, ReturnStepInput

lambda_handler = workflow_handler(
    ReturnStepInput, lambda step: RestockResult.model_validate(restock(step.returnId))
)
