"""Workflow step ValidateOrder."""

from shared.api import workflow_handler
from shared.logic.validation import validate

lambda_handler = workflow_handler(lambda event: validate(event["orderId"]))
