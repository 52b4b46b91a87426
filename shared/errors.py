"""Errors the OMS raises on purpose. Each maps to one HTTP status and a stable error code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class OmsError(Exception):
    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(OmsError):
    status_code = 400
    code = "VALIDATION_ERROR"


class Unauthorized(OmsError):
    status_code = 401
    code = "UNAUTHORIZED"


class NotFound(OmsError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(OmsError):
    status_code = 409
    code = "CONFLICT"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


class NotAllowed(OmsError):
    """Well-formed, but a business rule refuses it (e.g. a return outside the channel's policy);
    `details.reasons` lists each rule broken with a stable code."""

    status_code = 422
    code = "NOT_ALLOWED"


class PayloadTooLarge(OmsError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class TransientError(Exception):
    """A failure worth retrying (the workflow's Retry matches this class name)."""


class OrderCancelled(Exception):
    """The order was cancelled while a workflow step ran (the workflow's Catch matches this name)."""


# The order workflow's other outcomes than going on: its steps raise them, and a Catch in the ASL
# routes each by its name, so the path most orders take needs no Choice state (shared/logic/outcomes.py).
class OrderRejected(Exception):
    """The order broke a business rule or its channel's sourcing rules; the message says which."""


class OrderBackordered(Exception):
    """Not enough stock now. The message is the seconds to wait for a restock: the ASL reads it."""


class FulfillmentFailed(Exception):
    """Part of the order never shipped or arrived; the message is the cause (the Fail state's)."""


# Raised for the workflow to route: outcomes, not faults.
WORKFLOW_OUTCOMES = (OrderRejected, OrderCancelled, OrderBackordered, FulfillmentFailed)


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message without pydantic's "Value error, " prefix on our own validators."""
    return str(error["msg"]).removeprefix("Value error, ")
