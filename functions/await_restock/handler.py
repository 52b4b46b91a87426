"""Workflow step AwaitRestock, for a backordered order (invoked with a task token)."""

from shared.api import workflow_handler
from shared.logic.backorders import park
from shared.models.steps import AwaitRestockInput

lambda_handler = workflow_handler(AwaitRestockInput, lambda step: park(step.orderId, step.taskToken))
