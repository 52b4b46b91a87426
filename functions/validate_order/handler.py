"""Workflow step ValidateOrder."""

from shared.api import workflow_handler
from shared.logic.validation import validate
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: validate(step.orderId))
