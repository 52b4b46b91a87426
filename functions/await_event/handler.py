"""Workflow steps AwaitShipment and AwaitDelivery (invoked with a task token)."""

from shared.api import workflow_handler
from shared.logic.fulfillment import park

lambda_handler = workflow_handler(lambda event: park(event["orderId"], event["awaiting"], event["taskToken"]))
