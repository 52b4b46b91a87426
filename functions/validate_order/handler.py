"""Workflow step ValidateOrder."""

from shared.logic.validation import validate
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: validate(step.orderId))
