"""Workflow step ConcludeOrder: every fulfillment ended; the order's outcome (shared/logic/outcomes.py)."""

from shared.api import workflow_handler
from shared.logic.outcomes import conclude_or_raise
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: conclude_or_raise(step.orderId))
