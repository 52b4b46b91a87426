"""Workflow steps Compensate (the whole order), ReleaseCancelledFulfillment and
ReleaseFailedFulfillment (one fulfillment)."""

from shared.api import workflow_handler
from shared.logic.compensation import compensate
from shared.models.steps import CompensateInput

lambda_handler = workflow_handler(
    CompensateInput, lambda step: compensate(step.orderId, step.outcome, step.error, step.fulfillmentId)
)
