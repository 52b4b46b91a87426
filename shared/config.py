"""What a handler learns from its environment (filled from blueprint/ by CDK and by the local runtime)."""

from __future__ import annotations

import os

from shared.errors import TransientError


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        # A deployment bug, not a client error; retrying will not help but it must be loud.
        raise TransientError(f"environment variable {name} is not set")
    return value


def orders_table() -> str:
    return required("ORDERS_TABLE")


def inventory_table() -> str:
    return required("INVENTORY_TABLE")


def channels_table() -> str:
    return required("CHANNELS_TABLE")


def idempotency_table() -> str:
    return required("IDEMPOTENCY_TABLE")


def order_workflow_arn() -> str:
    return required("ORDER_WORKFLOW_ARN")


def workflow_timings() -> dict[str, int]:
    """Execution input the ASL reads through TimeoutSecondsPath / HeartbeatSecondsPath."""
    return {
        "fulfillmentTimeoutSeconds": int(required("FULFILLMENT_TIMEOUT_SECONDS")),
        "fulfillmentHeartbeatSeconds": int(required("FULFILLMENT_HEARTBEAT_SECONDS")),
        "deliveryTimeoutSeconds": int(required("DELIVERY_TIMEOUT_SECONDS")),
    }


def backorder_day_seconds() -> int:
    """How long a day of a channel's `backorders.maxWaitDays` lasts: 86400, shorter in tests."""
    return int(os.environ.get("BACKORDER_DAY_SECONDS") or 86400)


def deliveries_table() -> str:
    return required("DELIVERIES_TABLE")


def event_bus_name() -> str:
    return required("EVENT_BUS_NAME")


def tracking_providers_table() -> str:
    return required("TRACKING_PROVIDERS_TABLE")


def returns_table() -> str:
    return required("RETURNS_TABLE")


def return_workflow_arn() -> str:
    return required("RETURN_WORKFLOW_ARN")


def return_timings() -> dict[str, int]:
    """The return workflow's execution input: how long it waits for the goods, and how often it
    looks whether its exchange order was reserved."""
    return {
        "receiptTimeoutSeconds": int(required("RETURN_RECEIPT_TIMEOUT_SECONDS")),
        "exchangePollSeconds": int(required("EXCHANGE_POLL_SECONDS")),
    }


def console_api_key_secret() -> str:
    """The ARN (locally the name) of the secret holding the console's API key."""
    return required("CONSOLE_API_KEY_SECRET")


def staff_pool() -> tuple[str, str, str] | None:
    """(issuer, JWKS URL, app client id) of the staff user pool; None where there is none (locally)."""
    names = ("STAFF_POOL_ISSUER", "STAFF_POOL_JWKS_URL", "STAFF_POOL_CLIENT_ID")
    issuer, jwks_url, client_id = (os.environ.get(name, "") for name in names)
    return (issuer, jwks_url, client_id) if issuer and jwks_url and client_id else None


def tracking_link_key_secret() -> str:
    """The ARN (locally the name) of the secret holding the tracking links' signing key."""
    return required("TRACKING_LINK_KEY_SECRET")


def subscriptions_table() -> str:
    return required("SUBSCRIPTIONS_TABLE")


def webhook_deliveries_queue_url() -> str:
    return required("WEBHOOK_DELIVERIES_QUEUE_URL")


def analytics_table() -> str:
    return required("ANALYTICS_TABLE")
