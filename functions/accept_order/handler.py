"""Workflow step AcceptOrder: a new order validated, sourced and reserved (shared/logic/outcomes.py)."""

from shared.logic.outcomes import accept
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: accept(step.orderId))
