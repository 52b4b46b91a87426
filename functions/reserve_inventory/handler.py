"""Workflow step ReserveInventory: a backordered order sourced again after a restock woke it."""

from shared.api import workflow_handler
from shared.logic.outcomes import reserve_or_raise
from shared.models.steps import StepInput

lambda_handler = workflow_handler(StepInput, lambda step: reserve_or_raise(step.orderId))
