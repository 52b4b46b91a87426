"""Workflow step ReserveInventory."""

from shared.logic.reservation import reserve
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: reserve(step.orderId))
