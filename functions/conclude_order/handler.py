"""Workflow step ConcludeOrder: every fulfillment ended; the order's outcome."""

from shared.api import workflow_handler
from shared.logic.compensation import conclude
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: conclude(step.orderId))
