"""Workflow step ConcludeOrder: every fulfillment ended; the order's outcome."""

from shared.logic.compensation import conclude
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: conclude(step.orderId))
