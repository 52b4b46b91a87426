"""Workflow steps AwaitShipment and AwaitDelivery, for one fulfillment (invoked with a task token)."""

from shared.api import workflow_handler
from shared.logic.fulfillment import park
from shared.models.steps import AwaitInput

lambda_handler = workflow_handler(
    AwaitInput, lambda step: park(step.orderId, step.fulfillmentId, step.awaiting, step.taskToken)
)
