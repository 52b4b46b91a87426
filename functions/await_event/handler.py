"""Workflow steps AwaitShipment and AwaitDelivery, for one fulfillment (invoked with a task token)."""

from shared.logic.fulfillment import park
from shared.models.steps import AwaitInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(
    AwaitInput, lambda step: park(step.orderId, step.fulfillmentId, step.awaiting, step.taskToken)
)
