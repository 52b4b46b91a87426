"""Workflow steps Compensate (the whole order), ReleaseCancelledFulfillment and
ReleaseFailedFulfillment (one fulfillment)."""

from shared.logic.compensation import compensate
from shared.models.steps import CompensateInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    CompensateInput, lambda step: compensate(step.orderId, step.outcome, step.error, step.fulfillmentId)
)
