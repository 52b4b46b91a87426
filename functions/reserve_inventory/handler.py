"""Workflow step ReserveInventory."""

from shared.api import workflow_handler
from shared.logic.reservation import reserve

lambda_handler = workflow_handler(lambda event: reserve(event["orderId"]))
