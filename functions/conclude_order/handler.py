"""Workflow step ConcludeOrder: every fulfillment ended; the order's outcome (shared/logic/outcomes.py)."""

from shared.logic.outcomes import conclude_or_raise
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: conclude_or_raise(step.orderId))
