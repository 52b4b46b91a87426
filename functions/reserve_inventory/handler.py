"""Workflow step ReserveInventory: a backordered order sourced again after a restock woke it."""

from shared.logic.outcomes import reserve_or_raise
from shared.models.steps import StepInput
from shared.workflow_step import workflow_handler

lambda_handler = workflow_handler(StepInput, lambda step: reserve_or_raise(step.orderId))
