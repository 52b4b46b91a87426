"""Workflow steps Compensate and ReleaseCancelled."""

from shared.api import workflow_handler
from shared.logic.compensation import compensate

lambda_handler = workflow_handler(
    lambda event: compensate(event["orderId"], event["outcome"], event.get("error"))
)
