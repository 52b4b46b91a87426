"""Return workflow step AwaitReceipt (invoked with a task token)."""

from shared.logic.return_steps import park
from shared.models.return_steps import AwaitReturnInput, ParkedReturn
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    AwaitReturnInput, lambda step: ParkedReturn.model_validate(park(step.returnId, step.taskToken))
)
