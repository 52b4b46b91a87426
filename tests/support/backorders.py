"""Looking at backorders from outside: the workflow's state and the waiting lists, through the AWS
endpoint as an operator would."""

from __future__ import annotations

import time
from typing import Any

from local.runtime import LocalOMS


def wait_for_state(oms: LocalOMS, order_id: str, state: str, timeout: float = 10.0) -> bool:
    """Whether the order's execution is in (or last entered) `state` within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if oms.last_state(order_id) == state:
            return True
        time.sleep(0.05)
    return False


def waiting_for(oms: LocalOMS, sku: str) -> list[dict[str, Any]]:
    """The waiting-list items of `sku` (order ids, oldest first)."""
    table = oms.deployment.table_names["Inventory"]
    reply = oms.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"BACKORDER#{sku}"}},
    )
    return [
        {"orderId": item["orderId"]["S"], "quantity": int(item["quantity"]["N"])} for item in reply["Items"]
    ]
