"""Workflow step AcceptOrder: a new order validated, sourced and reserved (shared/logic/outcomes.py)."""

from shared.api import workflow_handler
from shared.logic.outcomes import accept
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: accept(step.orderId))
