"""Workflow step AwaitRestock, for a backordered order (invoked with a task token)."""

from shared.logic.backorders import park
from shared.models.steps import AwaitRestockInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(AwaitRestockInput, lambda step: park(step.orderId, step.taskToken))
