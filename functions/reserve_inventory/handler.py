"""Workflow step ReserveInventory."""

from shared.api import workflow_handler
from shared.logic.reservation import reserve
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: reserve(step.orderId))
